/**
 * Exporting a resolved policy as one thread's filter in Firecracker's seccompiler JSON. seccompiler
 * builds the filter with libseccomp, as runc does, so the OCI exporter's analysis decides what can be
 * carried (libseccomp merges a syscall's rules instead of trying them in order; rules with the default
 * action are left out); its warnings apply here too. On top of that seccompiler has a single action for
 * all rules (`filter_action`), one target architecture, and no notify. Where the result would decide
 * differently the export fails naming the rule; where it is only stricter or drops metadata, it warns.
 */
import { parse } from 'yaml';
import { actionToRet, formatAction, type Action } from '../policy/action.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { exportOci } from './oci-export.js';
import { ociAction } from './oci-names.js';
import { stringifyExact } from './spo-json.js';

export interface FirecrackerExportOptions {
  /** The thread category the filter is for (default: the policy's name). */
  readonly thread?: string;
  /** The seccompiler target (default: the policy's first architecture seccompiler supports). */
  readonly arch?: Arch;
}

export interface FirecrackerExportResult {
  /** `{ "<thread>": { default_action, filter_action, filter } }` as JSON text with a trailing newline. */
  readonly text: string;
  /** The seccompiler --target-arch to build it with. */
  readonly arch: Arch;
  readonly warnings: readonly string[];
}

type FirecrackerAction = string | { readonly errno: number } | { readonly trace: number };

interface FirecrackerCondition {
  readonly index: number;
  readonly type: 'dword' | 'qword';
  readonly op: string | { readonly masked_eq: bigint };
  readonly val: bigint;
}

interface FirecrackerRule {
  readonly syscall: string;
  readonly comment?: string;
  readonly args?: readonly FirecrackerCondition[];
}

/** The OCI exporter's output as this module reads it back (every integer a bigint, so 64-bit values stay exact). */
interface OciArgJson {
  readonly index: bigint;
  readonly value: bigint;
  readonly valueTwo?: bigint;
  readonly op: string;
}

interface OciSyscallJson {
  readonly names: readonly string[];
  readonly action: string;
  readonly errnoRet?: bigint;
  readonly args?: readonly OciArgJson[];
}

const TARGET_ARCHES: readonly Arch[] = ['x86_64', 'aarch64', 'riscv64'];
const LOW_32 = 0xffffffffn;
const FIRECRACKER_OPS: Readonly<Record<string, string>> = {
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_GE: 'ge',
};

/** Exports the policy as one seccompiler filter; throws a PolicyError naming the rule where it cannot be exact. */
export function exportFirecracker(
  policy: ResolvedPolicy,
  options: FirecrackerExportOptions = {},
): FirecrackerExportResult {
  const arch = chooseTarget(policy, options.arch);
  const oci = exportOci(policy);
  const warnings = [...oci.warnings, ...archWarnings(policy, arch)];
  const entries = (parse(oci.json, { intAsBigInt: true }) as { syscalls: OciSyscallJson[] }).syscalls;
  const filterAction = singleFilterAction(policy, entries);
  const filter = entries.flatMap((entry) =>
    namesOnTarget(entry, arch, warnings).map((name) => firecrackerRule(policy, name, entry)),
  );
  const thread = options.thread ?? policy.name;
  const document = {
    [thread]: {
      default_action: firecrackerAction(policy.defaultAction, warnings, 'defaultAction'),
      filter_action: firecrackerAction(filterAction ?? fallbackFilterAction(policy), warnings, 'the rules'),
      filter,
    },
  };
  // 4-space indent, as Firecracker's own files.
  return { text: `${stringifyExact(document, 4)}\n`, arch, warnings };
}

function chooseTarget(policy: ResolvedPolicy, wanted: Arch | undefined): Arch {
  const arch = wanted ?? policy.architectures.find((candidate) => TARGET_ARCHES.includes(candidate));
  if (arch === undefined || !TARGET_ARCHES.includes(arch)) {
    throw policyFailure(
      `seccompiler builds for ${TARGET_ARCHES.join(', ')} only; the policy lists ${policy.architectures.join(', ')}`,
    );
  }
  return arch;
}

