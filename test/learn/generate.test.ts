import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePolicy, type GenerateOptions } from '../../src/learn/generate.js';
import { mergeTraces, traceFromEvents, type Trace } from '../../src/learn/trace.js';
import { callsNotAllowed } from '../../src/learn/verify.js';
import { decide } from '../../src/policy/evaluate.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { syscallEntries, syscallNumber, type Arch } from '../../src/syscalls/arch.js';
import { isRisky } from '../../src/syscalls/risk.js';
import { call } from './helpers.js';

const NO_FILES = (file: string): string => {
  throw new Error(`unexpected read of ${file}`);
};

async function learn(
  trace: Trace,
  options: Partial<GenerateOptions> = {},
): Promise<{ text: string; policy: ResolvedPolicy }> {
  const generated = generatePolicy(trace, { name: 'app', ...options });
  const policy = await parsePolicyText(generated.text, 'learned.yaml', NO_FILES);
  assert.deepEqual(callsNotAllowed(policy, generated.observed), [], 'allows everything it learned from');
  return { text: generated.text, policy };
}

function actionOf(
  policy: ResolvedPolicy,
  syscall: string,
  args: readonly bigint[] = [],
  arch: Arch = 'x86_64',
): string {
  const nr = syscallNumber(arch, syscall);
  assert.ok(nr !== undefined, `${syscall} on ${arch}`);
  const action = decide(policy, arch, nr, args).action;
  return action.kind === 'errno' ? `errno(${action.errno})` : action.kind;
}

/** Three runs of a small service: read/write/openat in all, socket AF_INET and clone without namespaces. */
function serviceTrace(): Trace {
  return mergeTraces([
    traceFromEvents([
      call('read', [], { count: 1000 }),
      call('write', [], { count: 200 }),
      call('openat', [], { count: 30 }),
      call('socket', [2n, 1n, 0n]),
      call('clone', [0x1200011n]),
      call('ioctl', [1n, 0x5401n]),
    ]),
    traceFromEvents([call('read', [], { count: 900 }), call('write'), call('openat'), call('poll')]),
    traceFromEvents([call('read'), call('write'), call('openat'), call('newfstatat', [], { count: 12 })]),
  ]);
}

test('the generated policy parses and allows exactly the observed syscalls', async () => {
  const { policy } = await learn(serviceTrace());
  assert.deepEqual(policy.architectures, ['x86_64']);
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 1 });
  assert.deepEqual(policy.unknownAction, { kind: 'errno', errno: 38 });
  assert.deepEqual(policy.badArchAction, { kind: 'kill_process' });
  // With all-zero arguments: clone has no namespace bits (allowed); socket AF_UNSPEC and ioctl 0 were not seen.
  const unconditional = new Set(['read', 'write', 'openat', 'poll', 'newfstatat', 'clone']);
  for (const [name, nr] of syscallEntries('x86_64')) {
    const action = decide(policy, 'x86_64', nr, [0n, 0n, 0n, 0n, 0n, 0n]).action.kind;
    assert.equal(action, unconditional.has(name) ? 'allow' : 'errno', name);
  }
  assert.equal(actionOf(policy, 'read', [], 'i386'), 'kill_process', 'other ABIs are killed');
  assert.equal(actionOf(policy, 'read', [], 'x32'), 'kill_process');
});

test('argument rules allow only the values seen: AF_INET yes, AF_NETLINK no', async () => {
  const { text, policy } = await learn(serviceTrace());
  assert.equal(actionOf(policy, 'socket', [2n, 1n, 0n]), 'allow');
  assert.equal(actionOf(policy, 'socket', [2n, 2n, 0n]), 'allow', 'only the family is learned');
  assert.equal(actionOf(policy, 'socket', [16n, 3n, 0n]), 'errno(1)');
  assert.equal(actionOf(policy, 'socket', [10n, 1n, 0n]), 'errno(1)');
  assert.equal(
    actionOf(policy, 'socket', [0x1_0000_0010n]),
    'errno(1)',
    'an int argument is compared on 32 bits',
  );
  assert.match(text, /value: AF_INET, width: 32/);
  // clone: any flags, but no namespace bits.
  assert.equal(actionOf(policy, 'clone', [0x3d0f00n]), 'allow', 'thread creation flags');
  assert.equal(actionOf(policy, 'clone', [0x10000011n]), 'errno(1)', 'CLONE_NEWUSER');
  assert.equal(actionOf(policy, 'clone', [0x40000011n]), 'errno(1)', 'CLONE_NEWNET');
  assert.match(text, /op: masked_eq, mask: 0x7e020080, value: 0/);
  // ioctl: only TCGETS.
  assert.equal(actionOf(policy, 'ioctl', [1n, 0x5401n]), 'allow');
  assert.equal(actionOf(policy, 'ioctl', [1n, 0x5412n]), 'errno(1)', 'TIOCSTI');
  assert.match(text, /value: TCGETS/);
});

