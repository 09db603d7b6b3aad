import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { traceFromEvents, writeTrace } from '../../src/learn/trace.js';
import { decide } from '../../src/policy/evaluate.js';
import { loadPolicy } from '../../src/policy/load.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { describe, sysfence as cliProcess } from '../enforce/support.js';
import { call } from '../learn/helpers.js';
import { sysfenceInProcess } from '../helpers/cli.js';
import { tempDirForTest } from '../helpers/temp.js';
import { AUDIT_LOG, ensureAuditd } from '../helpers/auditd.js';

const sysfence = sysfenceInProcess;

const dir = tempDirForTest('sysfence-learn-cli-');

function path(name: string): string {
  return join(dir, name);
}

function nr(name: string): number {
  return syscallNumber('x86_64', name) as number;
}

const TRACE_1 = path('run1.json');
const TRACE_2 = path('run2.json');
await writeTrace(
  TRACE_1,
  traceFromEvents([call('read', [], { count: 40 }), call('write'), call('openat'), call('socket', [2n])]),
);
await writeTrace(TRACE_2, traceFromEvents([call('read'), call('write'), call('newfstatat')]));

// auditd lines as a log-mode run writes them: SECCOMP records (code=0x7ffc0000 is SECCOMP_RET_LOG), a
// SYSCALL record with its arguments (socket(AF_NETLINK, SOCK_RAW)), and a line that is not audit.
const AUDIT = path('audit.log');
writeFileSync(
  AUDIT,
  [
    'type=SECCOMP msg=audit(1764547200.100:10): auid=1000 uid=1000 gid=1000 ses=2 subj=unconfined pid=1234 comm="app" exe="/usr/bin/app" sig=0 arch=c000003e syscall=79 compat=0 ip=0x7f0000001234 code=0x7ffc0000',
    'type=SECCOMP msg=audit(1764633600.100:11): auid=1000 uid=1000 gid=1000 ses=2 subj=unconfined pid=1234 comm="app" exe="/usr/bin/app" sig=0 arch=c000003e syscall=79 compat=0 ip=0x7f0000001234 code=0x7ffc0000',
    'type=SECCOMP msg=audit(1764633600.200:12): auid=1000 uid=1000 gid=1000 ses=2 subj=unconfined pid=99 comm="other" exe="/usr/bin/other" sig=0 arch=c000003e syscall=102 compat=0 ip=0x7f0000001234 code=0x7ffc0000',
    'type=SYSCALL msg=audit(1764633600.300:13): arch=c000003e syscall=41 success=no exit=-1 a0=10 a1=3 a2=0 a3=0 items=0 ppid=1 pid=1234 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="app" exe="/usr/bin/app" key=(null)',
    'type=EOE msg=audit(1764633600.300:13):',
    'this is not an audit record',
    '',
  ].join('\n'),
);

const POLICY = path('current.yaml');
writeFileSync(
  POLICY,
  `name: current
architectures: [x86_64]
defaultAction: errno(EPERM)
rules:
  - syscalls: [read, write, openat]
    action: allow
    reason: runtime
  - syscalls: [socket]
    action: allow
    args:
      - { index: 0, op: eq, value: AF_INET, width: 32 }
    reason: clients
`,
);

test('learn TRACE... writes a policy that parses and allows the merged traces', async () => {
  const out = path('learned.yaml');
  const run = await sysfence('learn', TRACE_1, TRACE_2, '-o', out, '--name', 'svc', '--tolerance', '15%');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /5 syscall\(s\) allowed, 0 tolerated, from 2 run\(s\) on x86_64/);
  const policy = await loadPolicy(out);
  assert.equal(policy.name, 'svc');
  for (const name of ['read', 'write', 'openat', 'newfstatat']) {
    assert.equal(decide(policy, 'x86_64', nr(name), []).action.kind, 'allow', name);
  }
  assert.equal(decide(policy, 'x86_64', nr('socket'), [2n]).action.kind, 'allow');
  assert.equal(decide(policy, 'x86_64', nr('socket'), [16n]).action.kind, 'errno');
  assert.match(readFileSync(out, 'utf8'), /- read +# seen 41× in 2\/2 runs/);
});

