/** Rollout modes (src/policy/modes.ts): pure IR → IR transforms, checked rule by rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Action } from '../../src/policy/action.js';
import type { PolicyRule, ResolvedPolicy, RuleTier } from '../../src/policy/ir.js';
import { applyMode, parseMode, stopsSyscall } from '../../src/policy/modes.js';

function rule(syscall: string, action: Action, tier: RuleTier = 'required'): PolicyRule {
  return {
    syscalls: [syscall],
    selectors: [syscall],
    action,
    conditions: [{ index: 0, op: 'eq', value: 1n, width: 32 }],
    reason: `rule for ${syscall}`,
    tier,
    layer: 'test',
    location: { file: 'test.yaml', line: 1, column: 1 },
  };
}

const POLICY: ResolvedPolicy = {
  name: 'modes',
  architectures: ['x86_64'],
  defaultAction: { kind: 'errno', errno: 1 },
  unknownAction: { kind: 'errno', errno: 38 },
  badArchAction: { kind: 'kill_process' },
  rules: [
    rule('read', { kind: 'allow' }),
    rule('ptrace', { kind: 'kill_process' }),
    rule('kill', { kind: 'kill_thread' }),
    rule('socket', { kind: 'errno', errno: 97 }),
    rule('mount', { kind: 'trap', data: 3 }),
    rule('open', { kind: 'trace', data: 1 }),
    rule('ioctl', { kind: 'notify' }),
    rule('syslog', { kind: 'log' }),
    rule('personality', { kind: 'allow' }, 'tolerated'),
    rule('madvise', { kind: 'errno', errno: 1 }, 'tolerated'),
  ],
  layers: [{ name: 'modes', file: 'test.yaml' }],
  filesystem: { read: ['/usr'], write: [], execute: [] },
};

const LOG: Action = { kind: 'log' };
const kinds = (policy: ResolvedPolicy): string[] =>
  policy.rules.map((r) => `${r.syscalls[0]}:${r.action.kind}`);

test('enforce returns the policy unchanged', () => {
  assert.equal(applyMode(POLICY, 'enforce'), POLICY);
});

test('log turns every stopping action into LOG, including default, unknown and bad-arch', () => {
  const logged = applyMode(POLICY, 'log');
  assert.deepEqual(kinds(logged), [
    'read:allow',
    'ptrace:log',
    'kill:log',
    'socket:log',
    'mount:log',
    'open:log',
    'ioctl:log',
    'syslog:log',
    'personality:allow',
    'madvise:log',
  ]);
  assert.deepEqual([logged.defaultAction, logged.unknownAction, logged.badArchAction], [LOG, LOG, LOG]);
  // Everything else is carried over: conditions, reasons, tiers, Landlock sections.
  assert.deepEqual(logged.rules[1]?.conditions, POLICY.rules[1]?.conditions);
  assert.equal(logged.rules[1]?.reason, 'rule for ptrace');
  assert.equal(logged.filesystem, POLICY.filesystem);
  assert.equal(POLICY.rules[1]?.action.kind, 'kill_process', 'the input is not modified');
});

test('tiered logs tolerated allow rules and keeps the rest, tolerated denials and defaults included, as written', () => {
  const tiered = applyMode(POLICY, 'tiered');
  assert.deepEqual(kinds(tiered), [
    'read:allow',
    'ptrace:kill_process',
    'kill:kill_thread',
    'socket:errno',
    'mount:trap',
    'open:trace',
    'ioctl:notify',
    'syslog:log',
    'personality:log',
    'madvise:errno',
  ]);
  assert.equal(tiered.defaultAction, POLICY.defaultAction);
  assert.equal(tiered.badArchAction, POLICY.badArchAction);
});

test('parseMode accepts the three modes and names them on anything else', () => {
  assert.equal(parseMode('log'), 'log');
  assert.throws(() => parseMode('audit'), /unknown mode 'audit' \(enforce, log, tiered\)/);
  assert.equal(stopsSyscall({ kind: 'allow' }), false);
  assert.equal(stopsSyscall({ kind: 'notify' }), true);
});
