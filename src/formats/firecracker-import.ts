/**
 * Importing Firecracker's seccompiler JSON (resources/seccomp/<target>.json): an object mapping thread
 * categories (vmm, api, vcpu, ...) to filters `{default_action, filter_action, filter: [{syscall, args}]}`.
 * Each thread becomes one policy, with the decisions seccompiler's libseccomp build makes
 * (src/seccompiler/src/lib.rs and types.rs, the libseccomp-based seccompiler):
 *
 * - Every rule gets `filter_action`; unmatched calls `default_action`. serde ignores unknown members, so a
 *   rule-level `action` (an older seccompiler format) is ignored too: warned, never honoured.
 * - Conditions of a rule are ANDed, rules are ORed; all rules share one action, so libseccomp's merging
 *   equals first-match. Two conditions on one argument in a rule make libseccomp fail (EINVAL).
 * - `eq` on a `dword` is built as masked_eq with mask 0xffffffff (the low word only: width 32); every
 *   other operator compares all 64 bits whatever `type` says. `{"masked_eq": M}` is (arg & M) == val.
 * - The filter holds the target architecture plus the build host's native one (seccomp_init adds it);
 *   other ABIs get libseccomp's default bad-arch action, kill_thread. Unknown numbers get default_action.
 * - A name libseccomp cannot resolve fails the build; a filter_action equal to default_action makes
 *   seccomp_rule_add fail (EACCES).
 */
import { basename } from 'node:path';
import { isScalar, type Node } from 'yaml';
import { actionToRet, MAX_ERRNO, type Action } from '../policy/action.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { hostArch, isKnownSyscall, parseArch, syscallNumber, type Arch } from '../syscalls/arch.js';
import { JsonSource, warnAt, warnUnknownKeys, type JsonMember } from './oci-json.js';

export interface FirecrackerImportOptions {
  /** The seccompiler --target-arch (default: the file name's prefix, e.g. x86_64-unknown-linux-musl, else this host's). */
  readonly arch?: Arch;
}

export interface FirecrackerThreadPolicy {
  readonly thread: string;
  readonly policy: ResolvedPolicy;
}

export interface FirecrackerImportResult {
  /** One policy per thread category, in file order. */
  readonly threads: readonly FirecrackerThreadPolicy[];
  /** What the import could not carry exactly or ignored, one sentence each, naming file:line:col. */
  readonly warnings: readonly string[];
}

/** libseccomp's default SCMP_FLTATR_ACT_BADARCH; seccompiler does not set another. */
export const SECCOMPILER_BAD_ARCH_ACTION: Action = { kind: 'kill_thread' };

/** The targets seccompiler's TargetArch accepts. */
const TARGET_ARCHES: readonly Arch[] = ['x86_64', 'aarch64', 'riscv64'];
const FILTER_KEYS = ['default_action', 'filter_action', 'filter'];
const RULE_KEYS = ['syscall', 'args', 'comment'];
const CONDITION_KEYS = ['index', 'type', 'op', 'val', 'comment'];
const SIMPLE_OPS: Readonly<Record<string, ArgOp>> = {
  eq: 'eq',
  ne: 'ne',
  lt: 'lt',
  le: 'le',
  gt: 'gt',
  ge: 'ge',
};
const LOW_32 = 0xffffffffn;
const U16_MAX = 0xffffn;

interface ThreadContext {
  readonly source: JsonSource;
  readonly thread: string;
  readonly warnings: string[];
}

/** seccompiler ignores unknown members: said in each unknown-key warning. */
const IGNORED_BY_SECCOMPILER = 'seccompiler ignores it too';

/** Imports every thread's filter of a seccompiler JSON file; throws a located PolicyError where seccompiler would fail. */
export function importFirecracker(
  text: string,
  file: string,
  options: FirecrackerImportOptions = {},
): FirecrackerImportResult {
  const source = JsonSource.parse(text, file);
  const arch = options.arch ?? targetFromFileName(file) ?? hostArch();
  if (!TARGET_ARCHES.includes(arch)) {
    throw policyFailure(
      `seccompiler has no target ${arch}`,
      undefined,
      `targets: ${TARGET_ARCHES.join(', ')}`,
    );
  }
  const warnings: string[] = [];
  const threads = [...source.members(source.root, 'the seccompiler file')].map(([thread, member]) => ({
    thread,
    policy: importThread({ source, thread, warnings }, member.value, arch),
  }));
  if (threads.length === 0)
    throw policyFailure('the seccompiler file has no filters', source.location(source.root));
  return { threads, warnings };
}