test('learn prints to stdout without -o; --default-action and --tolerance are honoured', async () => {
  const run = await sysfence('learn', TRACE_1, '--default-action', 'kill_process', '--tolerance', '0.5');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^defaultAction: kill_process$/m);
  assert.match(run.stdout, /tier: tolerated/);
  const errno = await sysfence('learn', TRACE_1, '--default-action', 'errno:EACCES');
  assert.match(errno.stdout, /^defaultAction: errno\(EACCES\)$/m);
});

test('learn refuses bad usage with exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing TRACE/],
    [[TRACE_1, '--since', '14d'], /--since needs --from-audit/],
    [[TRACE_1, '--policy', POLICY], /--policy needs --from-audit/],
    [[TRACE_1, '--tolerance', '150%'], /--tolerance needs a share/],
    [[TRACE_1, '--tolerance', 'lots'], /--tolerance needs a share/],
    [[TRACE_1, '--default-action', 'allow'], /must deny/],
    [[TRACE_1, '--default-action', 'errno:ENOPE'], /--default-action needs/],
    [[TRACE_1, '--arch', 'vax'], /unknown architecture 'vax'/],
    [[TRACE_1, '--exe', '/nope'], /no syscalls of executable \/nope/],
    [[path('missing.json')], /ENOENT/],
    [[TRACE_1, '--from-audit', AUDIT], /either TRACE files or --from-audit/],
  ];
  for (const [argv, message] of cases) {
    const run = await sysfence('learn', ...argv);
    assert.equal(run.code, 2, argv.join(' '));
    assert.match(run.stderr, message, argv.join(' '));
  }
});

test('learn --from-audit --policy proposes the missing rules as a diff and a snippet', async () => {
  const out = path('patched.yaml');
  const run = await sysfence('learn', '--from-audit', AUDIT, '--policy', POLICY, '-o', out);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /audit\.log: 6 line\(s\), 4 event\(s\), 1 malformed, 0 lost/);
  assert.match(run.stderr, /audit\.log:6: /);
  assert.match(run.stderr, /3 syscall\(s\) proposed/);
  assert.match(run.stdout, new RegExp(`^--- ${POLICY}\n`));
  assert.match(run.stdout, /\+ {2}- syscalls: \[getcwd\]/);
  assert.match(
    run.stdout,
    /\+ {2}# getcwd: seen 2× on x86_64 by \/usr\/bin\/app from 2025-12-01 00:00:00 to 2025-12-02 00:00:00 UTC/,
  );
  assert.match(run.stdout, /value: AF_NETLINK/);
  assert.match(run.stdout, /# The same rules as a YAML snippet:\nrules:\n/);
  const patched = await loadPolicy(out);
  assert.equal(decide(patched, 'x86_64', nr('getcwd'), []).action.kind, 'allow');
  assert.equal(decide(patched, 'x86_64', nr('getuid'), []).action.kind, 'allow');
  assert.equal(decide(patched, 'x86_64', nr('socket'), [16n]).action.kind, 'allow');
  assert.equal(decide(patched, 'x86_64', nr('socket'), [17n]).action.kind, 'errno');
});

test('--from-audit narrows by --exe and --since', async () => {
  const other = await sysfence('learn', '--from-audit', AUDIT, '--policy', POLICY, '--exe', '/usr/bin/other');
  assert.equal(other.code, 1);
  assert.match(other.stdout, /syscalls: \[getuid\]/);
  assert.doesNotMatch(other.stdout, /getcwd|socket/);
  const recent = await sysfence(
    'learn',
    '--from-audit',
    AUDIT,
    '--policy',
    POLICY,
    '--since',
    '2025-12-01T12:00:00Z',
    '--exe',
    '/usr/bin/app',
  );
  assert.match(recent.stdout, /getcwd: seen 1×/);
  const none = await sysfence('learn', '--from-audit', AUDIT, '--policy', POLICY, '--since', '2025-12-03');
  assert.equal(none.code, 0);
  assert.match(none.stderr, /allows all 0 selected call\(s\); nothing to add/);
});

test('--from-audit without --policy writes a whole policy from the log', async () => {
  const run = await sysfence('learn', '--from-audit', AUDIT, '--name', 'from-log', '--exe', '/usr/bin/app');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^name: 'from-log'$/m);
  assert.match(run.stdout, /Sources: audit/);
  assert.match(run.stdout, /# seen 2× in 1\/1 run\n {2}- syscalls: \[getcwd\]/);
  assert.doesNotMatch(run.stdout, /getuid/);
});

