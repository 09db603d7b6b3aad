/**
 * Exporting a resolved policy as an OCI runtime-spec `linux.seccomp` object (what runc, crun, Docker,
 * Podman and containerd read). The output must make those runtimes decide every call the way the policy
 * does; where OCI cannot carry something it is said (a warning naming the rule), and where the runtime
 * would let through what the policy stops, the export fails instead.
 *
 * What changes on the way (see oci-import.ts for the runtime semantics): runc skips rules whose action
 * is the default action; libseccomp merges the rules of one syscall instead of trying them in order (an
 * unconditional rule decides everything; overlapping rules with different actions have no defined
 * order); runc ORs the conditions of an entry that compares one argument twice; OCI compares all 64
 * bits of an argument; the runtime alone decides unknown syscall numbers and foreign architectures.
 */
import { actionToRet, formatAction, type Action } from '../policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { policyFailure } from '../policy/problems.js';
import { ARCH_BITS, kernelArch, SCMP_ARCH_NAME } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { RUNC_BAD_ARCH_ACTION } from './oci-import.js';
import { ociActionName, ociOpName } from './oci-names.js';
import { conditionKey, conditionsDisjoint, sameConditions } from './oci-overlap.js';

export interface OciExportResult {
  /** The `linux.seccomp` object as JSON text (2-space indented, trailing newline). */
  readonly json: string;
  readonly warnings: readonly string[];
}

interface OciArg {
  readonly index: number;
  readonly value: bigint;
  readonly valueTwo?: bigint;
  readonly op: string;
}

interface OciSyscall {
  readonly names: string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly OciArg[];
}

/** A rule's contribution to one syscall after the conversions above. */
interface SyscallRule {
  readonly rule: PolicyRule;
  readonly conditions: readonly ArgCondition[];
}

const LOW_32 = 0xffffffffn;

/** Exports the policy as OCI seccomp JSON; throws a PolicyError naming the rule where it cannot be exact. */
export function exportOci(policy: ResolvedPolicy): OciExportResult {
  const warnings: string[] = [];
  if (policy.defaultAction.kind === 'notify') {
    throw policyFailure('OCI runtimes refuse notify as the default action');
  }
  warnings.push(...policyLevelWarnings(policy));
  const converted = new Map<PolicyRule, readonly ArgCondition[]>();
  for (const rule of policy.rules) converted.set(rule, convertConditions(policy, rule, warnings));
  const syscalls = groupEntries(perSyscallRules(policy, converted));
  const defaultName = ociActionName(policy.defaultAction);
  const profile = {
    defaultAction: defaultName.name,
    ...(defaultName.errnoRet === undefined ? {} : { defaultErrnoRet: defaultName.errnoRet }),
    architectures: policy.architectures.map((arch) => SCMP_ARCH_NAME[arch]),
    syscalls,
  };
  return { json: `${stringifyExact(profile)}\n`, warnings };
}

/** "layer (file:line)" for messages about a rule. */
function ruleName(rule: PolicyRule): string {
  const at = rule.location;
  return `rule of layer '${rule.layer}' (${at.file}:${at.line}:${at.column})`;
}

function showAction(action: Action): string {
  return formatAction(action, errnoName);
}

function policyLevelWarnings(policy: ResolvedPolicy): string[] {
  const warnings: string[] = [];
  if (actionToRet(policy.unknownAction) !== actionToRet(policy.defaultAction)) {
    warnings.push(
      `unknownAction ${showAction(policy.unknownAction)} is not carried: OCI has no such setting; runc gives unknown syscall ` +
        `numbers the default action ${showAction(policy.defaultAction)}, or ENOSYS above the highest syscall the profile names`,
    );
  }
  if (actionToRet(policy.badArchAction) !== actionToRet(RUNC_BAD_ARCH_ACTION)) {
    warnings.push(
      `badArchAction ${showAction(policy.badArchAction)} is not carried: runc and libseccomp kill the thread (kill_thread) for ABIs not listed`,
    );
  }
  if (!policy.architectures.some((arch) => kernelArch(arch) === arch)) {
    warnings.push(
      "the runtime always adds the host's native ABI to the filter, so native processes get these rules rather than badArchAction",
    );
  }
  if (policy.filesystem !== undefined || policy.network !== undefined) {
    warnings.push(
      'filesystem and network rules are not carried: OCI seccomp filters syscalls only (use Landlock/AppArmor)',
    );
  }
  for (const rule of policy.rules) {
    if (rule.action.kind === 'trap' && rule.action.data !== 0) {
      warnings.push(
        `${ruleName(rule)}: trap data ${rule.action.data} is not carried: SCMP_ACT_TRAP has none`,
      );
    }
    if (rule.action.kind === 'notify') {
      if (rule.syscalls.includes('write'))
        throw policyFailure('OCI runtimes refuse notify for write', rule.location);
      warnings.push(
        `${ruleName(rule)}: notify needs the runtime's listenerPath (a seccomp agent) to be configured`,
      );
    }
  }
  return warnings;
}

