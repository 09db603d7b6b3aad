/**
 * Parsing one policy file (one layer) into located, validated pieces. Layering (`extends`) and merging
 * happen in resolve.ts; this module never reads other files. Every mistake is recorded with its
 * file:line:column and parsing continues, so one run reports all of them.
 */
import { basename } from 'node:path';
import type { Node } from 'yaml';
import { parseArch, ARCHES, isKnownSyscall, type Arch } from '../syscalls/arch.js';
import { expandGroup, groupNames } from '../syscalls/groups.js';
import { ALL_SYSCALL_NAMES } from '../syscalls/tables.generated.js';
import type { Action } from './action.js';
import { parseActionText } from './action-text.js';
import type {
  ArgCondition,
  ArgOp,
  FilesystemRules,
  NetworkRules,
  PolicyMetadata,
  PolicyRule,
  RuleTier,
  SourceLocation,
} from './ir.js';
import type { ProblemList } from './problems.js';
import { hasLineBreaking } from './plain-text.js';
import { didYouMean } from './suggest.js';
import { parseValue, type ValueWidth } from './values.js';
import { YamlSource, type YamlField } from './yaml-source.js';

/** An `extends` entry as written, with where it was written (for missing-file and cycle errors). */
export interface ExtendsReference {
  readonly path: string;
  readonly location: SourceLocation;
}

/** One policy file after parsing, before layering: settings it leaves out are undefined. */
export interface PolicyLayer {
  readonly file: string;
  readonly name: string;
  /** Where the layer's `name` (or, without one, the document) starts. */
  readonly location: SourceLocation;
  readonly extends: readonly ExtendsReference[];
  readonly architectures?: readonly Arch[];
  readonly defaultAction?: Action;
  readonly unknownAction?: Action;
  readonly badArchAction?: Action;
  readonly rules: readonly PolicyRule[];
  readonly filesystem?: FilesystemRules;
  readonly network?: NetworkRules;
  readonly metadata?: PolicyMetadata;
}

const TOP_LEVEL_KEYS = [
  '$schema',
  'name',
  'extends',
  'architectures',
  'defaultAction',
  'unknownAction',
  'badArchAction',
  'metadata',
  'rules',
  'filesystem',
  'network',
] as const;
const RULE_KEYS = ['syscalls', 'action', 'args', 'reason', 'tier', 'expires', 'ticket'] as const;
const CONDITION_KEYS = ['index', 'op', 'value', 'mask', 'width'] as const;
const METADATA_KEYS = ['owner', 'version', 'lastReview', 'reviewInterval', 'description'] as const;
const FILESYSTEM_KEYS = ['read', 'write', 'execute'] as const;
const NETWORK_KEYS = ['bindTcp', 'connectTcp'] as const;
const ARG_OPS: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
const RULE_TIERS: readonly RuleTier[] = ['required', 'tolerated'];
const MAX_ARG_INDEX = 5;
const MAX_PORT = 65535;
/** Review intervals: a count of days, weeks, months or years ("90d", "12w", "6m", "1y"). */
const REVIEW_INTERVAL = /^[1-9][0-9]*[dwmy]$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `{ key: value }` when the value is defined, else `{}`: absent settings stay absent rather than undefined-valued. */
function entry<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Parses the text of one policy file. Returns undefined when the text is not valid YAML; otherwise the
 * layer with every valid part (problems with the rest are in `problems`, so callers must check it).
 */
export function parseLayer(text: string, file: string, problems: ProblemList): PolicyLayer | undefined {
  const source = YamlSource.parse(text, file, problems);
  return source === undefined ? undefined : new LayerParser(source).parse();
}

/** Parses one layer's document; a class only so the source and layer name need not be threaded through. */
class LayerParser {
  private layerName = '';

  constructor(private readonly source: YamlSource) {}

  /** The policy's name: exported into other tools' comments and labels, so one printable line. */
  private policyName(value: Node | null): string | undefined {
    const name = this.source.text(value, 'name');
    if (name === undefined || !hasLineBreaking(name)) return name;
    this.source.report(
      value,
      'name must not contain control characters or line breaks',
      'use a plain one-line name',
    );
    return undefined;
  }

