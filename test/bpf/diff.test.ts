/**
 * The semantic diff against the reference evaluator: for random policy pairs, the diff names exactly
 * the (ABI, syscall) pairs where `decide` differs on some input of an independent grid, with the actions
 * `decide` gives; policies that decide alike but are written differently diff empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diffPolicies, formatDiffEntry, type DiffEntry } from '../../src/bpf/diff.js';
import { actionsEqual, type Action } from '../../src/policy/action.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ArgCondition, ArgOp, PolicyRule, ResolvedPolicy } from '../../src/policy/ir.js';
import { parsePolicyText } from '../../src/policy/load.js';
import {
  ARCH_BITS,
  ARCHES,
  kernelAbis,
  syscallEntries,
  X32_SYSCALL_BIT,
  type Arch,
} from '../../src/syscalls/arch.js';
import { expandGroup } from '../../src/syscalls/groups.js';

const KERNEL: Arch = 'x86_64';
const ABIS = kernelAbis(KERNEL);
/** Syscalls the random rules name: plain ones, ones missing on some ABI (open, socketcall), risky ones. */
const NAMES = ['read', 'open', 'openat', 'socket', 'ptrace', 'personality', 'socketcall', 'clone'];
const VALUES = [0n, 1n, 2n, 3n, 10n, 0xffn, 0x7e020000n, 0xffffffffn, 0x100000000n, 0xffffffff00000002n];
const OPS: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
const MASK_32 = 0xffffffffn;
const MASK_64 = 0xffffffffffffffffn;

const actionArb: fc.Arbitrary<Action> = fc.constantFrom<Action>(
  { kind: 'allow' },
  { kind: 'log' },
  { kind: 'errno', errno: 1 },
  { kind: 'errno', errno: 38 },
  { kind: 'kill_process' },
  { kind: 'kill_thread' },
  { kind: 'trap', data: 0 },
);

const conditionArb: fc.Arbitrary<ArgCondition> = fc
  .record({
    index: fc.constantFrom<0 | 1>(0, 1),
    op: fc.constantFrom(...OPS),
    width: fc.constantFrom<32 | 64>(32, 64),
    value: fc.constantFrom(...VALUES),
    mask: fc.constantFrom(...VALUES),
  })
  .map(({ index, op, width, value, mask }) => {
    const limit = width === 32 ? MASK_32 : MASK_64;
    return {
      index,
      op,
      width,
      value: value & limit,
      ...(op === 'masked_eq' ? { mask: mask & limit } : {}),
    };
  });

interface RuleShape {
  readonly syscalls: readonly string[];
  readonly action: Action;
  readonly conditions: readonly ArgCondition[];
}

const ruleArb: fc.Arbitrary<RuleShape> = fc.record({
  syscalls: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
  action: actionArb,
  conditions: fc.array(conditionArb, { maxLength: 2 }),
});

interface PolicyShape {
  readonly architectures: readonly Arch[];
  readonly defaultAction: Action;
  readonly unknownAction: Action;
  readonly badArchAction: Action;
  readonly rules: readonly RuleShape[];
}

const policyShapeArb: fc.Arbitrary<PolicyShape> = fc.record({
  architectures: fc.subarray([...ABIS], { minLength: 1 }),
  defaultAction: actionArb,
  unknownAction: actionArb,
  badArchAction: actionArb,
  rules: fc.array(ruleArb, { maxLength: 5 }),
});

function toRule(shape: RuleShape, line: number): PolicyRule {
  return {
    ...shape,
    selectors: shape.syscalls,
    reason: 'generated',
    tier: 'required',
    layer: 'generated',
    location: { file: 'generated.yaml', line, column: 5 },
  };
}

function toPolicy(shape: PolicyShape): ResolvedPolicy {
  return {
    name: 'generated',
    architectures: shape.architectures,
    defaultAction: shape.defaultAction,
    unknownAction: shape.unknownAction,
    badArchAction: shape.badArchAction,
    rules: shape.rules.map((rule, i) => toRule(rule, i + 1)),
    layers: [{ name: 'generated', file: 'generated.yaml' }],
  };
}

