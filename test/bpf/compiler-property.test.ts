/**
 * The compiler's central property: for random policies, every kernel architecture and a wide spread of
 * inputs (every AUDIT_ARCH and foreign ones; table numbers, their neighbours and the 32-bit edge values;
 * condition boundary arguments with garbage upper words), the compiled program returns exactly what
 * the reference evaluator decides, the program validates, and its cacheable report matches the kernel's
 * cache walk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cacheableSyscalls } from '../../src/bpf/cache.js';
import { compile, CompileError, type CompileResult } from '../../src/bpf/compiler.js';
import { validateProgram } from '../../src/bpf/validate.js';
import type { Action } from '../../src/policy/action.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import type { Arch } from '../../src/syscalls/arch.js';
import { ARCHES, AUDIT_ARCH, kernelAbis, syscallNumber } from '../../src/syscalls/arch.js';
import { ALL_SYSCALL_NAMES } from '../../src/syscalls/tables.generated.js';
import { expectedRet, policyOf, ProgramRunner, rule, ZERO_ARGS } from './compiler-fixtures.js';

const U64_MAX = (1n << 64n) - 1n;
const OPS: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
/** Common names, names with odd numbers on some ABIs, and names that exist only on some ABIs. */
const COMMON_NAMES = [
  'read',
  'write',
  'openat',
  'close',
  'mmap',
  'socket',
  'clone',
  'personality',
  'ioctl',
  'getpid',
  'futex',
  'prctl',
  'execve',
  'kill',
  'ptrace',
  'arch_prctl',
  'socketcall',
  'mmap2',
  'set_tls',
  'breakpoint',
  'restart_syscall',
  'rseq_slice_yield',
  'preadv2',
  'recvmmsg',
  'uretprobe',
];
const EDGE_NUMBERS = [
  0, 1, 0x3fffffff, 0x40000000, 0x40000001, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000, 0xfffffffe,
  0xffffffff, 0x0f0000, 0x0f0005,
];
const FOREIGN_AUDIT_ARCHES = [0, 0xdeadbeef, 0x4000003e /* x86_64 without the 64-bit flag */];

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<Action>(
      { kind: 'allow' },
      { kind: 'errno', errno: 1 },
      { kind: 'kill_process' },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 4095 }).map((errno): Action => ({ kind: 'errno', errno })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Action>({ kind: 'kill_thread' }, { kind: 'log' }, { kind: 'notify' }),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 0xffff }).map((data): Action => ({ kind: 'trap', data })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 0xffff }).map((data): Action => ({ kind: 'trace', data })),
  },
);

function valueArb(width: 32 | 64): fc.Arbitrary<bigint> {
  const max = (1n << BigInt(width)) - 1n;
  const edges = [
    0n,
    1n,
    2n,
    max,
    max - 1n,
    0xffffffffn & max,
    0x100000000n & max,
    0x80000000n,
    1n << BigInt(width - 1),
  ];
  return fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max }));
}

const conditionArb: fc.Arbitrary<ArgCondition> = fc.constantFrom<32 | 64>(32, 64).chain((width) =>
  fc
    .record({
      index: fc.constantFrom<ArgCondition['index']>(0, 1, 2, 3, 4, 5),
      op: fc.constantFrom(...OPS),
      value: valueArb(width),
      mask: valueArb(width),
      keepValueInMask: fc.boolean(),
    })
    .map(({ index, op, value, mask, keepValueInMask }): ArgCondition => {
      if (op !== 'masked_eq') return { index, op, value, width };
      // Mostly satisfiable masks; sometimes value bits outside the mask (a condition that never holds).
      return { index, op, value: keepValueInMask ? value & mask : value, mask, width };
    }),
);

const nameArb = fc.oneof(fc.constantFrom(...COMMON_NAMES), fc.constantFrom(...ALL_SYSCALL_NAMES));

/** A rule over some of the policy's names: few names per policy, so rules overlap and precedence matters. */
function ruleArb(names: readonly string[]): fc.Arbitrary<PolicyRule> {
  return fc
    .record({
      syscalls: fc.uniqueArray(
        fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: nameArb }),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      action: actionArb,
      conditions: fc.oneof(
        { weight: 2, arbitrary: fc.constant([]) },
        { weight: 3, arbitrary: fc.array(conditionArb, { minLength: 1, maxLength: 3 }) },
      ),
    })
    .map(({ syscalls, action, conditions }) => rule(syscalls, action, conditions));
}

const policyArb: fc.Arbitrary<ResolvedPolicy> = fc
  .uniqueArray(nameArb, { minLength: 1, maxLength: 8 })
  .chain((names) =>
    fc.record({
      architectures: fc.subarray([...ARCHES]),
      defaultAction: actionArb,
      unknownAction: actionArb,
      badArchAction: actionArb,
      rules: fc.array(ruleArb(names), { maxLength: 10 }),
    }),
  )
  .map(({ rules, ...rest }) => policyOf(rules, rest));

const profileArb = fc.option(
  fc
    .array(fc.tuple(nameArb, fc.integer({ min: 0, max: 1_000_000 })), { maxLength: 8 })
    .map((pairs) => new Map(pairs)),
  { nil: undefined },
);

