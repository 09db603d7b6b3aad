import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { PeerCondition, PeerRule } from '../../bench/peers/libseccomp.js';
import { exportFirecracker } from '../../src/formats/firecracker-export.js';
import { importFirecracker } from '../../src/formats/firecracker-import.js';
import type { Action } from '../../src/policy/action.js';
import { PolicyError } from '../../src/policy/errors.js';
import { decide } from '../../src/policy/evaluate.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { assertNoDiff, assertSameAsLibseccomp, libseccompFilter } from './firecracker-oracles.js';

const FIXTURE = 'test/fixtures/firecracker/x86_64-unknown-linux-musl.json';
const fixtureText = (): string => readFileSync(FIXTURE, 'utf8');

interface SeccompilerCondition {
  index: number;
  type: 'dword' | 'qword';
  op: string | { masked_eq: bigint };
  val: bigint;
}
interface SeccompilerFilter {
  default_action: string | Record<string, bigint>;
  filter_action: string | Record<string, bigint>;
  filter: { syscall: string; args?: SeccompilerCondition[] }[];
}

/** seccompiler's action enum as libseccomp gets it (types.rs SeccompAction::to_scmp_type). */
function peerAction(action: string | Record<string, bigint>): Action {
  if (typeof action !== 'string') {
    const [[key, data]] = Object.entries(action) as [[string, bigint]];
    return key === 'errno' ? { kind: 'errno', errno: Number(data) } : { kind: 'trace', data: Number(data) };
  }
  if (action === 'trap') return { kind: 'trap', data: 0 };
  return { kind: action } as Action;
}

/** seccompiler's SeccompCondition::to_scmp_type: a dword eq becomes masked_eq 0xffffffff, all else 64-bit. */
function peerCondition(condition: SeccompilerCondition): PeerCondition {
  const index = Number(condition.index) as PeerCondition['index'];
  if (typeof condition.op !== 'string')
    return { index, op: 'masked_eq', mask: condition.op.masked_eq, value: condition.val };
  if (condition.op === 'eq' && condition.type === 'dword')
    return { index, op: 'masked_eq', mask: 0xffffffffn, value: condition.val };
  return { index, op: condition.op as PeerCondition['op'], value: condition.val };
}

/** The libseccomp rules seccompiler's compile_bpf adds for one filter, built from the JSON alone. */
function seccompilerRules(filter: SeccompilerFilter): PeerRule[] {
  const action = peerAction(filter.filter_action);
  return filter.filter.map((rule) => ({
    syscall: rule.syscall,
    action,
    conditions: (rule.args ?? []).map(peerCondition),
  }));
}

test("Firecracker's real x86_64 filters import as vmm, api and vcpu, deciding like seccompiler's libseccomp build", () => {
  const { threads, warnings } = importFirecracker(fixtureText(), FIXTURE);
  assert.deepEqual(
    threads.map((t) => t.thread),
    ['vmm', 'api', 'vcpu'],
  );
  assert.deepEqual(warnings, []);
  const json = parse(fixtureText(), { intAsBigInt: true }) as Record<string, SeccompilerFilter>;
  for (const { thread, policy } of threads) {
    const filter = json[thread];
    assert.ok(filter !== undefined);
    assert.deepEqual(policy.architectures, ['x86_64']);
    assert.deepEqual(policy.defaultAction, { kind: 'trap', data: 0 });
    assert.equal(policy.rules.length, filter.filter.length);
    const program = libseccompFilter(policy.defaultAction, ['x86_64'], seccompilerRules(filter));
    assert.ok(assertSameAsLibseccomp(policy, program, 'x86_64') > 1000);
  }
});

