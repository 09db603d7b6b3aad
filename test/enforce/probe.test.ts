/**
 * `sysfence probe` against independent evidence on this machine: the files it reads, what other tools
 * report, and what the kernel actually does when the C workload tries the compat ABIs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseKernelConfig, probeKernel, type KernelProbe } from '../../src/enforce/probe.js';
import { syscallNumber } from '../../src/syscalls/arch.js';
import { callResult, sysfence, workload } from './support.js';

let cached: KernelProbe | undefined;
function probe(): KernelProbe {
  cached ??= probeKernel();
  return cached;
}

function filesystemType(path: string): string {
  return spawnSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).stdout.trim();
}

test('seccomp actions come from /proc/sys/kernel/seccomp', () => {
  const words = (file: string): string[] =>
    readFileSync(`/proc/sys/kernel/seccomp/${file}`, 'utf8').trim().split(/\s+/);
  assert.deepEqual(probe().seccomp.actionsAvailable, words('actions_avail'));
  assert.deepEqual(probe().seccomp.actionsLogged, words('actions_logged'));
  assert.ok(probe().seccomp.actionsAvailable.includes('log'));
  assert.equal(probe().seccomp.actionCache.value, true, 'kernel ≥ 5.11');
});

test('the compat ABI findings match what the kernel does with them', () => {
  const x32 = callResult(
    spawnSync(workload(), ['x32', String(syscallNumber('x86_64', 'getpid'))], { encoding: 'utf8' }).stdout,
  );
  assert.equal(probe().compat.x32.value, x32.errno !== 38, probe().compat.x32.evidence);
  const int80 = callResult(
    spawnSync(workload(), ['int80', String(syscallNumber('i386', 'getpid'))], { encoding: 'utf8' }).stdout,
  );
  assert.equal(probe().compat.ia32.value, int80.ret > 0, probe().compat.ia32.evidence);
});

test('cgroup layout and freezer match the mounted filesystems', () => {
  const root = filesystemType('/sys/fs/cgroup');
  const expected =
    root === 'cgroup2fs' ? 'v2' : filesystemType('/sys/fs/cgroup/unified') === 'cgroup2fs' ? 'hybrid' : 'v1';
  assert.equal(probe().cgroup.version, expected);
  if (filesystemType('/sys/fs/cgroup/freezer') === 'cgroupfs')
    assert.equal(probe().cgroup.v1FreezerMount, '/sys/fs/cgroup/freezer');
});

test('audit, BPF and tracefs findings match the system', () => {
  const auditd = spawnSync('pgrep', ['-x', 'auditd']).status === 0;
  assert.equal(probe().audit.auditdRunning.value, auditd);
  const enabled = /^enabled (\d)/m.exec(spawnSync('auditctl', ['-s'], { encoding: 'utf8' }).stdout)?.[1];
  assert.equal(probe().audit.enabled.value, enabled === undefined ? undefined : enabled !== '0');
  assert.equal(probe().bpf.bpftrace !== undefined, spawnSync('bpftrace', ['--version']).status === 0);
  for (const mount of probe().tracefs.mountPoints) assert.equal(filesystemType(mount), 'tracefs');
  assert.ok(probe().landlock.abi >= 1, probe().landlock.evidence);
});

test('kernel config parsing reads set and unset options', () => {
  const config = parseKernelConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="text"\n');
  assert.deepEqual(
    [...config],
    [
      ['CONFIG_A', 'y'],
      ['CONFIG_B', 'n'],
      ['CONFIG_C', '"text"'],
    ],
  );
});

test('the CLI prints the table and JSON', () => {
  const table = sysfence(['probe']);
  assert.equal(table.status, 0, table.stderr);
  for (const row of [
    'seccomp actions available',
    'seccomp action cache',
    'landlock ABI',
    'auditd running',
    'tracefs',
    'cgroup version',
    'cgroup v1 freezer',
    'ia32 emulation',
    'x32 ABI',
  ]) {
    assert.match(table.stdout, new RegExp(`^${row}\\s{2,}\\S`, 'm'), row);
  }
  const json = sysfence(['probe', '--json']);
  const parsed = JSON.parse(json.stdout) as KernelProbe;
  assert.equal(parsed.landlock.abi, probe().landlock.abi);
  assert.deepEqual(parsed.cgroup, probe().cgroup);
});