test('sysfence help lists learn', async () => {
  const run = await sysfence('help');
  assert.match(run.stdout, /learn +learn a least-privilege policy/);
  const usage = await sysfence('help', 'learn');
  assert.match(usage.stdout, /--from-audit FILE/);
});

// ---- the whole loop on this machine's kernel: record → learn → enforce → log mode → learn --from-audit

const WORKLOAD = path('workload.py');
writeFileSync(
  WORKLOAD,
  [
    'import os, sys',
    'print("cwd", os.getcwd())',
    'if len(sys.argv) > 1:',
    '    try:',
    '        os.getpriority(os.PRIO_PROCESS, 0)',
    '        print("getpriority allowed")',
    '    except PermissionError:',
    '        print("getpriority denied")',
    '',
  ].join('\n'),
);

/**
 * The audit log from `offset` on, once it holds a SECCOMP record of `exe` (waits up to 5 s). Other tests
 * fill the log too, so auditd may rotate it meanwhile: then the rest of the rotated file comes first.
 */
async function auditSince(start: { offset: number; inode: number }, exe: string): Promise<string> {
  const { offset } = start;
  for (let attempt = 0; attempt < 50; attempt++) {
    const current = readFileSync(AUDIT_LOG);
    const rotated = statSync(AUDIT_LOG).ino !== start.inode;
    const appended = rotated
      ? `${readFileSync(`${AUDIT_LOG}.1`).subarray(offset).toString('utf8')}${current.toString('utf8')}`
      : current.subarray(offset).toString('utf8');
    if (
      appended.split('\n').some((line) => line.startsWith('type=SECCOMP') && line.includes(`exe="${exe}"`))
    ) {
      return appended;
    }
    await sleep(100);
  }
  throw new Error(`no SECCOMP record of ${exe} reached ${AUDIT_LOG} within 5 s`);
}

test('record → learn → enforce → log mode → learn --from-audit, on this kernel', async () => {
  await ensureAuditd();
  if (spawnSync('strace', ['-V']).error)
    throw new Error('strace is needed to record: apt-get install -y strace');
  const python = realpathSync('/usr/bin/python3');
  const trace = path('python.json');
  const recorded = cliProcess(['record', '--via', 'strace', '-o', trace, '--', python, WORKLOAD]);
  assert.equal(recorded.status, 0, describe(recorded));

  const learned = path('python.yaml');
  const learnRun = await sysfence('learn', trace, '-o', learned, '--name', 'python');
  assert.equal(learnRun.code, 0, learnRun.stderr);
  const enforced = cliProcess(['run', '--policy', learned, '--', python, WORKLOAD, 'probe']);
  assert.equal(enforced.status, 0, describe(enforced));
  assert.match(enforced.stdout, /^cwd /m, 'the learned policy runs the workload');
  assert.match(enforced.stdout, /getpriority denied/, 'and denies what it never did');

  // Drop getcwd from the policy: log mode lets it run and audit records it; the rollout puts it back.
  const text = readFileSync(learned, 'utf8');
  const withoutGetcwd = text.replace(/^ +- getcwd +#.*\n/m, '');
  assert.notEqual(withoutGetcwd, text);
  const narrowed = path('narrowed.yaml');
  writeFileSync(narrowed, withoutGetcwd);
  const before = existsSync(AUDIT_LOG) ? statSync(AUDIT_LOG) : undefined;
  const start = { offset: before?.size ?? 0, inode: before?.ino ?? -1 };
  const logged = cliProcess(['run', '--mode', 'log', '--policy', narrowed, '--', python, WORKLOAD]);
  assert.equal(logged.status, 0, describe(logged));
  const audit = path('rollout-audit.log');
  writeFileSync(audit, await auditSince(start, python));

  const patched = path('patched.yaml');
  const rollout = await sysfence(
    'learn',
    '--from-audit',
    audit,
    '--policy',
    narrowed,
    '--exe',
    python,
    '-o',
    patched,
  );
  assert.equal(rollout.code, 1, rollout.stderr);
  assert.match(rollout.stdout, /^\+ {2}- syscalls: \[getcwd\]$/m);
  const fixed = cliProcess(['run', '--policy', patched, '--', python, WORKLOAD]);
  assert.equal(fixed.status, 0, describe(fixed));
  assert.match(fixed.stdout, /^cwd /m);
});
