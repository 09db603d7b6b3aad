/**
 * Located reading of a JSON document (an OCI config.json or a Docker seccomp profile): the text must be
 * strict JSON (JSON.parse is the judge), and every value keeps the line:column of its node (the yaml
 * package parses JSON as YAML flow syntax with positions). Integers stay exact as bigint, so 64-bit
 * argument values are never rounded. Readers throw a located PolicyError on the first mistake.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { SourceLocation } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';

/** A JSON object's member: the key node (for messages about the key) and the value node. */
export interface JsonMember {
  readonly key: Node;
  readonly value: Node;
}

const UINT64_MAX = (1n << 64n) - 1n;

export class JsonSource {
  private constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    readonly root: Node,
  ) {}

  /** Parses strict JSON; malformed text is a PolicyError at the offending line:column. */
  static parse(text: string, file: string): JsonSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, intAsBigInt: true, prettyErrors: false });
    const at = (offset: number): SourceLocation => {
      const { line, col } = lines.linePos(offset);
      return { file, line, column: col };
    };
    try {
      JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const offset = /position (\d+)/.exec(message)?.[1];
      const fallback = document.errors[0]?.pos[0] ?? 0;
      throw policyFailure(`malformed JSON: ${message}`, at(offset === undefined ? fallback : Number(offset)));
    }
    const firstError = document.errors[0];
    if (firstError !== undefined)
      throw policyFailure(`malformed JSON: ${firstError.message}`, at(firstError.pos[0]));
    const root = document.contents as Node | null;
    if (root === null) throw policyFailure('empty JSON document', at(0));
    return new JsonSource(file, lines, root);
  }

  /** Where a node starts. */
  location(node: Node): SourceLocation {
    const { line, col } = this.lines.linePos(node.range?.[0] ?? 0);
    return { file: this.file, line, column: col };
  }

  /** The members of a JSON object, by key; `what` names the object in the error when it is not one. */
  members(node: Node, what: string): Map<string, JsonMember> {
    if (!isMap(node)) throw policyFailure(`${what} must be a JSON object`, this.location(node));
    const members = new Map<string, JsonMember>();
    for (const pair of node.items) {
      const key = pair.key as Node;
      const name = isScalar(key) ? key.value : undefined;
      if (typeof name !== 'string') throw policyFailure(`${what} has a non-string key`, this.location(key));
      members.set(name, { key, value: (pair.value as Node | null) ?? key });
    }
    return members;
  }

  /** The items of a JSON array; null reads as an empty array (Go's encoding/json does the same). */
  items(node: Node, what: string): readonly Node[] {
    if (this.isNull(node)) return [];
    if (!isSeq(node)) throw policyFailure(`${what} must be a JSON array`, this.location(node));
    return node.items as Node[];
  }

  /** A JSON string. */
  string(node: Node, what: string): string {
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value !== 'string') throw policyFailure(`${what} must be a string`, this.location(node));
    return value;
  }

  /** A list of strings (null reads as empty). */
  strings(node: Node, what: string): readonly string[] {
    return this.items(node, what).map((item) => this.string(item, `each entry of ${what}`));
  }

  /** An unsigned integer no larger than `max` (default: uint64, what runc's Go types hold). */
  unsigned(node: Node, what: string, max: bigint = UINT64_MAX): bigint {
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value !== 'bigint' || value < 0n || value > max) {
      throw policyFailure(`${what} must be an integer 0..${max}`, this.location(node));
    }
    return value;
  }

  /** True for a JSON null. */
  isNull(node: Node): boolean {
    return isScalar(node) && node.value === null;
  }
}

/** Where an importer's warnings go: the document they point into and the list they are added to. */
export interface JsonWarnings {
  readonly source: JsonSource;
  readonly warnings: string[];
}

/** Adds "file:line:column: message" about `node` to the warnings. */
export function warnAt(context: JsonWarnings, node: Node, message: string): void {
  const at = context.source.location(node);
  context.warnings.push(`${at.file}:${at.line}:${at.column}: ${message}`);
}

/**
 * Warns about each member whose key is not in `known`: the tool the format belongs to ignores unknown
 * members (`ignoredBy` says so, e.g. "seccompiler ignores it too"), and a typo is likely, so say it.
 */
export function warnUnknownKeys(
  context: JsonWarnings,
  members: Map<string, JsonMember>,
  known: readonly string[],
  what: string,
  ignoredBy: string,
): void {
  for (const [key, member] of members) {
    if (!known.includes(key))
      warnAt(context, member.key, `unknown key '${key}' in ${what} is ignored (${ignoredBy})`);
  }
}
