/**
 * Located access to a parsed YAML (or JSON) document: every value read from a policy keeps the
 * file:line:column of the node it came from, so each problem points at the text to fix.
 * Readers report problems into a shared ProblemList and return undefined instead of throwing, so one
 * run finds as many mistakes as possible.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
  type YAMLError,
} from 'yaml';
import type { SourceLocation } from './ir.js';
import type { ProblemList } from './problems.js';
import { didYouMean } from './suggest.js';

/** A scalar for messages: its value, or what kind of thing stood there instead. */
function describeScalar(value: unknown): string {
  if (value === undefined) return 'a list or mapping';
  if (value === null) return 'nothing';
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** A mapping entry: its key node (for "unknown key" errors) and value node (null when the YAML left it empty). */
export interface YamlField {
  readonly key: Node;
  readonly value: Node | null;
}

export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly lines: LineCounter,
    private readonly document: Document,
    readonly problems: ProblemList,
  ) {}

  /**
   * Parses YAML text; integers stay exact (bigint) so 0xffffffffffffffff is not rounded.
   * Returns undefined after recording the syntax errors (located) when the text is not one valid document.
   */
  static parse(text: string, file: string, problems: ProblemList): YamlSource | undefined {
    const lines = new LineCounter();
    const document = parseDocument(text, {
      intAsBigInt: true,
      keepSourceTokens: true,
      lineCounter: lines,
      prettyErrors: false,
    });
    const source = new YamlSource(file, lines, document, problems);
    // Warnings (unknown tags, ...) mean the document may not say what its author thinks: fail closed.
    const errors: readonly YAMLError[] = [...document.errors, ...document.warnings];
    for (const error of errors) problems.add(`YAML: ${error.message}`, source.offsetLocation(error.pos[0]));
    return errors.length === 0 ? source : undefined;
  }

  /** The document's top-level node, or null for an empty document. */
  get root(): Node | null {
    return this.deref(this.document.contents as Node | null);
  }

  /** Where a node starts; a missing node falls back to the start of the file. */
  location(node: Node | null | undefined): SourceLocation {
    return this.offsetLocation(node?.range?.[0] ?? 0);
  }

  private offsetLocation(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  report(node: Node | null | undefined, message: string, hint?: string): void {
    this.problems.add(message, this.location(node), hint);
  }

  /** Follows an alias (`*anchor`) to the node it names. */
  deref(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    return isAlias(node) ? (node.resolve(this.document) ?? null) : node;
  }

  /** The raw value of a scalar node (string, bigint, number, boolean, null), or undefined for a collection. */
  scalar(node: Node | null): unknown {
    const target = this.deref(node);
    return isScalar(target) ? target.value : undefined;
  }

  /**
   * A scalar's value for argument parsing: integers as they were written (so `0755`, which YAML reads
   * as decimal 755, can be refused as ambiguous C octal), anything else as YAML parsed it.
   */
  valueAsWritten(node: Node | null): unknown {
    const target = this.deref(node);
    if (!isScalar(target)) return undefined;
    const written = (target as Scalar.Parsed).srcToken?.source;
    return typeof target.value === 'bigint' && written !== undefined ? written : target.value;
  }

  /**
   * The entries of a mapping, checking every key against `allowed`: an unknown key (often a typo such
   * as `arg:` for `args:`) is an error, because ignoring it could silently weaken the policy.
   */
  fields(node: Node | null, what: string, allowed: readonly string[]): Map<string, YamlField> | undefined {
    const target = this.deref(node);
    if (!isMap(target)) {
      this.report(node, `${what} must be a mapping`);
      return undefined;
    }
    const fields = new Map<string, YamlField>();
    for (const pair of target.items) {
      const key = pair.key as Node;
      const name = this.scalar(key);
      if (typeof name !== 'string' || !allowed.includes(name)) {
        const hint = didYouMean(String(name), allowed) ?? `allowed keys: ${allowed.join(', ')}`;
        this.report(key, `unknown key '${String(name)}' in ${what}`, hint);
        continue;
      }
      fields.set(name, { key, value: this.deref(pair.value as Node | null) });
    }
    return fields;
  }

  /** A non-empty string scalar. */
  text(node: Node | null, what: string): string | undefined {
    const value = this.scalar(node);
    if (typeof value !== 'string' || value.trim() === '') {
      this.report(node, `${what} must be a non-empty string`);
      return undefined;
    }
    return value;
  }

  /** A sequence's items (aliases followed). */
  list(node: Node | null, what: string): readonly (Node | null)[] | undefined {
    const target = this.deref(node);
    if (!isSeq(target)) {
      this.report(node, `${what} must be a list`);
      return undefined;
    }
    return target.items.map((item) => this.deref(item as Node | null));
  }

  /** A list of non-empty strings; a single string is accepted where `allowSingle` (e.g. `extends: ./base.yaml`). */
  textList(
    node: Node | null,
    what: string,
    allowSingle = false,
  ): readonly { readonly text: string; readonly node: Node | null }[] | undefined {
    const target = this.deref(node);
    if (allowSingle && isScalar(target) && typeof target.value === 'string') {
      const text = this.text(target, what);
      return text === undefined ? undefined : [{ text, node: target }];
    }
    const items = this.list(node, what);
    if (items === undefined) return undefined;
    const texts: { text: string; node: Node | null }[] = [];
    for (const item of items) {
      const text = this.text(item, `each entry of ${what}`);
      if (text !== undefined) texts.push({ text, node: item });
    }
    return texts;
  }

  /** An integer scalar within [min, max]. */
  integer(node: Node | null, what: string, min: number, max: number): number | undefined {
    const value = this.scalar(node);
    if (typeof value !== 'bigint' || value < BigInt(min) || value > BigInt(max)) {
      this.report(node, `${what} must be an integer ${min}..${max}, got ${describeScalar(value)}`);
      return undefined;
    }
    return Number(value);
  }
}