/**
 * The conditions as OCI can carry them. A 32-bit eq / masked_eq becomes masked_eq with the mask cut to
 * 32 bits (exact); other 32-bit comparisons are exact only where every ABI is 32-bit (libseccomp then
 * compares the low word only). Two comparisons of one argument would be ORed by runc: refused.
 */
function convertConditions(
  policy: ResolvedPolicy,
  rule: PolicyRule,
  warnings: string[],
): readonly ArgCondition[] {
  const has64BitAbi = policy.architectures.some((arch) => ARCH_BITS[arch] === 64);
  const has32BitAbi = policy.architectures.some((arch) => ARCH_BITS[arch] === 32);
  const result = rule.conditions.map((condition) => {
    if (has32BitAbi && (condition.value > LOW_32 || (condition.mask ?? 0n) > LOW_32)) {
      warnings.push(
        `${ruleName(rule)}: on 32-bit ABIs libseccomp compares only the low 32 bits of ${condition.value}`,
      );
    }
    if (condition.width === 64 || !has64BitAbi) return { ...condition, width: 64 as const };
    if (condition.op === 'eq' || condition.op === 'masked_eq') {
      warnings.push(
        `${ruleName(rule)}: OCI compares all 64 bits of an argument; the 32-bit ${condition.op} on arg ${condition.index} is exported as masked_eq with mask 0xffffffff`,
      );
      const mask = (condition.mask ?? LOW_32) & LOW_32;
      return {
        index: condition.index,
        op: 'masked_eq' as const,
        mask,
        value: condition.value & mask,
        width: 64 as const,
      };
    }
    throw policyFailure(
      `OCI compares all 64 bits of an argument, so the 32-bit '${condition.op}' on arg ${condition.index} cannot be exported exactly`,
      rule.location,
      'use eq/masked_eq, or width 64 if the upper half of the argument must count',
    );
  });
  const indexes = result.map((condition) => condition.index);
  if (new Set(indexes).size !== indexes.length) {
    throw policyFailure(
      'this rule compares one argument twice; runc turns such an entry into one rule per comparison (OR), not AND',
      rule.location,
      'combine the comparisons into one (e.g. a masked_eq), or split the rule',
    );
  }
  return result;
}

/**
 * For every syscall, the rules the runtime must get so that libseccomp's merged tree decides like the
 * policy's first match: rules hidden behind an earlier unconditional or identical rule are dropped,
 * default-action rules are left out (runc skips them), and anything libseccomp would order differently
 * is an error.
 */
function perSyscallRules(
  policy: ResolvedPolicy,
  converted: ReadonlyMap<PolicyRule, readonly ArgCondition[]>,
): Map<string, SyscallRule[]> {
  const bySyscall = new Map<string, SyscallRule[]>();
  for (const rule of policy.rules) {
    const conditions = converted.get(rule) ?? rule.conditions;
    for (const name of rule.syscalls)
      bySyscall.set(name, [...(bySyscall.get(name) ?? []), { rule, conditions }]);
  }
  const result = new Map<string, SyscallRule[]>();
  for (const [name, rules] of bySyscall)
    result.set(name, runtimeRules(policy.defaultAction, name, reachable(rules)));
  return result;
}