test('dword eq compares the low word only: ioctl(TCGETS) with garbage in the upper half is allowed, other requests trap', () => {
  const vmm = importFirecracker(fixtureText(), FIXTURE).threads[0]?.policy;
  assert.ok(vmm !== undefined);
  const ioctl = syscallNumber('x86_64', 'ioctl') as number;
  assert.equal(decide(vmm, 'x86_64', ioctl, [3n, 0xdead000000005401n]).action.kind, 'allow');
  assert.equal(decide(vmm, 'x86_64', ioctl, [3n, 0x5402n]).action.kind, 'allow');
  assert.equal(decide(vmm, 'x86_64', ioctl, [3n, 0x5403n]).action.kind, 'trap');
  assert.equal(decide(vmm, 'x86_64', syscallNumber('x86_64', 'execve') as number, []).action.kind, 'trap');
});

test('each thread round-trips through export and import with an empty diff', () => {
  for (const { thread, policy } of importFirecracker(fixtureText(), FIXTURE).threads) {
    const exported = exportFirecracker(policy, { thread });
    assert.equal(exported.arch, 'x86_64');
    const again = importFirecracker(exported.text, 'out.json', { arch: 'x86_64' }).threads;
    assert.deepEqual(
      again.map((t) => t.thread),
      [thread],
    );
    assertNoDiff(policy, again[0]?.policy ?? policy);
  }
});

test('ops, masked_eq, qword and errno/trace/kill actions import as seccompiler builds them', () => {
  const text = JSON.stringify({
    main: {
      default_action: { errno: 13 },
      filter_action: 'allow',
      filter: [
        { syscall: 'read', args: [{ index: 0, type: 'qword', op: 'le', val: 2 }] },
        { syscall: 'clone', args: [{ index: 0, type: 'qword', op: { masked_eq: 0x7e020000 }, val: 0 }] },
        { syscall: 'write', args: [{ index: 2, type: 'dword', op: 'gt', val: 7 }] },
      ],
    },
    other: { default_action: 'kill_process', filter_action: { trace: 3 }, filter: [{ syscall: 'getpid' }] },
  });
  const { threads, warnings } = importFirecracker(text, 'x.json', { arch: 'x86_64' });
  const main = threads[0]?.policy;
  assert.ok(main !== undefined);
  assert.deepEqual(main.defaultAction, { kind: 'errno', errno: 13 });
  assert.deepEqual(main.rules[1]?.conditions, [
    { index: 0, op: 'masked_eq', mask: 0x7e020000n, value: 0n, width: 64 },
  ]);
  assert.deepEqual(main.rules[2]?.conditions, [{ index: 2, op: 'gt', value: 7n, width: 64 }]);
  assert.ok(warnings.some((w) => /compares all 64 bits for 'gt'/.test(w)));
  assert.deepEqual(threads[1]?.policy.rules[0]?.action, { kind: 'trace', data: 3 });
  assert.deepEqual(threads[1]?.policy.defaultAction, { kind: 'kill_process' });
  for (const { thread, policy } of threads) {
    const again = importFirecracker(exportFirecracker(policy, { thread }).text, 'y.json', { arch: 'x86_64' });
    assertNoDiff(policy, again.threads[0]?.policy ?? policy);
  }
});

