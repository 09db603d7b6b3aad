/**
 * Which syscalls a policy's whitelist covers, per ABI, for the monitoring exports (auditd rules and
 * Falco rules) that record calls outside it. Shared by auditd.ts and falco.ts.
 *
 * A syscall is whitelisted only when every call of it is allowed by a `required` rule. Syscalls allowed
 * only under argument conditions, or only by a `tolerated` rule, count as outside: monitoring tools
 * either cannot compare arguments the way seccomp does (audit has a0..a3 only, no masked compare of
 * 64-bit values; Falco sees decoded parameters) or should see them anyway, and recording more is the
 * safe side. Callers warn about each such rule.
 */
import type { PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { rulesForSyscall } from '../policy/evaluate.js';
import { syscallEntries, type Arch } from '../syscalls/arch.js';

export interface AbiCoverage {
  readonly arch: Arch;
  /** Syscalls of the ABI's table that are not whitelisted: name and number, ascending by number. */
  readonly outside: ReadonlyArray<readonly [name: string, nr: number]>;
  /** Rules that allow some syscall only under conditions or only as tolerated, with those syscalls. */
  readonly partialRules: ReadonlyMap<PolicyRule, readonly string[]>;
}

/** "rule of layer 'web' (web.yaml:12:5)": how warnings name a policy rule. */
export function describeRule(rule: PolicyRule): string {
  const at = rule.location;
  return `rule of layer '${rule.layer}' (${at.file}:${at.line}:${at.column})`;
}

/** The ABI's syscalls outside the policy's whitelist (every syscall when the policy does not list the ABI). */
export function abiCoverage(policy: ResolvedPolicy, arch: Arch): AbiCoverage {
  const outside: Array<readonly [string, number]> = [];
  const partialRules = new Map<PolicyRule, string[]>();
  const listed = policy.architectures.includes(arch);
  for (const [name, nr] of syscallEntries(arch)) {
    if (!listed) {
      outside.push([name, nr]);
      continue;
    }
    const verdict = whitelistVerdict(policy, name);
    if (verdict.whitelisted) continue;
    outside.push([name, nr]);
    for (const rule of verdict.partial) partialRules.set(rule, [...(partialRules.get(rule) ?? []), name]);
  }
  return { arch, outside, partialRules };
}

interface Verdict {
  readonly whitelisted: boolean;
  /** Allowing rules that do not allow every call (conditional or tolerated). */
  readonly partial: readonly PolicyRule[];
}

/**
 * Walks the syscall's rules in first-match order up to the first unconditional one (or the default
 * action): whitelisted only if every action met there is a required allow.
 */
function whitelistVerdict(policy: ResolvedPolicy, name: string): Verdict {
  const partial: PolicyRule[] = [];
  let everyCallAllowed = true;
  for (const { rule } of rulesForSyscall(policy, name)) {
    const allows = rule.action.kind === 'allow';
    const fullyAllows = allows && rule.tier === 'required';
    if (rule.conditions.length === 0) {
      if (everyCallAllowed && fullyAllows) return { whitelisted: true, partial: [] };
      if (allows) partial.push(rule);
      return { whitelisted: false, partial };
    }
    if (!fullyAllows) everyCallAllowed = false;
    if (allows) partial.push(rule);
  }
  // No unconditional rule: calls no condition matches get the default action.
  if (everyCallAllowed && policy.defaultAction.kind === 'allow') return { whitelisted: true, partial: [] };
  return { whitelisted: false, partial };
}

/**
 * One warning per rule that allows some syscall only under conditions or only as tolerated, saying
 * that every call of those syscalls is recorded `recordedAs` (e.g. "under key sysfence-unlisted").
 */
export function partialRuleWarnings(coverage: AbiCoverage, recordedAs: string): string[] {
  return [...coverage.partialRules].map(([rule, names]) => {
    const how = rule.conditions.length > 0 ? 'only under argument conditions' : 'only as tolerated';
    return `${describeRule(rule)}: ${names.join(', ')} allowed ${how} on ${coverage.arch}; every call is recorded ${recordedAs}`;
  });
}