function archWarnings(policy: ResolvedPolicy, arch: Arch): string[] {
  const others = policy.architectures.filter((candidate) => candidate !== arch);
  if (others.length === 0) return [];
  return [
    `a seccompiler filter covers one target (${arch}); ${others.join(', ')} are not carried and get kill_thread (libseccomp's bad-arch action)`,
  ];
}

/** seccompiler gives every rule the same action: the policy's non-default rules must agree on one. */
function singleFilterAction(policy: ResolvedPolicy, entries: readonly OciSyscallJson[]): Action | undefined {
  const actions = entries.map(entryAction);
  const first = actions[0];
  const other = actions.find((action) => first !== undefined && actionToRet(action) !== actionToRet(first));
  if (first === undefined || other === undefined) return first;
  const rule = policy.rules.find((candidate) => actionToRet(candidate.action) === actionToRet(other));
  throw policyFailure(
    `seccompiler gives every rule one filter_action, but this policy's rules use both ${show(first)} and ${show(other)} (besides the default action)`,
    rule?.location,
    'split the policy into one filter per action, or give these rules the same action',
  );
}

function entryAction(entry: OciSyscallJson): Action {
  const errnoRet = entry.errnoRet === undefined ? undefined : Number(entry.errnoRet);
  const action = ociAction(entry.action, errnoRet);
  if (action === undefined) throw new Error(`the OCI exporter wrote an unknown action ${entry.action}`);
  return action;
}

/** With no rules any filter_action will do, as long as libseccomp would not refuse it. */
function fallbackFilterAction(policy: ResolvedPolicy): Action {
  return policy.defaultAction.kind === 'allow' ? { kind: 'kill_process' } : { kind: 'allow' };
}

function show(action: Action): string {
  return formatAction(action, errnoName);
}

function firecrackerAction(action: Action, warnings: string[], what: string): FirecrackerAction {
  switch (action.kind) {
    case 'allow':
    case 'log':
    case 'kill_thread':
    case 'kill_process':
      return action.kind;
    case 'trap':
      if (action.data !== 0)
        warnings.push(`trap data ${action.data} of ${what} is not carried: seccompiler's trap has none`);
      return 'trap';
    case 'errno':
      return { errno: action.errno };
    case 'trace':
      return { trace: action.data };
    case 'notify':
      throw policyFailure(`seccompiler has no notify action (used by ${what})`);
  }
}

/**
 * The entry's names the target has. seccompiler fails on a name libseccomp cannot resolve for the
 * target (mmap2 on x86_64, from a group), and such a call cannot be made there anyway.
 */
function namesOnTarget(entry: OciSyscallJson, arch: Arch, warnings: string[]): readonly string[] {
  const missing = entry.names.filter((name) => syscallNumber(arch, name) === undefined);
  if (missing.length > 0) {
    warnings.push(`${arch} has no ${missing.join(', ')}: left out (seccompiler cannot name them)`);
  }
  return entry.names.filter((name) => !missing.includes(name));
}

/** One seccompiler rule; the reason of the policy rule it came from becomes its comment. */
function firecrackerRule(policy: ResolvedPolicy, name: string, entry: OciSyscallJson): FirecrackerRule {
  const action = entryAction(entry);
  const source = policy.rules.find(
    (rule) => rule.syscalls.includes(name) && actionToRet(rule.action) === actionToRet(action),
  );
  const args = (entry.args ?? []).map(firecrackerCondition);
  return {
    syscall: name,
    ...(source === undefined ? {} : { comment: source.reason }),
    ...(args.length === 0 ? {} : { args }),
  };
}

/**
 * An OCI condition (all 64 bits) as seccompiler writes it. seccompiler builds a dword eq as masked_eq
 * with mask 0xffffffff, so that exact OCI shape becomes a dword eq; everything else is a qword.
 */
function firecrackerCondition(arg: OciArgJson): FirecrackerCondition {
  const index = Number(arg.index);
  if (arg.op === 'SCMP_CMP_MASKED_EQ') {
    const datum = arg.valueTwo ?? 0n;
    if (arg.value === LOW_32) return { index, type: 'dword', op: 'eq', val: datum };
    return { index, type: 'qword', op: { masked_eq: arg.value }, val: datum };
  }
  const op = FIRECRACKER_OPS[arg.op];
  if (op === undefined) throw new Error(`the OCI exporter wrote an unknown operator ${arg.op}`);
  return { index, type: 'qword', op, val: arg.value };
}