function importError(text: string): PolicyError {
  try {
    importFirecracker(text, 'bad.json', { arch: 'x86_64' });
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  assert.fail('expected a PolicyError');
}

test('what seccompiler refuses is refused, located', () => {
  const filter = (rules: object[], extra: object = {}): string =>
    JSON.stringify(
      { t: { default_action: 'trap', filter_action: 'allow', filter: rules, ...extra } },
      null,
      2,
    );
  assert.match(importError(filter([{ syscall: 'no_such_call' }])).message, /unknown syscall 'no_such_call'/);
  assert.match(
    importError(
      filter([
        {
          syscall: 'read',
          args: [
            { index: 0, type: 'qword', op: 'ge', val: 1 },
            { index: 0, type: 'qword', op: 'le', val: 9 },
          ],
        },
      ]),
    ).message,
    /compares one argument twice/,
  );
  assert.match(importError(filter([{ syscall: 'read' }], { filter_action: 'trap' })).message, /EACCES/);
  assert.match(
    importError(filter([{ syscall: 'read', args: [{ index: 6, type: 'qword', op: 'eq', val: 1 }] }])).message,
    /index/,
  );
  assert.match(importError(filter([], { default_action: 'kill' })).message, /unknown action 'kill'/);
  assert.match(
    importError(
      filter([{ syscall: 'read', args: [{ index: 0, type: 'dword', op: 'eq', val: 0x100000000 }] }]),
    ).message,
    /can never match/,
  );
  const onArm = JSON.stringify({
    t: { default_action: 'trap', filter_action: 'allow', filter: [{ syscall: 'open' }] },
  });
  assert.throws(
    () => importFirecracker(onArm, 'a.json', { arch: 'aarch64' }),
    /aarch64 has no syscall 'open'/,
  );
  const located = importError(filter([{ syscall: 'read' }, { syscall: 'nope' }]));
  assert.equal(located.problems[0]?.location?.line, 10, 'the unknown name is located');
});

test('a rule-level action (older seccompiler format) is warned about and not honoured', () => {
  const text = JSON.stringify({
    t: { default_action: 'trap', filter_action: 'allow', filter: [{ syscall: 'read', action: 'log' }] },
  });
  const { threads, warnings } = importFirecracker(text, 'old.json', { arch: 'x86_64' });
  assert.equal(threads[0]?.policy.rules[0]?.action.kind, 'allow');
  assert.ok(warnings.some((w) => /rule-level 'action' is ignored/.test(w)));
});

test('export fails rather than change decisions: two rule actions', async () => {
  const policy = await parsePolicyText(
    [
      'name: two',
      'architectures: [x86_64]',
      'defaultAction: errno(EPERM)',
      'rules:',
      '  - {syscalls: [read], action: allow, reason: r}',
      '  - {syscalls: [ptrace], action: kill_process, reason: k}',
      '',
    ].join('\n'),
    'two.yaml',
  );
  assert.throws(() => exportFirecracker(policy), /one filter_action/);
});

test('export carries a 32-bit eq as a dword eq and other ABIs are warned about', async () => {
  const policy = await parsePolicyText(
    [
      'name: narrow',
      'architectures: [x86_64, i386]',
      'defaultAction: kill_process',
      'rules:',
      '  - syscalls: [ioctl]',
      '    action: allow',
      '    args: [{index: 1, op: eq, value: 0x5401, width: 32}]',
      '    reason: TCGETS',
      '  - {syscalls: [mmap2, mmap], action: allow, reason: i386 and x86_64 spellings}',
      '',
    ].join('\n'),
    'narrow.yaml',
  );
  const { text, warnings } = exportFirecracker(policy, { thread: 'vmm' });
  const json = JSON.parse(text) as Record<string, SeccompilerFilter>;
  assert.deepEqual(json['vmm']?.filter, [
    { syscall: 'ioctl', comment: 'TCGETS', args: [{ index: 1, type: 'dword', op: 'eq', val: 21505 }] },
    { syscall: 'mmap', comment: 'i386 and x86_64 spellings' },
  ]);
  assert.ok(warnings.some((w) => /x86_64 has no mmap2: left out/.test(w)));
  assert.ok(warnings.some((w) => /i386 are not carried/.test(w)));
});

test('loadAnyPolicy detects seccompiler JSON: the first thread by default (others named), or the one asked for', async () => {
  const { loadAnyPolicy } = await import('../../src/formats/load.js');
  const first = await loadAnyPolicy(FIXTURE, { arch: 'x86_64' });
  assert.equal(first.format, 'firecracker');
  assert.equal(first.policy.name, 'vmm');
  assert.ok(first.warnings.some((w) => /also has api, vcpu/.test(w)));
  const vcpu = await loadAnyPolicy(FIXTURE, { arch: 'x86_64', thread: 'vcpu' });
  assert.equal(vcpu.policy.name, 'vcpu');
  await assert.rejects(loadAnyPolicy(FIXTURE, { thread: 'nope' }), /no filter for thread 'nope'/);
});