/** The architecture a Firecracker file name starts with ("aarch64-unknown-linux-musl.json"), if any. */
function targetFromFileName(file: string): Arch | undefined {
  const prefix = /^([a-z0-9_]+)-/.exec(basename(file))?.[1];
  const arch = prefix === undefined ? undefined : parseArch(prefix);
  return arch !== undefined && TARGET_ARCHES.includes(arch) ? arch : undefined;
}

function required(
  context: ThreadContext,
  members: Map<string, JsonMember>,
  key: string,
  node: Node,
  what: string,
): Node {
  const member = members.get(key);
  if (member === undefined) throw policyFailure(`${what} has no ${key}`, context.source.location(node));
  return member.value;
}

function importThread(context: ThreadContext, node: Node, arch: Arch): ResolvedPolicy {
  const what = `filter '${context.thread}'`;
  const members = context.source.members(node, what);
  warnUnknownKeys(context, members, FILTER_KEYS, what, IGNORED_BY_SECCOMPILER);
  const defaultAction = readAction(context, required(context, members, 'default_action', node, what));
  const filterAction = readAction(context, required(context, members, 'filter_action', node, what));
  const items = context.source.items(required(context, members, 'filter', node, what), `${what}.filter`);
  if (items.length > 0 && actionToRet(filterAction) === actionToRet(defaultAction)) {
    throw policyFailure(
      `${what}: filter_action equals default_action; libseccomp refuses such rules (EACCES), so seccompiler fails`,
      context.source.location(node),
    );
  }
  const rules = items.map((item, index) => readRule(context, item, index, filterAction, arch));
  return {
    name: context.thread,
    architectures: [arch],
    defaultAction,
    unknownAction: defaultAction,
    badArchAction: SECCOMPILER_BAD_ARCH_ACTION,
    rules,
    layers: [{ name: context.thread, file: context.source.file }],
  };
}

/** "allow", "trap", "log", "kill_thread", "kill_process", {"errno": N}, {"trace": N} (serde snake_case). */
function readAction(context: ThreadContext, node: Node): Action {
  const source = context.source;
  const hint = 'actions: allow, trap, log, kill_thread, kill_process, {"errno": N}, {"trace": N}';
  if (source.isNull(node)) throw policyFailure('an action may not be null', source.location(node), hint);
  if (!isString(node)) {
    const members = source.members(node, 'an action');
    const [entry, ...rest] = [...members];
    if (entry === undefined || rest.length > 0)
      throw policyFailure('an action object must have exactly one key', source.location(node), hint);
    const [key, member] = entry;
    const data = Number(source.unsigned(member.value, `${key} data`, U16_MAX));
    if (key === 'errno') return { kind: 'errno', errno: Math.min(data, MAX_ERRNO) };
    if (key === 'trace') return { kind: 'trace', data };
    throw policyFailure(`unknown action '${key}'`, source.location(member.key), hint);
  }
  const name = source.string(node, 'an action');
  switch (name) {
    case 'allow':
      return { kind: 'allow' };
    case 'trap':
      return { kind: 'trap', data: 0 };
    case 'log':
      return { kind: 'log' };
    case 'kill_thread':
      return { kind: 'kill_thread' };
    case 'kill_process':
      return { kind: 'kill_process' };
    default:
      throw policyFailure(`unknown action '${name}'`, source.location(node), hint);
  }
}