/** B: either an unrelated policy or A with one rule's action changed, one rule dropped, or a fallback changed. */
const pairArb: fc.Arbitrary<readonly [PolicyShape, PolicyShape]> = policyShapeArb.chain((a) =>
  fc.oneof(
    policyShapeArb.map((b) => [a, b] as const),
    fc.record({ at: fc.nat(), action: actionArb, drop: fc.boolean() }).map(({ at, action, drop }) => {
      if (a.rules.length === 0) return [a, { ...a, defaultAction: action }] as const;
      const index = at % a.rules.length;
      const rules = drop
        ? a.rules.filter((_, i) => i !== index)
        : a.rules.map((rule, i) => (i === index ? { ...rule, action } : rule));
      return [a, { ...a, rules }] as const;
    }),
    actionArb.map((unknownAction) => [a, { ...a, unknownAction }] as const),
  ),
);

/**
 * The test's own input grid, built without the diff's sampling code: every constant of either policy
 * with its neighbours, masked variants and upper-word variants, combined over arguments 0 and 1.
 */
function argumentGrid(policies: readonly ResolvedPolicy[], abiBits: 32 | 64): bigint[][] {
  const perIndex: [Set<bigint>, Set<bigint>] = [
    new Set([0n, MASK_32, MASK_64]),
    new Set([0n, MASK_32, MASK_64]),
  ];
  for (const condition of policies.flatMap((p) => p.rules.flatMap((r) => r.conditions))) {
    const limit = condition.width === 32 ? MASK_32 : MASK_64;
    const v = condition.value;
    const mask = condition.mask ?? limit;
    const unmasked = limit & ~mask;
    const around = [
      v - 1n,
      v,
      v + 1n,
      limit,
      mask,
      v | unmasked,
      v | (unmasked & -unmasked),
      v ^ (mask & -mask),
    ];
    for (const value of around.filter((x) => x >= 0n && x <= limit)) {
      const set = perIndex[condition.index as 0 | 1];
      set.add(value);
      if (value <= MASK_32) set.add(value | (1n << 32n)).add(value | (MASK_32 << 32n));
    }
  }
  const fits = (value: bigint): boolean => abiBits === 64 || value <= MASK_32;
  const first = [...perIndex[0]].filter(fits);
  const second = [...perIndex[1]].filter(fits);
  return first.flatMap((x) => second.map((y) => [x, y, 0n, 0n, 0n, 0n]));
}

function key(abi: Arch, subject: string): string {
  return `${abi} ${subject}`;
}

/** What `decide` says should be in the diff, as "abi name" / "abi <unknown>" / "abi <bad-arch>" keys. */
function expectedDifferences(a: ResolvedPolicy, b: ResolvedPolicy): Set<string> {
  const expected = new Set<string>();
  const accepted = ARCHES.filter(
    (abi) => ABIS.includes(abi) && (a.architectures.includes(abi) || b.architectures.includes(abi)),
  );
  const ruled = new Set(NAMES);
  for (const abi of accepted) {
    const grid = argumentGrid([a, b], ARCH_BITS[abi]);
    for (const [name, nr] of syscallEntries(abi)) {
      const inputs = ruled.has(name) ? grid : [[0n, 0n, 0n, 0n, 0n, 0n]];
      if (
        inputs.some((args) => !actionsEqual(decide(a, abi, nr, args).action, decide(b, abi, nr, args).action))
      ) {
        expected.add(key(abi, name));
      }
    }
    const unknown = (abi === 'x32' ? [X32_SYSCALL_BIT + 999] : [999, 0xffffffff]).some(
      (nr) => !actionsEqual(decide(a, abi, nr, []).action, decide(b, abi, nr, []).action),
    );
    if (unknown) expected.add(key(abi, '<unknown>'));
  }
  for (const abi of ARCHES.filter((candidate) => !accepted.includes(candidate))) {
    if (!actionsEqual(a.badArchAction, b.badArchAction)) expected.add(key(abi, '<bad-arch>'));
  }
  return expected;
}

function reportedKey(entry: DiffEntry): string {
  switch (entry.subject) {
    case 'syscall':
      return key(entry.abi, entry.syscall ?? '');
    case 'unknown':
      return key(entry.abi, '<unknown>');
    case 'bad-arch':
      return key(entry.abi, '<bad-arch>');
  }
}

