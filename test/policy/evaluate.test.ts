import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import { conditionHolds, decide, ruleMatches, rulesForSyscall } from '../../src/policy/evaluate.js';
import type { ArgCondition, ArgOp, ResolvedPolicy } from '../../src/policy/ir.js';
import { loadPolicy, parsePolicyText } from '../../src/policy/load.js';
import { FIXTURES } from './policy-problems.js';

const NO_ARGS = [0n, 0n, 0n, 0n, 0n, 0n] as const;

function nr(arch: Arch, name: string): number {
  const number = syscallNumber(arch, name);
  assert.ok(number !== undefined, `${name} on ${arch}`);
  return number;
}

function args(...values: bigint[]): bigint[] {
  return [...values, ...NO_ARGS].slice(0, 6);
}

function policyOf(
  rules: string,
  header = 'architectures: [x86_64, x32]\ndefaultAction: errno(EPERM)\n',
): Promise<ResolvedPolicy> {
  return parsePolicyText(`name: eval\n${header}rules:\n${rules}`, 'eval.yaml');
}

test('32-bit conditions look at the low word only; 64-bit at all of it', async () => {
  const policy = await policyOf(
    '  - { syscalls: [socket], action: allow, reason: v4, args: [{ index: 0, op: eq, value: AF_INET, width: 32 }] }\n' +
      '  - { syscalls: [bind], action: allow, reason: v4, args: [{ index: 0, op: eq, value: AF_INET }] }\n',
  );
  const socket = nr('x86_64', 'socket');
  const bind = nr('x86_64', 'bind');
  assert.equal(decide(policy, 'x86_64', socket, args(2n)).decidedBy, 'rule');
  assert.equal(decide(policy, 'x86_64', socket, args(0x1_00000002n)).decidedBy, 'rule', 'upper word ignored');
  assert.equal(decide(policy, 'x86_64', socket, args(3n)).decidedBy, 'default');
  assert.equal(decide(policy, 'x86_64', bind, args(2n)).decidedBy, 'rule');
  assert.equal(decide(policy, 'x86_64', bind, args(0x1_00000002n)).decidedBy, 'default', 'upper word counts');
});

test('i386: low words only; eq constants cut to 32 bits, orderings against wider constants folded', async () => {
  const policy = await policyOf(
    '  - { syscalls: [setuid], action: errno(EPERM), reason: lt, args: [{ index: 0, op: lt, value: 0x100000010 }] }\n' +
      '  - { syscalls: [setgid], action: errno(EPERM), reason: gt, args: [{ index: 0, op: gt, value: 0x100000000 }] }\n' +
      '  - { syscalls: [socket], action: errno(EPERM), reason: eq, args: [{ index: 0, op: eq, value: 38 }] }\n' +
      '  - { syscalls: [personality], action: errno(EPERM), reason: neg, args: [{ index: 0, op: eq, value: -1 }] }\n',
    'architectures: [x86_64, i386]\ndefaultAction: allow\n',
  );
  const on386 = (name: string, value: bigint): string =>
    decide(policy, 'i386', nr('i386', name), args(value)).decidedBy;
  // A 32-bit argument is always below 0x1_00000010 and never above 0x1_00000000.
  assert.equal(on386('setuid', 100n), 'rule', 'lt a wide constant holds for every 32-bit value');
  assert.equal(on386('setuid', 0xffffffffn), 'rule');
  assert.equal(on386('setgid', 0x10n), 'default', 'gt a wide constant never holds');
  // int 0x80 from a 64-bit process: the upper word is junk the syscall never sees.
  assert.equal(on386('socket', 0x1_00000026n), 'rule', 'upper word ignored on i386');
  assert.equal(on386('personality', 0xffffffffn), 'rule', '-1 means 0xffffffff on a 32-bit ABI');
  assert.equal(decide(policy, 'x86_64', nr('x86_64', 'setuid'), args(100n)).decidedBy, 'rule');
});

test('badArch, unknown, rule and default decisions', async () => {
  const policy = await policyOf('  - { syscalls: [read], action: allow, reason: r }\n');
  const read = nr('x86_64', 'read');
  assert.deepEqual(decide(policy, 'aarch64', 63, NO_ARGS), {
    action: { kind: 'kill_process' },
    decidedBy: 'badArch',
  });
  assert.deepEqual(decide(policy, 'x86_64', 4000, NO_ARGS), {
    action: { kind: 'errno', errno: 38 },
    decidedBy: 'unknown',
  });
  // x32 numbers carry 0x40000000: a bare number is not an x32 syscall.
  assert.equal(decide(policy, 'x32', read, NO_ARGS).decidedBy, 'unknown');
  assert.equal(decide(policy, 'x32', nr('x32', 'read'), NO_ARGS).decidedBy, 'rule');
  const byRule = decide(policy, 'x86_64', read, NO_ARGS);
  assert.deepEqual(byRule.action, { kind: 'allow' });
  assert.equal(byRule.ruleIndex, 0);
  assert.equal(byRule.rule, policy.rules[0]);
  assert.deepEqual(decide(policy, 'x86_64', nr('x86_64', 'write'), NO_ARGS), {
    action: { kind: 'errno', errno: 1 },
    decidedBy: 'default',
  });
});