test('every rule carries its counts and confidence; the header says how it was learned', async () => {
  const { text, policy } = await learn(serviceTrace());
  assert.match(text, /^# Learned by `sysfence learn` from 3 recording\(s\) \(runs\) of \/usr\/bin\/app\./);
  assert.match(text, /# Sources: ebpf; hosts: web-1\./);
  assert.match(text, /# Window: 2026-12-01T00:00:00\.000Z \.\. 2026-12-01T00:00:00\.000Z\./);
  assert.match(text, /- read +# seen 1901× in 3\/3 runs/);
  assert.match(text, /- poll +# seen 1× in 1\/3 runs/);
  assert.match(text, /# socket with address family \(domain\) AF_INET: seen 1× in 1\/3 runs\n/);
  assert.match(
    text,
    /reason: 'socket with address family \(domain\) AF_INET: observed 1 call in 1\/3 runs of \/usr\/bin\/app'/,
  );
  for (const rule of policy.rules) {
    assert.match(rule.reason, /runs of \/usr\/bin\/app|^not observed; /, 'observed rules say their runs');
  }
  const every = policy.rules.find((rule) => rule.syscalls.includes('read'));
  assert.deepEqual(every?.syscalls, ['openat', 'read', 'write'], 'grouped by the runs that saw them');
});

test('tolerance tier: bounded, tier tolerated with action log, never risky, never observed, in the table', async () => {
  const trace = serviceTrace();
  const plain = await learn(trace);
  assert.equal(
    plain.policy.rules.filter((rule) => rule.tier === 'tolerated').length,
    0,
    'no tier without --tolerance',
  );
  for (const share of [0.15, 0.5, 1]) {
    const generated = generatePolicy(trace, { name: 'app', tolerance: share });
    const policy = await parsePolicyText(generated.text, 'learned.yaml', NO_FILES);
    const tolerated = policy.rules.filter((rule) => rule.tier === 'tolerated');
    assert.equal(tolerated.length, generated.tolerated.length);
    assert.ok(tolerated.length <= Math.floor(share * generated.allowed.length), `bound at ${share}`);
    for (const rule of tolerated) {
      assert.equal(rule.action.kind, 'log');
      for (const name of rule.syscalls) {
        assert.equal(isRisky(name), false, name);
        assert.equal(generated.allowed.includes(name), false, name);
        assert.notEqual(syscallNumber('x86_64', name), undefined, name);
      }
    }
  }
  const fifteen = generatePolicy(trace, { name: 'app', tolerance: 0.15 });
  // 8 allowed syscalls → 1 variant, of the most used call (read).
  assert.equal(fifteen.tolerated.length, 1);
  assert.equal(fifteen.tolerated[0]?.variantOf, 'read');
  const all = generatePolicy(trace, { name: 'app', tolerance: 1 });
  assert.ok(all.tolerated.some((variant) => variant.syscall === 'open' && variant.variantOf === 'openat'));
  assert.ok(
    !all.tolerated.some((variant) => variant.syscall === 'clone3'),
    'clone3 is in the risk catalogue',
  );
});

test('a tolerated clone (for fork) must not create namespaces', async () => {
  const trace = traceFromEvents([call('fork'), call('read'), call('write'), call('exit_group')]);
  const generated = generatePolicy(trace, { name: 'app', tolerance: 1 });
  const policy = await parsePolicyText(generated.text, 'learned.yaml', NO_FILES);
  assert.ok(generated.tolerated.some((variant) => variant.syscall === 'clone'));
  assert.equal(actionOf(policy, 'clone', [0x11n]), 'log');
  assert.equal(actionOf(policy, 'clone', [0x10000011n]), 'errno(1)');
});

test('tolerated variants must exist on the ABI the call was seen on', () => {
  // aarch64 has neither open nor poll: their variants openat/ppoll cannot bring them in.
  const trace = traceFromEvents([
    call('openat', [], { arch: 'aarch64' }),
    call('ppoll', [], { arch: 'aarch64' }),
  ]);
  const generated = generatePolicy(trace, { name: 'arm', tolerance: 1 });
  for (const variant of generated.tolerated) {
    assert.notEqual(syscallNumber('aarch64', variant.syscall), undefined, variant.syscall);
  }
  assert.ok(!generated.tolerated.some((variant) => variant.syscall === 'open' || variant.syscall === 'poll'));
});

test('--exe and --container narrow to those entries', async () => {
  const trace = traceFromEvents([
    call('read'),
    call('socket', [2n], { exe: '/usr/bin/other' }),
    call('getpid', [], { containerId: 'aaaaaaaaaaaa1111' }),
    call('getuid', [], { containerId: 'bbbbbbbbbbbb2222' }),
  ]);
  const byExe = await learn(trace, { exe: '/usr/bin/other' });
  assert.equal(actionOf(byExe.policy, 'socket', [2n]), 'allow');
  assert.equal(actionOf(byExe.policy, 'read'), 'errno(1)');
  const byContainer = await learn(trace, { container: 'aaaaaaaaaaaa' });
  assert.equal(actionOf(byContainer.policy, 'getpid'), 'allow');
  assert.equal(actionOf(byContainer.policy, 'getuid'), 'errno(1)');
  assert.equal(actionOf(byContainer.policy, 'read'), 'errno(1)');
  assert.throws(
    () => generatePolicy(trace, { name: 'x', container: 'aaaa' }),
    /no syscalls in container aaaa/,
    'short prefixes do not match',
  );
  assert.throws(() => generatePolicy(trace, { name: 'x', exe: '/nope' }), /no syscalls of executable \/nope/);
});

test('several ABIs: architectures from the trace, calls allowed per name', async () => {
  const trace = traceFromEvents([
    call('read'),
    call('socketcall', [1n], { arch: 'i386' }),
    call('read', [], { arch: 'i386' }),
  ]);
  const { text, policy } = await learn(trace);
  assert.deepEqual(policy.architectures, ['x86_64', 'i386']);
  assert.equal(actionOf(policy, 'socketcall', [1n], 'i386'), 'allow');
  assert.match(text, /Rules apply to every listed ABI/);
  const only64 = await learn(trace, { arch: ['x86_64'] });
  assert.deepEqual(only64.policy.architectures, ['x86_64']);
  assert.equal(actionOf(only64.policy, 'read', [], 'i386'), 'kill_process');
});

test('numbers the table does not know are reported, not written', () => {
  const trace = traceFromEvents([call('read'), { ...call('read'), nr: 999, syscall: undefined }]);
  const generated = generatePolicy(trace, { name: 'app' });
  assert.deepEqual(generated.unnameable, ['nr:999 on x86_64']);
  assert.match(generated.text, /Not nameable \(unknownAction decides them\): nr:999 on x86_64/);
});

test('default action: kill_process on request; allow and log refused', async () => {
  const trace = traceFromEvents([call('read')]);
  const { policy } = await learn(trace, { defaultAction: { kind: 'kill_process' } });
  assert.equal(actionOf(policy, 'write'), 'kill_process');
  assert.throws(() => generatePolicy(trace, { name: 'a', defaultAction: { kind: 'allow' } }), /must deny/);
  assert.throws(() => generatePolicy(trace, { name: 'a', defaultAction: { kind: 'log' } }), /must deny/);
  assert.throws(() => generatePolicy(trace, { name: 'a', tolerance: 1.5 }), /between 0 and 1/);
});

test('risky observed calls are allowed but flagged for review', async () => {
  const trace = traceFromEvents([call('read'), call('ptrace'), call('personality', [0xffffffffn])]);
  const { text, policy } = await learn(trace);
  assert.equal(actionOf(policy, 'ptrace'), 'allow');
  assert.match(text, /- ptrace +# seen 1× in 1\/1 run; RISK critical \(process-injection\)/);
  assert.match(text, /# RISK medium \(mitigation-bypass\)/);
  assert.equal(actionOf(policy, 'personality', [0x40000n]), 'errno(1)', 'ADDR_NO_RANDOMIZE not seen');
});

test('attacker-chosen names cannot break out of strings or comments', async () => {
  const exe = "/tmp/x'\n- syscalls: [ptrace]\n  action: allow #\u202e\u0085";
  const trace = traceFromEvents([
    call('read', [], { exe }),
    call('write', [], { exe: undefined, comm: 'a\nb: c' }),
  ]);
  const single = await learn(trace, { exe });
  assert.equal(actionOf(single.policy, 'ptrace'), 'errno(1)');
  assert.equal(
    single.policy.metadata?.description,
    `learned from 1 run(s) of ${exe}`,
    'kept exactly, escaped',
  );
  const both = await learn(trace);
  assert.equal(actionOf(both.policy, 'ptrace'), 'errno(1)');
  for (const line of both.text.split('\n')) assert.doesNotMatch(line, /^\s*action: allow #/);
});

test('arguments a source did not record leave the call unnarrowed, and say so', async () => {
  const trace = traceFromEvents([call('socket', [2n]), { ...call('socket'), args: undefined }]);
  const { text, policy } = await learn(trace);
  assert.equal(actionOf(policy, 'socket', [16n]), 'allow');
  assert.match(text, /arguments not recorded by the source, so not narrowed/);
});

test('clone seen, clone3 not: clone3 answers ENOSYS so a newer glibc falls back to the checked clone', async () => {
  const { text, policy } = await learn(serviceTrace());
  assert.match(text, /fallback: clone3 answers ENOSYS/);
  assert.equal(actionOf(policy, 'clone3'), 'errno(38)');
  assert.equal(actionOf(policy, 'faccessat2'), 'errno(1)', 'no faccessat/access seen: no fallback rule');
  const withoutClone = await learn(traceFromEvents([call('read'), call('faccessat')]));
  assert.equal(actionOf(withoutClone.policy, 'clone3'), 'errno(1)', 'no process creation seen: no fallback');
  assert.equal(actionOf(withoutClone.policy, 'faccessat2'), 'errno(38)');
});

test('clone3 seen: answered ENOSYS, and clone takes its place without namespace flags', async () => {
  const { text, policy } = await learn(traceFromEvents([call('read'), call('clone3', [], { count: 22 })]), {
    tolerance: 0.5,
  });
  assert.match(text, /clone3 seen 22×: answered ENOSYS/);
  assert.equal(actionOf(policy, 'clone3'), 'errno(38)');
  const CLONE_THREAD_FLAGS = 0x3d0f00n;
  const CLONE_NEWUSER = 0x10000000n;
  assert.equal(actionOf(policy, 'clone', [CLONE_THREAD_FLAGS]), 'allow', 'glibc threads fall back to clone');
  assert.equal(actionOf(policy, 'clone', [CLONE_THREAD_FLAGS | CLONE_NEWUSER]), 'errno(1)');
  assert.equal(
    policy.rules.filter((rule) => rule.syscalls.includes('clone')).length,
    1,
    'no tolerated clone next to the replacement',
  );
});

test('s390x reads clone flags from argument 1: learned clone rules check that register, mixed ABIs refuse', async () => {
  const CLONE_NEWUSER = 0x10000000n;
  const s390 = (syscall: string) => call(syscall, [], { arch: 's390x' });
  const { policy } = await learn(traceFromEvents([s390('read'), s390('clone3')]), { arch: ['s390x'] });
  assert.equal(actionOf(policy, 'clone', [0n, 0x11n], 's390x'), 'allow', 'plain fork/thread flags in arg 1');
  assert.equal(actionOf(policy, 'clone', [0n, CLONE_NEWUSER | 0x11n], 's390x'), 'errno(1)');
  assert.equal(actionOf(policy, 'clone', [CLONE_NEWUSER, 0x11n], 's390x'), 'allow', 'arg 0 is the stack');
  const mixed = await learn(traceFromEvents([call('read'), call('clone3'), s390('read'), s390('clone3')]), {
    arch: ['x86_64', 's390x'],
  });
  assert.equal(
    actionOf(mixed.policy, 'clone', [0x11n, 0x11n]),
    'errno(1)',
    'no clone rule checking a wrong register',
  );
  assert.equal(actionOf(mixed.policy, 'clone3'), 'errno(38)');
});
