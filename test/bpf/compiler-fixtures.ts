/**
 * Shared helpers for the compiler's tests: ResolvedPolicy builders, and the two sides every test compares —
 * what the compiled program returns (the emulator) and what the reference evaluator decides.
 */
import type { CompileResult } from '../../src/bpf/compiler.js';
import {
  emulateCounted,
  fillSeccompWords,
  prepareProgram,
  runPrepared,
  type PreparedProgram,
} from '../../src/bpf/emulator.js';
import type { Action } from '../../src/policy/action.js';
import { actionToRet } from '../../src/policy/action.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ArgCondition, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { archForAudit, AUDIT_ARCH, syscallNumber } from '../../src/syscalls/arch.js';

export const ALLOW: Action = { kind: 'allow' };
export const EPERM: Action = { kind: 'errno', errno: 1 };
export const ENOSYS: Action = { kind: 'errno', errno: 38 };
export const KILL: Action = { kind: 'kill_process' };
export const TRAP: Action = { kind: 'trap', data: 0 };
export const ZERO_ARGS: readonly bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];

/** A rule as the resolver would produce it. */
export function rule(
  syscalls: readonly string[],
  action: Action,
  conditions: readonly ArgCondition[] = [],
): PolicyRule {
  return {
    syscalls,
    selectors: syscalls,
    action,
    conditions,
    reason: 'test',
    tier: 'required',
    layer: 'test',
    location: { file: 'test.yaml', line: 1, column: 1 },
  };
}

/** A policy with test defaults: errno(EPERM) by default, ENOSYS for unknown numbers, kill on a bad arch. */
export function policyOf(
  rules: readonly PolicyRule[],
  overrides: Partial<ResolvedPolicy> = {},
): ResolvedPolicy {
  return {
    name: 'test',
    architectures: ['x86_64', 'x32', 'i386'],
    defaultAction: EPERM,
    unknownAction: ENOSYS,
    badArchAction: KILL,
    rules,
    layers: [{ name: 'test', file: 'test.yaml' }],
    ...overrides,
  };
}

/** The reference evaluator's return value for this input, restricted to the ABIs the program covers. */
export function expectedRet(
  policy: ResolvedPolicy,
  result: CompileResult,
  auditArch: number,
  nr: number,
  args: readonly bigint[],
): number {
  const abi = archForAudit(auditArch, nr);
  if (abi === undefined || !result.abis.includes(abi)) return actionToRet(policy.badArchAction);
  return actionToRet(decide(policy, abi, nr, args).action);
}

/** Runs one compiled program over many inputs without allocating per run. */
export class ProgramRunner {
  private readonly prepared: PreparedProgram;
  private readonly words = new Uint32Array(16);

  constructor(private readonly result: CompileResult) {
    this.prepared = prepareProgram(result.program);
  }

  /** The 32-bit filter return. */
  ret(auditArch: number, nr: number, args: readonly bigint[] = ZERO_ARGS): number {
    fillSeccompWords(this.words, { arch: auditArch, nr, args }, this.result.bigEndian);
    return runPrepared(this.prepared, this.words) >>> 0;
  }

  /** Instructions executed for this input. */
  executed(auditArch: number, nr: number, args: readonly bigint[] = ZERO_ARGS): number {
    this.ret(auditArch, nr, args);
    return this.prepared.executed;
  }
}

/** Instructions executed for a named syscall of an ABI (zero arguments). */
export function pathLength(result: CompileResult, abi: Arch, name: string): number {
  const nr = syscallNumber(abi, name);
  if (nr === undefined) throw new Error(`${name} has no number on ${abi}`);
  return emulateCounted(
    result.program,
    { arch: AUDIT_ARCH[abi], nr, args: ZERO_ARGS },
    { bigEndian: result.bigEndian },
  ).executed;
}

/** 32-bit argument condition. */
export function cond32(
  index: ArgCondition['index'],
  op: ArgCondition['op'],
  value: bigint,
  mask?: bigint,
): ArgCondition {
  return op === 'masked_eq'
    ? { index, op, value, mask: mask ?? 0xffffffffn, width: 32 }
    : { index, op, value, width: 32 };
}

/** 64-bit argument condition. */
export function cond64(
  index: ArgCondition['index'],
  op: ArgCondition['op'],
  value: bigint,
  mask?: bigint,
): ArgCondition {
  return op === 'masked_eq'
    ? { index, op, value, mask: mask ?? 0xffffffffffffffffn, width: 64 }
    : { index, op, value, width: 64 };
}