test('first match wins, across layers: the derived layer overrides its base', async () => {
  const policy = await loadPolicy(`${FIXTURES}/layers/exceptions.yaml`);
  const ptrace = decide(policy, 'x86_64', nr('x86_64', 'ptrace'), NO_ARGS);
  assert.deepEqual(ptrace.action, { kind: 'errno', errno: 1 });
  assert.equal(ptrace.rule?.layer, 'exceptions');
  const socket = nr('x86_64', 'socket');
  assert.deepEqual(decide(policy, 'x86_64', socket, args(10n)).action, { kind: 'errno', errno: 13 });
  assert.equal(decide(policy, 'x86_64', socket, args(2n)).rule?.layer, 'business');
  assert.equal(decide(policy, 'x86_64', socket, args(1n)).rule?.layer, 'base');
  assert.equal(decide(policy, 'x86_64', socket, args(16n)).decidedBy, 'default');
  assert.equal(decide(policy, 'i386', 3, NO_ARGS).decidedBy, 'badArch', 'region narrowed the architectures');
});

test('every comparison is unsigned', () => {
  const holds = (op: ArgOp, value: bigint, arg: bigint, width: 32 | 64 = 64): boolean =>
    conditionHolds({ index: 0, op, value, width }, [arg]);
  assert.equal(holds('lt', 5n, -1n), false, '-1 is the largest u64');
  assert.equal(holds('gt', 5n, -1n), true);
  assert.equal(holds('gt', 0x7fffffffn, 0x80000000n, 32), true);
  assert.equal(holds('le', 5n, 5n), true);
  assert.equal(holds('ge', 5n, 4n), false);
  assert.equal(holds('ne', 5n, 4n), true);
  assert.equal(holds('eq', 0xffffffffn, -1n, 32), true);
  assert.equal(holds('eq', 0xffffffffn, -1n, 64), false);
});

test('masked_eq tests (arg & mask) == value', () => {
  const condition: ArgCondition = { index: 2, op: 'masked_eq', mask: 0xf0n, value: 0x20n, width: 64 };
  assert.equal(conditionHolds(condition, [0n, 0n, 0x12345627n]), true);
  assert.equal(conditionHolds(condition, [0n, 0n, 0x12345637n]), false);
  assert.equal(conditionHolds({ ...condition, width: 32 }, [0n, 0n, 0xff_00000020n]), true);
  assert.equal(conditionHolds(condition, []), false, 'a missing argument reads as 0');
});

test('a 32-bit condition never depends on the upper word', () => {
  const ops: readonly ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'];
  fc.assert(
    fc.property(
      fc.constantFrom(...ops),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      (op, value, mask, arg, upper) => {
        const condition: ArgCondition = { index: 0, op, value: value & mask, mask, width: 32 };
        const flipped = (arg & 0xffffffffn) | (upper << 32n);
        return conditionHolds(condition, [arg]) === conditionHolds(condition, [flipped]);
      },
    ),
  );
});

test('the indexed evaluator agrees with a plain scan of every rule', async () => {
  const policy = await loadPolicy(`${FIXTURES}/layers/exceptions.yaml`);
  const names = ['socket', 'ptrace', 'read', 'connect', 'openat', 'mmap'];
  fc.assert(
    fc.property(
      fc.constantFrom(...names),
      fc.array(fc.bigInt({ min: 0n, max: 20n }), { minLength: 6, maxLength: 6 }),
      (name, values) => {
        const scanned = policy.rules.findIndex(
          (rule) => rule.syscalls.includes(name) && ruleMatches(rule, values),
        );
        const decision = decide(policy, 'x86_64', nr('x86_64', name), values);
        return scanned < 0 ? decision.decidedBy === 'default' : decision.ruleIndex === scanned;
      },
    ),
  );
});

test('rulesForSyscall lists the rules naming a syscall in precedence order', async () => {
  const policy = await loadPolicy(`${FIXTURES}/layers/exceptions.yaml`);
  assert.deepEqual(
    rulesForSyscall(policy, 'socket').map(({ rule, index }) => [index, rule.layer]),
    [
      [1, 'region-eu'],
      [2, 'business'],
      [6, 'base'],
    ],
  );
  assert.deepEqual(rulesForSyscall(policy, 'reboot'), []);
});
