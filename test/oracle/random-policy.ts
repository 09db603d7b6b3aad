/**
 * fast-check arbitraries for policies both sysfence and libseccomp can express (see specFromPolicy): per
 * syscall either one unconditional rule, or conditional rules sharing one action, or rules told apart by
 * an eq on one argument (disjoint) with mixed actions; 64-bit conditions (some width-32 eq, which the
 * converter carries as a low-word masked_eq); at most one condition per argument in a rule; actions and
 * errnos mixed (below 4095, which libseccomp refuses), including rules whose action is the default one.
 */
import fc from 'fast-check';
import type { Action } from '../../src/policy/action.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { InexpressibleForLibseccomp, specFromPolicy } from '../../bench/peers/libseccomp.js';
import { policyOf, rule } from './peer.js';

/**
 * Syscalls libseccomp 2.5.4 knows on every ABI that has them: common ones, i386-only calls, the
 * x86_64-only arch_prctl, and socket/ipc family members (to exercise i386 multiplexing).
 */
export const SYSCALL_POOL: readonly string[] = [
  'read',
  'write',
  'openat',
  'close',
  'mmap',
  'mprotect',
  'ioctl',
  'fcntl',
  'futex',
  'clone',
  'personality',
  'prctl',
  'getppid',
  'getuid',
  'uname',
  'kill',
  'lseek',
  'madvise',
  'arch_prctl',
  'waitpid',
  'socketcall',
  'ipc',
  'socket',
  'connect',
  'sendto',
  'shmget',
  'semop',
  'getrandom',
  'statx',
  'exit_group',
];

const ARG_OPS: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
const ARG_INDEX = fc.constantFrom<ArgCondition['index']>(0, 1, 2, 3, 4, 5);

/** Mostly 32-bit values (so i386 comparisons stay meaningful), some with a high word, some edges. */
const argValue: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 5, arbitrary: fc.bigInt({ min: 0n, max: 64n }) },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffn }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x7fffffffn, 0x80000000n),
  },
);

export const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Action>({ kind: 'allow' }) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 1, max: 4094 }).map<Action>((errno) => ({ kind: 'errno', errno })),
  },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'kill_process' }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'kill_thread' }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'trap', data: 0 }) },
  { weight: 1, arbitrary: fc.constant<Action>({ kind: 'log' }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 0xffff }).map<Action>((data) => ({ kind: 'trace', data })),
  },
);

/** One condition on a given argument. */
function conditionOn(index: ArgCondition['index']): fc.Arbitrary<ArgCondition> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({ op: fc.constantFrom(...ARG_OPS), value: argValue, mask: argValue, outsideMask: fc.nat(9) })
        .map(({ op, value, mask, outsideMask }) =>
          op === 'masked_eq'
            ? // Now and then a value with bits outside the mask: such a rule can never match.
              { index, op, value: outsideMask === 0 ? value : value & mask, mask, width: 64 as const }
            : { index, op, value, width: 64 as const },
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .bigInt({ min: 0n, max: 0xffffffffn })
        .map((value) => ({ index, op: 'eq' as const, value, width: 32 as const })),
    },
  );
}

/** 1..2 conditions on distinct arguments. */
const conditions: fc.Arbitrary<ArgCondition[]> = fc
  .uniqueArray(ARG_INDEX, { minLength: 1, maxLength: 2 })
  .chain((indexes) => fc.tuple(...indexes.map(conditionOn)));

/** A syscall's rules in one of the shapes libseccomp merges the way first-match decides. */
function rulesFor(syscall: string, defaultAction: Action): fc.Arbitrary<PolicyRule[]> {
  const action = fc.oneof(
    { weight: 5, arbitrary: actionArbitrary },
    { weight: 1, arbitrary: fc.constant(defaultAction) },
  );
  const unconditional = action.map((chosen) => [rule([syscall], chosen)]);
  const sameAction = fc
    .tuple(action, fc.array(conditions, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([chosen, conds, closeWithSame]) => [
      ...conds.map((list) => rule([syscall], chosen, list)),
      ...(closeWithSame ? [rule([syscall], chosen)] : []),
    ]);
  const disjoint = fc
    .tuple(
      ARG_INDEX,
      fc.uniqueArray(argValue, { minLength: 2, maxLength: 4 }),
      fc.array(action, { minLength: 4, maxLength: 4 }),
      fc.boolean(),
    )
    .map(([index, values, actions, closeWithDefault]) => [
      ...values.map((value, i) =>
        rule([syscall], actions[i] as Action, [{ index, op: 'eq', value, width: 64 }]),
      ),
      ...(closeWithDefault ? [rule([syscall], defaultAction)] : []),
    ]);
  return fc.oneof(unconditional, sameAction, disjoint);
}

const ARCH_SETS: readonly (readonly Arch[])[] = [
  ['x86_64'],
  ['x86_64', 'x32'],
  ['x86_64', 'i386'],
  ['x86_64', 'x32', 'i386'],
  ['i386'],
];

/**
 * A random policy within what both compilers express; unknownAction equals defaultAction. The shapes
 * above keep each syscall expressible; what they cannot rule out (i386 socketcall/ipc members with mixed
 * actions, which libseccomp collapses onto one multiplexer rule) is filtered with specFromPolicy itself.
 */
export const policyArbitrary: fc.Arbitrary<ResolvedPolicy> = fc
  .record({
    architectures: fc.constantFrom(...ARCH_SETS),
    defaultAction: actionArbitrary,
    badArchAction: fc.constantFrom<Action>(
      { kind: 'kill_process' },
      { kind: 'kill_thread' },
      { kind: 'errno', errno: 38 },
      { kind: 'trap', data: 0 },
    ),
    syscalls: fc.uniqueArray(fc.constantFrom(...SYSCALL_POOL), { minLength: 1, maxLength: 12 }),
  })
  .chain(({ architectures, defaultAction, badArchAction, syscalls }) =>
    fc
      .tuple(...syscalls.map((name) => rulesFor(name, defaultAction)))
      .map((perSyscall) =>
        policyOf({ architectures, defaultAction, badArchAction, rules: perSyscall.flat() }),
      ),
  )
  .filter(expressibleForLibseccomp);

function expressibleForLibseccomp(policy: ResolvedPolicy): boolean {
  try {
    specFromPolicy(policy, { optimize: 2 });
    return true;
  } catch (error) {
    if (error instanceof InexpressibleForLibseccomp) return false;
    throw error;
  }
}
