/** Crafted policies and rules shared by the format tests (the exporters' inputs, built in code). */
import type { Action } from '../../src/policy/action.js';
import type { PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';

/** A rule of layer `crafted` (crafted.yaml:7:5) with no conditions; `extra` overrides any field. */
export function craftedRule(
  syscalls: string[],
  action: Action = { kind: 'allow' },
  extra: Partial<PolicyRule> = {},
): PolicyRule {
  return {
    syscalls,
    selectors: syscalls,
    action,
    conditions: [],
    reason: 'test',
    tier: 'required',
    layer: 'crafted',
    location: { file: 'crafted.yaml', line: 7, column: 5 },
    ...extra,
  };
}

/** An x86_64 policy `crafted`: EPERM by default, ENOSYS for unknown numbers, a foreign ABI killed. */
export function craftedPolicy(rules: PolicyRule[], extra: Partial<ResolvedPolicy> = {}): ResolvedPolicy {
  return {
    name: 'crafted',
    architectures: ['x86_64'],
    defaultAction: { kind: 'errno', errno: 1 },
    unknownAction: { kind: 'errno', errno: 38 },
    badArchAction: { kind: 'kill_process' },
    rules,
    layers: [{ name: 'crafted', file: 'crafted.yaml' }],
    ...extra,
  };
}
