/**
 * Which syscall numbers the policy allows whatever their arguments: the eBPF source only counts those
 * in the kernel and sends every other call one by one. A call allowed only for some arguments must be
 * sent (the rules need the arguments to decide), so it is not in the set.
 */
import type { ResolvedPolicy } from '../policy/ir.js';
import { rulesForSyscall } from '../policy/evaluate.js';
import { syscallEntries, type Arch } from '../syscalls/arch.js';

/** True when every call of `name` is allowed, whatever its arguments. */
function alwaysAllowed(policy: ResolvedPolicy, name: string): boolean {
  for (const { rule } of rulesForSyscall(policy, name)) {
    // Rules are tried in order: a conditional allow may not match, so a later rule may still decide.
    if (rule.action.kind !== 'allow') return false;
    if (rule.conditions.length === 0) return true;
  }
  return policy.defaultAction.kind === 'allow';
}

/** The numbers of `arch` the policy allows unconditionally (none when the policy does not list the ABI). */
export function unconditionallyAllowed(policy: ResolvedPolicy, arch: Arch): Set<number> {
  if (!policy.architectures.includes(arch)) return new Set();
  return new Set(syscallEntries(arch).flatMap(([name, nr]) => (alwaysAllowed(policy, name) ? [nr] : [])));
}