  parse(): PolicyLayer {
    const root = this.source.root;
    const fields = this.source.fields(root, 'a policy', TOP_LEVEL_KEYS) ?? new Map<string, YamlField>();
    const nameField = fields.get('name');
    const name = this.required(fields, 'name', root, 'the policy', (value) => this.policyName(value));
    // Rules still need a layer name for messages when `name` is missing (that problem is already recorded).
    this.layerName = name ?? basename(this.source.file);
    if (fields.has('$schema')) this.source.text(fields.get('$schema')?.value ?? null, '$schema');
    return {
      file: this.source.file,
      name: this.layerName,
      location: this.source.location(nameField?.value ?? root),
      extends: this.extendsReferences(fields.get('extends')),
      ...entry('architectures', this.architectures(fields.get('architectures'))),
      ...entry('defaultAction', this.action(fields.get('defaultAction'), 'defaultAction')),
      ...entry('unknownAction', this.action(fields.get('unknownAction'), 'unknownAction')),
      ...entry('badArchAction', this.action(fields.get('badArchAction'), 'badArchAction')),
      rules: this.rules(fields.get('rules')),
      ...entry('filesystem', this.filesystem(fields.get('filesystem'))),
      ...entry('network', this.network(fields.get('network'))),
      ...entry('metadata', this.metadata(fields.get('metadata'))),
    };
  }

  private extendsReferences(field: YamlField | undefined): readonly ExtendsReference[] {
    if (field === undefined) return [];
    const entries = this.source.textList(field.value, 'extends', true) ?? [];
    return entries.map(({ text, node }) => ({ path: text, location: this.source.location(node) }));
  }

  private architectures(field: YamlField | undefined): readonly Arch[] | undefined {
    if (field === undefined) return undefined;
    const entries = this.source.textList(field.value, 'architectures');
    if (entries === undefined) return undefined;
    if (entries.length === 0) {
      this.source.report(field.value, 'architectures must list at least one ABI');
      return undefined;
    }
    const arches: Arch[] = [];
    for (const { text, node } of entries) {
      const arch = parseArch(text);
      if (arch === undefined) {
        this.source.report(node, `unknown architecture '${text}'`, `known: ${ARCHES.join(', ')}`);
      } else if (!arches.includes(arch)) {
        arches.push(arch);
      }
    }
    return arches.length > 0 ? arches : undefined;
  }

  private action(field: YamlField | undefined, what: string): Action | undefined {
    return field === undefined ? undefined : this.actionValue(field.value, what);
  }

  private actionValue(node: Node | null, what: string): Action | undefined {
    const text = this.source.text(node, what);
    if (text === undefined) return undefined;
    const location = this.source.location(node);
    return this.source.problems.attempt(() => parseActionText(text, location));
  }

  private rules(field: YamlField | undefined): readonly PolicyRule[] {
    if (field === undefined) return [];
    const items = this.source.list(field.value, 'rules') ?? [];
    const rules: PolicyRule[] = [];
    for (const item of items) {
      const rule = this.rule(item);
      if (rule !== undefined) rules.push(rule);
    }
    return rules;
  }

  /** One rule; undefined (with problems recorded) if any part of it is invalid. */
  private rule(node: Node | null): PolicyRule | undefined {
    const before = this.source.problems.items.length;
    const fields = this.source.fields(node, 'a rule', RULE_KEYS);
    if (fields === undefined) return undefined;
    const selectors = this.required(fields, 'syscalls', node, 'a rule', (value) => this.selectors(value));
    const action = this.required(fields, 'action', node, 'a rule', (value) =>
      this.actionValue(value, 'action'),
    );
    const reason = this.required(
      fields,
      'reason',
      node,
      'a rule',
      (value) => this.source.text(value, 'reason'),
      'every rule says why the workload needs it, so reviewers can judge it',
    );
    const conditions = this.conditions(fields.get('args'));
    const tier = this.tier(fields.get('tier'));
    const expires = this.date(fields.get('expires'), 'expires');
    const ticket = this.optionalText(fields.get('ticket'), 'ticket');
    const complete = this.source.problems.items.length === before;
    if (!complete || selectors === undefined || action === undefined || reason === undefined)
      return undefined;
    return {
      syscalls: selectors.syscalls,
      selectors: selectors.written,
      action,
      conditions,
      reason,
      tier,
      ...entry('expires', expires),
      ...entry('ticket', ticket),
      layer: this.layerName,
      location: this.source.location(node),
    };
  }

  /** Reads a required key with `read`, reporting its absence at the containing node. */
  private required<T>(
    fields: ReadonlyMap<string, YamlField>,
    key: string,
    container: Node | null,
    what: string,
    read: (value: Node | null) => T | undefined,
    hint?: string,
  ): T | undefined {
    const field = fields.get(key);
    if (field === undefined) {
      this.source.report(container, `${what} is missing '${key}'`, hint);
      return undefined;
    }
    return read(field.value);
  }