/** Every entry's before/after is what `decide` gives at a point the entry names. */
function assertEntryMatchesDecide(entry: DiffEntry, a: ResolvedPolicy, b: ResolvedPolicy): void {
  const nr = entry.numbers[0] as number;
  const points = (entry.args ?? [[]]).flatMap((region) => {
    const low = [0n, 0n, 0n, 0n, 0n, 0n];
    const high = [0n, 0n, 0n, 0n, 0n, 0n];
    for (const range of region) {
      low[range.index] = range.from;
      high[range.index] = range.to;
    }
    return [low, high];
  });
  for (const args of points) {
    const before = decide(a, entry.abi, nr, args).action;
    const after = decide(b, entry.abi, nr, args).action;
    assert.ok(
      actionsEqual(before, entry.before),
      `${formatDiffEntry(entry)}: A decides ${before.kind} at ${args}`,
    );
    assert.ok(
      actionsEqual(after, entry.after),
      `${formatDiffEntry(entry)}: B decides ${after.kind} at ${args}`,
    );
  }
}

test('for random policy pairs the diff reports exactly where the decisions differ', () => {
  fc.assert(
    fc.property(pairArb, ([shapeA, shapeB]) => {
      const a = toPolicy(shapeA);
      const b = toPolicy(shapeB);
      const entries = diffPolicies(a, b, { arch: KERNEL });
      const reported = new Set(entries.map(reportedKey));
      assert.deepEqual([...reported].sort(), [...expectedDifferences(a, b)].sort());
      for (const entry of entries) assertEntryMatchesDecide(entry, a, b);
    }),
    { numRuns: 100, seed: 20260201 },
  );
});

test('a policy diffs empty against itself, and reordering non-overlapping rules changes nothing', () => {
  const disjointRulesArb = fc
    .uniqueArray(fc.constantFrom(...NAMES), { minLength: 2, maxLength: NAMES.length })
    .chain((names) =>
      fc.tuple(
        fc.constant(names),
        fc.array(fc.tuple(actionArb, fc.array(conditionArb, { maxLength: 2 })), {
          minLength: names.length,
          maxLength: names.length,
        }),
      ),
    );
  fc.assert(
    fc.property(policyShapeArb, disjointRulesArb, (shape, [names, bodies]) => {
      const rules = names.map((name, i) => {
        const [action, conditions] = bodies[i] as [Action, ArgCondition[]];
        return { syscalls: [name], action, conditions };
      });
      const forward = toPolicy({ ...shape, rules });
      const backward = toPolicy({ ...shape, rules: [...rules].reverse() });
      assert.deepEqual(diffPolicies(forward, forward, { arch: KERNEL }), []);
      assert.deepEqual(diffPolicies(forward, backward, { arch: KERNEL }), []);
    }),
    { numRuns: 15, seed: 7 },
  );
});

function noExtends(file: string): Promise<string> {
  return Promise.reject(new Error(`no extends expected (${file})`));
}

test('a group and its explicit member list diff empty', async () => {
  const members = expandGroup('@basic-io') ?? [];
  assert.ok(members.length > 5);
  const header =
    'architectures: [x86_64]\ndefaultAction: errno(EPERM)\nunknownAction: errno(ENOSYS)\nbadArchAction: kill_process\n';
  const grouped = await parsePolicyText(
    `name: grouped\n${header}rules:\n  - syscalls: ["@basic-io"]\n    action: allow\n    reason: io\n`,
    'grouped.yaml',
    noExtends,
  );
  const listed = await parsePolicyText(
    `name: listed\n${header}rules:\n  - syscalls: [${[...members].reverse().join(', ')}]\n    action: allow\n    reason: io\n`,
    'listed.yaml',
    noExtends,
  );
  assert.deepEqual(diffPolicies(grouped, listed, { arch: KERNEL }), []);
});

test('argument changes are summarised as ranges of the argument involved', async () => {
  const header =
    'architectures: [x86_64]\ndefaultAction: errno(EPERM)\nunknownAction: errno(ENOSYS)\nbadArchAction: kill_process\n';
  const before = await parsePolicyText(
    `name: a\n${header}rules:\n  - syscalls: [socket]\n    action: allow\n    args: [{ index: 0, op: le, value: 10, width: 32 }]\n    reason: r\n`,
    'a.yaml',
    noExtends,
  );
  const after = await parsePolicyText(
    `name: b\n${header}rules:\n  - syscalls: [socket]\n    action: allow\n    args: [{ index: 0, op: lt, value: 3, width: 32 }]\n    reason: r\n  - syscalls: [ptrace]\n    action: kill_process\n    reason: r\n`,
    'b.yaml',
    noExtends,
  );
  const lines = diffPolicies(before, after, { arch: KERNEL }).map(formatDiffEntry);
  assert.deepEqual(lines, [
    'x86_64 socket(arg0=3..10): allow -> errno(EPERM)',
    'x86_64 ptrace: errno(EPERM) -> kill_process',
  ]);
});