function readRule(context: ThreadContext, node: Node, index: number, action: Action, arch: Arch): PolicyRule {
  const source = context.source;
  const what = `${context.thread}.filter[${index}]`;
  const members = source.members(node, what);
  const rulesAction = members.get('action');
  if (rulesAction !== undefined) {
    warnAt(
      context,
      rulesAction.key,
      `${what}: a rule-level 'action' is ignored by seccompiler (every rule gets filter_action)`,
    );
    members.delete('action');
  }
  warnUnknownKeys(context, members, RULE_KEYS, what, IGNORED_BY_SECCOMPILER);
  const nameNode = required(context, members, 'syscall', node, what);
  const name = source.string(nameNode, `${what}.syscall`);
  if (syscallNumber(arch, name) === undefined) {
    const why = isKnownSyscall(name) ? `${arch} has no syscall '${name}'` : `unknown syscall '${name}'`;
    throw policyFailure(
      `${why} (libseccomp cannot resolve it, so seccompiler fails)`,
      source.location(nameNode),
    );
  }
  const argsMember = members.get('args');
  const conditions =
    argsMember === undefined
      ? []
      : source
          .items(argsMember.value, `${what}.args`)
          .map((item, i) => readCondition(context, item, `${what}.args[${i}]`));
  const indexes = conditions.map((condition) => condition.index);
  if (new Set(indexes).size !== indexes.length) {
    throw policyFailure(
      `${what} compares one argument twice; libseccomp refuses that (EINVAL), so seccompiler fails`,
      source.location(node),
    );
  }
  const comment = members.get('comment');
  return {
    syscalls: [name],
    selectors: [name],
    action,
    conditions,
    reason:
      comment === undefined
        ? `imported from ${source.file} ${what}`
        : source.string(comment.value, `${what}.comment`),
    tier: 'required',
    layer: context.thread,
    location: source.location(node),
  };
}

function readCondition(context: ThreadContext, node: Node, what: string): ArgCondition {
  const source = context.source;
  const members = source.members(node, what);
  warnUnknownKeys(context, members, CONDITION_KEYS, what, IGNORED_BY_SECCOMPILER);
  const index = Number(
    source.unsigned(required(context, members, 'index', node, what), `${what}.index`, 5n),
  ) as ArgCondition['index'];
  const typeNode = required(context, members, 'type', node, what);
  const type = source.string(typeNode, `${what}.type`);
  if (type !== 'dword' && type !== 'qword')
    throw policyFailure(`${what}.type must be dword or qword`, source.location(typeNode));
  const value = source.unsigned(required(context, members, 'val', node, what), `${what}.val`);
  const opNode = required(context, members, 'op', node, what);
  const mask = readMask(context, opNode, what);
  if (mask !== undefined) {
    if ((value & ~mask) !== 0n)
      warnAt(context, node, `${what}: val has bits outside the mask; libseccomp ignores them`);
    if (type === 'dword')
      warnAt(context, node, `${what}: masked_eq compares all 64 bits; 'dword' has no effect`);
    return { index, op: 'masked_eq', mask, value: value & mask, width: 64 };
  }
  const opName = source.string(opNode, `${what}.op`);
  const op = SIMPLE_OPS[opName];
  if (op === undefined) {
    throw policyFailure(
      `unknown op '${opName}' in ${what}`,
      source.location(opNode),
      'ops: eq, ne, lt, le, gt, ge, {"masked_eq": MASK}',
    );
  }
  if (type === 'qword') return { index, op, value, width: 64 };
  if (op === 'eq') {
    if (value > LOW_32) {
      throw policyFailure(
        `${what}: a dword eq against ${value} (above 32 bits) can never match`,
        source.location(node),
      );
    }
    return { index, op, value, width: 32 };
  }
  warnAt(
    context,
    node,
    `${what}: seccompiler compares all 64 bits for '${opName}' even with type dword (only eq is narrowed); imported as a 64-bit comparison`,
  );
  return { index, op, value, width: 64 };
}

/** The mask of `{"masked_eq": MASK}`, or undefined when the op is a plain string. */
function readMask(context: ThreadContext, opNode: Node, what: string): bigint | undefined {
  const source = context.source;
  if (isString(opNode)) return undefined;
  const members = source.members(opNode, `${what}.op`);
  const masked = members.get('masked_eq');
  if (masked === undefined || members.size !== 1) {
    throw policyFailure(`${what}.op must be a string or {"masked_eq": MASK}`, source.location(opNode));
  }
  return source.unsigned(masked.value, `${what}.op.masked_eq`);
}

/** serde's externally tagged enums: a unit variant is a string, a data variant a one-key object. */
function isString(node: Node): boolean {
  return isScalar(node) && typeof node.value === 'string';
}