  /** Syscall names and @groups; groups are expanded, names deduplicated in declaration order. */
  private selectors(
    node: Node | null,
  ): { syscalls: readonly string[]; written: readonly string[] } | undefined {
    const entries = this.source.textList(node, 'syscalls');
    if (entries === undefined) return undefined;
    if (entries.length === 0) {
      this.source.report(node, 'syscalls must list at least one syscall or @group');
      return undefined;
    }
    const names = new Set<string>();
    for (const { text, node: entry } of entries) {
      for (const name of this.expandSelector(text, entry)) names.add(name);
    }
    return { syscalls: [...names], written: entries.map((entry) => entry.text) };
  }

  private expandSelector(selector: string, node: Node | null): readonly string[] {
    if (selector.startsWith('@')) {
      const members = expandGroup(selector);
      if (members === undefined)
        this.source.report(node, `unknown syscall group '${selector}'`, didYouMean(selector, groupNames()));
      return members ?? [];
    }
    if (!isKnownSyscall(selector)) {
      this.source.report(node, `unknown syscall '${selector}'`, didYouMean(selector, ALL_SYSCALL_NAMES));
      return [];
    }
    return [selector];
  }

  private conditions(field: YamlField | undefined): readonly ArgCondition[] {
    if (field === undefined) return [];
    const items = this.source.list(field.value, 'args') ?? [];
    const conditions: ArgCondition[] = [];
    for (const item of items) {
      const condition = this.condition(item);
      if (condition !== undefined) conditions.push(condition);
    }
    return conditions;
  }

  private condition(node: Node | null): ArgCondition | undefined {
    const what = 'an argument condition';
    const fields = this.source.fields(node, what, CONDITION_KEYS);
    if (fields === undefined) return undefined;
    const index = this.required(fields, 'index', node, what, (value) =>
      this.source.integer(value, 'arg index', 0, MAX_ARG_INDEX),
    );
    const op = this.required(fields, 'op', node, what, (value) => this.oneOf(value, 'op', ARG_OPS));
    const width = this.width(fields.get('width'));
    const value = this.required(fields, 'value', node, what, (v) => this.value(v, width, 'value'));
    const mask = this.mask(fields, op, width, node);
    if (index === undefined || op === undefined || value === undefined) return undefined;
    if (op === 'masked_eq' && mask === undefined) return undefined;
    if (mask !== undefined && (value & ~mask) !== 0n) {
      // (arg & mask) can never equal such a value: the rule would silently never match.
      this.source.report(
        fields.get('value')?.value ?? node,
        'value has bits outside mask, so the condition can never hold',
      );
      return undefined;
    }
    return { index: index as ArgCondition['index'], op, value, ...entry('mask', mask), width };
  }

  /** `mask` is required for masked_eq and meaningless (so an error) for every other op. */
  private mask(
    fields: ReadonlyMap<string, YamlField>,
    op: ArgOp | undefined,
    width: ValueWidth,
    node: Node | null,
  ): bigint | undefined {
    const field = fields.get('mask');
    if (op === 'masked_eq' && field === undefined) {
      this.source.report(node, "op masked_eq needs a 'mask'");
      return undefined;
    }
    if (field === undefined) return undefined;
    if (op !== 'masked_eq') {
      this.source.report(field.key, `'mask' is only valid with op masked_eq, not ${op ?? 'this op'}`);
      return undefined;
    }
    return this.value(field.value, width, 'mask');
  }

  private width(field: YamlField | undefined): ValueWidth {
    if (field === undefined) return 64;
    const width = this.source.scalar(field.value);
    if (width === 32n || width === 64n) return Number(width) as ValueWidth;
    this.source.report(field.value, 'width must be 32 or 64');
    return 64;
  }

  private value(node: Node | null, width: ValueWidth, what: string): bigint | undefined {
    const raw = this.source.valueAsWritten(node);
    if (typeof raw !== 'string' && typeof raw !== 'bigint' && typeof raw !== 'number') {
      this.source.report(node, `${what} must be an integer, a constant name or A|B`);
      return undefined;
    }
    const location = this.source.location(node);
    return this.source.problems.attempt(() => parseValue(raw, width, location));
  }

  private oneOf<T extends string>(node: Node | null, what: string, allowed: readonly T[]): T | undefined {
    const text = this.source.scalar(node);
    if (typeof text === 'string' && (allowed as readonly string[]).includes(text)) return text as T;
    this.source.report(
      node,
      `${what} must be one of ${allowed.join(', ')}`,
      didYouMean(String(text), allowed),
    );
    return undefined;
  }