/** Argument values that satisfy a condition, and the values around its boundary. */
function boundaryValues(condition: ArgCondition): bigint[] {
  const v = condition.value;
  const around = [v - 1n, v, v + 1n].filter((x) => x >= 0n && x <= U64_MAX);
  if (condition.op === 'masked_eq') {
    const mask = condition.mask ?? U64_MAX;
    const lowestBit = mask & -mask;
    around.push(v | (~mask & U64_MAX), v ^ lowestBit, (v ^ lowestBit) | (~mask & U64_MAX));
  }
  if (condition.width === 64) return around;
  // Only the low word of a 32-bit condition counts: the upper word is garbage the program must ignore.
  return around.flatMap((low) => [0n, 1n, 0xffffffffn].map((high) => (high << 32n) | (low & 0xffffffffn)));
}

function witness(condition: ArgCondition): bigint {
  switch (condition.op) {
    case 'ne':
    case 'gt':
      return condition.value + 1n;
    case 'lt':
      return condition.value === 0n ? 0n : condition.value - 1n;
    default:
      return condition.value;
  }
}

/** Zero arguments, one argument vector satisfying each conditional rule, and its single-argument boundary variants. */
function argumentVectors(policy: ResolvedPolicy): bigint[][] {
  const vectors = new Map<string, bigint[]>([['zero', [...ZERO_ARGS]]]);
  for (const { conditions } of policy.rules) {
    if (conditions.length === 0) continue;
    const satisfying = [...ZERO_ARGS];
    for (const condition of conditions) satisfying[condition.index] = witness(condition);
    vectors.set(satisfying.join(','), satisfying);
    for (const condition of conditions) {
      for (const value of boundaryValues(condition)) {
        const variant = [...satisfying];
        variant[condition.index] = value;
        vectors.set(variant.join(','), variant);
      }
    }
  }
  return [...vectors.values()];
}

/** Syscall numbers worth probing on an ABI: the rules' syscalls and their neighbours, plus edge numbers. */
function probeNumbers(
  policy: ResolvedPolicy,
  abi: Arch | undefined,
  extra: readonly number[],
): { exact: Set<number>; all: Set<number> } {
  const exact = new Set<number>();
  if (abi) {
    for (const { syscalls } of policy.rules) {
      for (const name of syscalls) {
        const nr = syscallNumber(abi, name);
        if (nr !== undefined) exact.add(nr);
      }
    }
  }
  const all = new Set<number>([...EDGE_NUMBERS, ...extra]);
  for (const nr of exact) for (const near of [nr - 1, nr, nr + 1]) all.add(near >>> 0);
  return { exact, all };
}

function checkProgram(policy: ResolvedPolicy, result: CompileResult, extraNumbers: readonly number[]): void {
  validateProgram(result.program);
  const runner = new ProgramRunner(result);
  const vectors = argumentVectors(policy);
  const auditArches = [...new Set(Object.values(AUDIT_ARCH)), ...FOREIGN_AUDIT_ARCHES];
  for (const auditArch of auditArches) {
    const abis = ARCHES.filter((abi) => AUDIT_ARCH[abi] === auditArch && result.abis.includes(abi));
    const probes =
      abis.length === 0
        ? [probeNumbers(policy, undefined, extraNumbers)]
        : abis.map((abi) => probeNumbers(policy, abi, extraNumbers));
    for (const { exact, all } of probes) {
      for (const nr of all) {
        for (const args of exact.has(nr) ? vectors : [[...ZERO_ARGS]]) {
          const got = runner.ret(auditArch, nr, args);
          const want = expectedRet(policy, result, auditArch, nr, args) >>> 0;
          if (got !== want) {
            assert.fail(
              `arch 0x${auditArch.toString(16)} nr 0x${nr.toString(16)} args [${args.join(', ')}]: ` +
                `program returned 0x${got.toString(16)}, evaluator 0x${want.toString(16)}`,
            );
          }
        }
      }
    }
  }
  checkCacheReport(result);
}

/** The compiler's cacheable lists agree with the kernel's cache walk over the emitted program. */
function checkCacheReport(result: CompileResult): void {
  for (const { abi, syscalls } of result.stats.cacheable) {
    const kernel = cacheableSyscalls(result.program, abi);
    const exempt = new Set(kernel.kernelExempt);
    const slotted = syscalls.filter((name) => {
      const nr = syscallNumber(abi, name)!;
      return abi !== 'x32' && !(abi === 'arm' && nr >= 0x0f0000) && !exempt.has(name);
    });
    assert.deepEqual(slotted, kernel.cacheable, `cacheable syscalls of ${abi}`);
  }
}

test('compiled programs decide exactly like the reference evaluator (random policies, every kernel arch)', () => {
  fc.assert(
    fc.property(
      policyArb,
      profileArb,
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 4 }),
      (policy, profile, extra) => {
        for (const arch of ARCHES) {
          const covered = kernelAbis(arch).some((abi) => policy.architectures.includes(abi));
          if (!covered) {
            assert.throws(() => compile(policy, { arch, profile }), CompileError);
            continue;
          }
          checkProgram(policy, compile(policy, { arch, profile }), extra);
        }
      },
    ),
    { numRuns: 120 },
  );
});