/** Drops rules no call can reach in first-match order (behind an unconditional or identical earlier rule). */
function reachable(rules: readonly SyscallRule[]): SyscallRule[] {
  const kept: SyscallRule[] = [];
  for (const candidate of rules) {
    const hidden = kept.some(
      (earlier) =>
        earlier.conditions.length === 0 || sameConditions(earlier.conditions, candidate.conditions),
    );
    if (!hidden) kept.push(candidate);
  }
  return kept;
}

function isDefault(rule: SyscallRule, defaultAction: Action): boolean {
  return actionToRet(rule.rule.action) === actionToRet(defaultAction);
}

function differ(a: SyscallRule, b: SyscallRule): boolean {
  return actionToRet(a.rule.action) !== actionToRet(b.rule.action);
}

function runtimeRules(defaultAction: Action, name: string, rules: readonly SyscallRule[]): SyscallRule[] {
  const last = rules.at(-1);
  if (last !== undefined && last.conditions.length === 0 && !isDefault(last, defaultAction)) {
    // libseccomp lets an unconditional rule decide every call of the syscall.
    const earlier = rules.slice(0, -1).find((rule) => differ(rule, last));
    if (earlier !== undefined) {
      throw policyFailure(
        `'${name}': this conditional rule (${showAction(earlier.rule.action)}) comes before an unconditional ${showAction(last.rule.action)} ` +
          `(${ruleName(last.rule)}); libseccomp lets the unconditional rule decide every call, so the order cannot be exported`,
        earlier.rule.location,
        'give the syscall one unconditional rule, or make the later rule conditional on the complement',
      );
    }
    return [last];
  }
  rules.forEach((first, i) => {
    for (const second of rules.slice(i + 1)) {
      if (!differ(first, second) || isDefault(second, defaultAction)) continue;
      if (conditionsDisjoint(first.conditions, second.conditions)) continue;
      const why = isDefault(first, defaultAction)
        ? 'runc skips rules with the default action, so the later rule would decide the overlap'
        : 'libseccomp merges overlapping rules of one syscall without first-match order';
      throw policyFailure(
        `'${name}': this rule (${showAction(first.rule.action)}) and a later one with overlapping conditions (${showAction(second.rule.action)}, ` +
          `${ruleName(second.rule)}) cannot be exported in first-match order: ${why}`,
        first.rule.location,
        'make the conditions of rules with different actions disjoint',
      );
    }
  });
  return rules.filter((rule) => !isDefault(rule, defaultAction));
}

/** One OCI entry per distinct (action, conditions), names in policy order. */
function groupEntries(bySyscall: ReadonlyMap<string, readonly SyscallRule[]>): OciSyscall[] {
  const groups = new Map<string, OciSyscall>();
  for (const [name, rules] of bySyscall) {
    for (const { rule, conditions } of rules) {
      const key = `${actionToRet(rule.action)}|${conditions.map(conditionKey).sort().join('&')}`;
      const group = groups.get(key) ?? newEntry(rule.action, conditions);
      if (!group.names.includes(name)) group.names.push(name);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

function newEntry(action: Action, conditions: readonly ArgCondition[]): OciSyscall {
  const { name, errnoRet } = ociActionName(action);
  const args = conditions.map(ociArg);
  return {
    names: [],
    action: name,
    ...(errnoRet === undefined ? {} : { errnoRet }),
    ...(args.length === 0 ? {} : { args }),
  };
}

/** An IR condition in OCI form: masked_eq puts the mask in `value` and the datum in `valueTwo`. */
function ociArg(condition: ArgCondition): OciArg {
  if (condition.op === 'masked_eq') {
    return {
      index: condition.index,
      value: condition.mask ?? 0n,
      valueTwo: condition.value,
      op: ociOpName('masked_eq'),
    };
  }
  return { index: condition.index, value: condition.value, op: ociOpName(condition.op) };
}

/** JSON.stringify with bigints written as exact integers (64-bit values do not fit a double). */
function stringifyExact(value: unknown): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? `${marker}${item}` : item),
    2,
  );
  return text.replace(/"\\u0000bigint:(\d+)"/g, '$1');
}