  private tier(field: YamlField | undefined): RuleTier {
    if (field === undefined) return 'required';
    return this.oneOf(field.value, 'tier', RULE_TIERS) ?? 'required';
  }

  private optionalText(field: YamlField | undefined, what: string): string | undefined {
    return field === undefined ? undefined : this.source.text(field.value, what);
  }

  /** An ISO calendar date (YYYY-MM-DD) that exists: 2027-02-30 is rejected, not rolled over. */
  private date(field: YamlField | undefined, what: string): string | undefined {
    const text = this.optionalText(field, what);
    if (text === undefined) return undefined;
    const match = ISO_DATE.exec(text);
    const parsed = match ? new Date(`${text}T00:00:00Z`) : undefined;
    if (
      parsed === undefined ||
      Number.isNaN(parsed.getTime()) ||
      parsed.toISOString().slice(0, 10) !== text
    ) {
      this.source.report(field?.value ?? null, `${what} must be a date written YYYY-MM-DD, got '${text}'`);
      return undefined;
    }
    return text;
  }

  private filesystem(field: YamlField | undefined): FilesystemRules | undefined {
    if (field === undefined) return undefined;
    const fields = this.source.fields(field.value, 'filesystem', FILESYSTEM_KEYS);
    if (fields === undefined) return undefined;
    return {
      read: this.paths(fields.get('read'), 'filesystem.read'),
      write: this.paths(fields.get('write'), 'filesystem.write'),
      execute: this.paths(fields.get('execute'), 'filesystem.execute'),
    };
  }

  /** Absolute paths only: a relative Landlock path would depend on the enforcer's working directory. */
  private paths(field: YamlField | undefined, what: string): readonly string[] {
    if (field === undefined) return [];
    const entries = this.source.textList(field.value, what) ?? [];
    const paths: string[] = [];
    for (const { text, node } of entries) {
      if (text.startsWith('/')) paths.push(text);
      else this.source.report(node, `${what} path '${text}' must be absolute`);
    }
    return paths;
  }

  private network(field: YamlField | undefined): NetworkRules | undefined {
    if (field === undefined) return undefined;
    const fields = this.source.fields(field.value, 'network', NETWORK_KEYS);
    if (fields === undefined) return undefined;
    return {
      bindTcp: this.ports(fields.get('bindTcp'), 'network.bindTcp'),
      connectTcp: this.ports(fields.get('connectTcp'), 'network.connectTcp'),
    };
  }

  private ports(field: YamlField | undefined, what: string): readonly number[] {
    if (field === undefined) return [];
    const items = this.source.list(field.value, what) ?? [];
    const ports: number[] = [];
    for (const item of items) {
      const port = this.source.integer(item, `${what} port`, 0, MAX_PORT);
      if (port !== undefined) ports.push(port);
    }
    return ports;
  }

  private metadata(field: YamlField | undefined): PolicyMetadata | undefined {
    if (field === undefined) return undefined;
    const fields = this.source.fields(field.value, 'metadata', METADATA_KEYS);
    if (fields === undefined) return undefined;
    const owner = this.optionalText(fields.get('owner'), 'metadata.owner');
    const version = this.version(fields.get('version'));
    const lastReview = this.date(fields.get('lastReview'), 'metadata.lastReview');
    const reviewInterval = this.reviewInterval(fields.get('reviewInterval'));
    const description = this.optionalText(fields.get('description'), 'metadata.description');
    return {
      ...entry('owner', owner),
      ...entry('version', version),
      ...entry('lastReview', lastReview),
      ...entry('reviewInterval', reviewInterval),
      ...entry('description', description),
    };
  }

  /** A version is text; a bare integer (`version: 3`) is accepted as its decimal text. */
  private version(field: YamlField | undefined): string | undefined {
    if (field === undefined) return undefined;
    const raw = this.source.scalar(field.value);
    if (typeof raw === 'bigint') return raw.toString();
    return this.source.text(field.value, 'metadata.version');
  }

  private reviewInterval(field: YamlField | undefined): string | undefined {
    const text = this.optionalText(field, 'metadata.reviewInterval');
    if (text === undefined || REVIEW_INTERVAL.test(text)) return text;
    this.source.report(
      field?.value ?? null,
      `metadata.reviewInterval '${text}' must look like 90d, 12w, 6m or 1y`,
    );
    return undefined;
  }
}
