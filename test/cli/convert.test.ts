/**
 * `sysfence convert` end to end: every target is reachable from the command line, warnings go to
 * stderr, a conversion that would weaken the policy writes nothing, and what a target writes reads back
 * (through `diff`) as the same policy where the format is two-way.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sysfenceInProcess } from '../helpers/cli.js';
import { tempDirForTest } from '../helpers/temp.js';

const sysfence = sysfenceInProcess;

const dir = tempDirForTest('sysfence-convert-');

const POLICY = join(dir, 'service.yaml');
writeFileSync(
  POLICY,
  `name: service
architectures: [x86_64]
defaultAction: errno(EPERM)
unknownAction: errno(ENOSYS)
badArchAction: kill_process
rules:
  - syscalls: [read, write, close, openat, rt_sigreturn, exit_group, futex, mmap, brk]
    action: allow
    reason: runtime
  - syscalls: [socket]
    action: allow
    args: [{ index: 0, op: eq, value: AF_INET, width: 32 }]
    reason: IPv4 only
filesystem:
  read: [/usr, /etc]
  write: [/var/lib/service]
network:
  connectTcp: [443]
`,
);

test('every target converts the policy; warnings go to stderr, the output to stdout', async () => {
  const expectations: Readonly<Record<string, RegExp>> = {
    oci: /"defaultAction": "SCMP_ACT_ERRNO"/,
    yaml: /^name: service$/m,
    spo: /kind: SeccompProfile/,
    systemd: /^SystemCallFilter=/m,
    firecracker: /"default_action"/,
    apparmor: /^profile service /m,
    auditd: /-k sysfence-unlisted/,
    falco: /- rule: /,
  };
  for (const [target, expected] of Object.entries(expectations)) {
    const run = await sysfence('convert', POLICY, '--to', target, '--exe', '/usr/bin/service');
    assert.equal(run.code, 0, `${target}: ${run.stderr}`);
    assert.match(run.stdout, expected, target);
    for (const line of run.stderr.split('\n').filter((l) => l !== ''))
      assert.match(line, /^warning: /, target);
  }
});

test('a target that cannot carry the argument rule says so, naming the rule', async () => {
  const run = await sysfence('convert', POLICY, '--to', 'systemd');
  assert.equal(run.code, 0);
  assert.match(run.stderr, /warning: .*service\.yaml:\d+:\d+/);
});

test('two-way targets round-trip: import, export, import decides the same (diff finds no change)', async () => {
  for (const [target, extension] of [
    ['oci', 'json'],
    ['firecracker', 'json'],
    ['spo', 'yaml'],
    ['systemd', 'conf'],
  ] as const) {
    const first = join(dir, `first-${target}.${extension}`);
    const second = join(dir, `second-${target}.${extension}`);
    const exported = await sysfence('convert', POLICY, '--to', target, '-o', first);
    assert.equal(exported.code, 0, exported.stderr);
    const again = await sysfence('convert', first, '--to', target, '-o', second);
    assert.equal(again.code, 0, again.stderr);
    const diff = await sysfence('diff', first, second);
    assert.equal(diff.code, 0, `${target}: ${diff.stdout}${diff.stderr}`);
  }
});

test('--out-dir writes SPO manifests, Pod/Deployment patches and the kubelet JSON', async () => {
  const out = join(dir, 'spo');
  const run = await sysfence('convert', POLICY, '--to', 'spo', '--out-dir', out);
  assert.equal(run.code, 0, run.stderr);
  for (const file of ['seccompprofile.yaml', 'pod-patch.yaml', 'deployment-patch.yaml']) {
    assert.ok(existsSync(join(out, file)), file);
  }
  assert.match(
    readFileSync(join(out, 'pod-patch.yaml'), 'utf8'),
    /localhostProfile: operator\/service\.json/,
  );
  assert.ok(existsSync(join(out, 'kubelet-seccomp', 'operator', 'service.json')));
});

test('unknown target and --out-dir for a one-file target are usage errors', async () => {
  assert.equal((await sysfence('convert', POLICY, '--to', 'nope')).code, 2);
  assert.equal((await sysfence('convert', POLICY, '--to', 'oci', '--out-dir', join(dir, 'x'))).code, 2);
});
