/**
 * Shared set-up for the oracle tests: the libseccomp peer must be installed (a missing peer fails the
 * test with the install hint, it never skips), and small builders for IR rules and policies.
 */
import type { Action } from '../../src/policy/action.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { libseccompUnavailable } from '../../bench/peers/libseccomp.js';

/** Throws with the install hint when /usr/bin/python3 cannot import seccomp. */
export function requireLibseccomp(): void {
  const missing = libseccompUnavailable();
  if (missing !== undefined) throw new Error(`the libseccomp oracle is not available: ${missing}`);
}

let ruleLine = 0;

/** An IR rule for tests; each gets its own synthetic source line so messages can name it. */
export function rule(
  syscalls: readonly string[],
  action: Action,
  conditions: readonly ArgCondition[] = [],
): PolicyRule {
  ruleLine++;
  return {
    syscalls,
    selectors: syscalls,
    action,
    conditions,
    reason: 'oracle test',
    tier: 'required',
    layer: 'oracle',
    location: { file: 'oracle.yaml', line: ruleLine, column: 3 },
  };
}

/** A 64-bit condition. */
export function cond(
  index: ArgCondition['index'],
  op: ArgCondition['op'],
  value: bigint,
  mask?: bigint,
): ArgCondition {
  return { index, op, value, width: 64, ...(mask === undefined ? {} : { mask }) };
}

export interface PolicyShape {
  readonly architectures?: readonly Arch[];
  readonly defaultAction: Action;
  readonly unknownAction?: Action;
  readonly badArchAction?: Action;
  readonly rules: readonly PolicyRule[];
}

/** A resolved policy with the given actions and rules (unknownAction defaults to defaultAction). */
export function policyOf(shape: PolicyShape): ResolvedPolicy {
  return {
    name: 'oracle',
    architectures: shape.architectures ?? ['x86_64', 'x32', 'i386'],
    defaultAction: shape.defaultAction,
    unknownAction: shape.unknownAction ?? shape.defaultAction,
    badArchAction: shape.badArchAction ?? { kind: 'kill_process' },
    rules: shape.rules,
    layers: [{ name: 'oracle', file: 'oracle.yaml' }],
  };
}
