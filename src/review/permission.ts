/**
 * What a policy lets through, per syscall name, independent of arguments: `always` when every call
 * passes, `conditionally` when some argument values pass, `never` when none do. "Passes" means the
 * call executes: allow, and log (which allows and records).
 */
import type { Action } from '../policy/action.js';
import { rulesForSyscall } from '../policy/evaluate.js';
import type { PolicyRule, ResolvedPolicy } from '../policy/ir.js';
import { syscallNumber } from '../syscalls/arch.js';

export type Permission = 'always' | 'conditionally' | 'never';

/** True for actions under which the syscall runs. */
export function isPermissive(action: Action): boolean {
  return action.kind === 'allow' || action.kind === 'log';
}

/**
 * Walks the rules naming `syscall` in precedence order (first match wins). A conditional rule decides
 * only some calls; the first unconditional rule, or else the default action, decides the rest.
 */
export function permissionOf(policy: ResolvedPolicy, syscall: string): Permission {
  let somePass = false;
  let someBlocked = false;
  for (const { rule } of rulesForSyscall(policy, syscall)) {
    const passes = isPermissive(rule.action);
    if (rule.conditions.length > 0) {
      somePass ||= passes;
      someBlocked ||= !passes;
      continue;
    }
    return settle(passes, somePass, someBlocked);
  }
  return settle(isPermissive(policy.defaultAction), somePass, someBlocked);
}

function settle(restPasses: boolean, somePass: boolean, someBlocked: boolean): Permission {
  if (restPasses) return someBlocked ? 'conditionally' : 'always';
  return somePass ? 'conditionally' : 'never';
}

/** True when the syscall exists on at least one ABI the policy accepts. */
export function existsForPolicy(policy: ResolvedPolicy, syscall: string): boolean {
  return policy.architectures.some((arch) => syscallNumber(arch, syscall) !== undefined);
}

/** The first rule, in precedence order, that lets `syscall` through (possibly only for some arguments). */
export function permittingRule(policy: ResolvedPolicy, syscall: string): PolicyRule | undefined {
  return rulesForSyscall(policy, syscall).find(({ rule }) => isPermissive(rule.action))?.rule;
}

/** Every syscall named by a permissive rule and existing on one of the policy's ABIs, sorted. */
export function syscallsNamedAsPermitted(policy: ResolvedPolicy): string[] {
  const names = new Set<string>();
  for (const rule of policy.rules) {
    if (!isPermissive(rule.action)) continue;
    for (const name of rule.syscalls) {
      if (existsForPolicy(policy, name) && permissionOf(policy, name) !== 'never') names.add(name);
    }
  }
  return [...names].sort();
}
