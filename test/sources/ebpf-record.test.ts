import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordWithEbpf } from '../../src/sources/ebpf-record.js';

/** A stop signal that fires `ms` after the probes are attached (attaching takes seconds on a busy host). */
function stopAfterAttach(ms: number): { stop: AbortSignal; onAttached: () => void } {
  const controller = new AbortController();
  return { stop: controller.signal, onAttached: () => void setTimeout(() => controller.abort(), ms) };
}
import { checkWorkloadRecording, PYTHON_EXE, WORKLOAD } from './recording-workload.js';

test('eBPF records a command from its own exec, with descendants, learned arguments and its exit status', async () => {
  const recording = await recordWithEbpf({ target: { kind: 'command', argv: WORKLOAD }, host: 'test-host' });
  assert.deepEqual(recording.status, { kind: 'exited', code: 3 });
  assert.equal(recording.stats.malformed, 0, JSON.stringify(recording.stats.problems));
  assert.ok(
    recording.events.every((e) => e.source === 'ebpf' && e.host === 'test-host' && (e.count ?? 0) >= 1),
  );
  checkWorkloadRecording(recording.events);
});

test('eBPF records running processes (--pid) and their new children until stopped', async () => {
  const loop = spawn('/usr/bin/sh', ['-c', 'while :; do /usr/bin/true; sleep 0.05; done'], {
    stdio: 'ignore',
  });
  try {
    const recording = await recordWithEbpf({
      target: { kind: 'pids', pids: [loop.pid!] },
      ...stopAfterAttach(1000),
    });
    const executables = new Set(recording.events.map((e) => e.exe));
    assert.ok(executables.has('/usr/bin/dash'), [...executables].join(', ')); // the loop, read from /proc at the start
    assert.ok(executables.has('/usr/bin/true'));
    assert.ok(recording.events.some((e) => e.exe === '/usr/bin/dash' && e.syscall === 'wait4'));
    assert.ok(![...executables].some((exe) => exe?.includes('node')), 'sysfence itself is not recorded');
  } finally {
    loop.kill('SIGKILL');
  }
});

test('eBPF records every process on the host, except sysfence and bpftrace', async () => {
  const loop = spawn('/usr/bin/sh', ['-c', 'while :; do /usr/bin/true; sleep 0.05; done'], {
    stdio: 'ignore',
  });
  try {
    const recording = await recordWithEbpf({ target: { kind: 'all' }, ...stopAfterAttach(700) });
    assert.ok(recording.events.some((e) => e.exe === '/usr/bin/true' && e.syscall === 'exit_group'));
    assert.ok(recording.events.some((e) => e.pid === loop.pid && e.exe === '/usr/bin/dash'));
    assert.ok(!recording.events.some((e) => e.pid === process.pid));
    assert.ok(!recording.events.some((e) => e.exe?.endsWith('/bpftrace')));
  } finally {
    loop.kill('SIGKILL');
  }
});

function unifiedCgroupRoot(): string {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'])
    if (existsSync(join(root, 'cgroup.controllers'))) return root;
  throw new Error('no cgroup v2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)');
}

test('eBPF records the processes of one cgroup only', async () => {
  const cgroup = join(unifiedCgroupRoot(), `sysfence-test-${process.pid}`);
  await mkdir(cgroup);
  const inside = spawn('/usr/bin/sh', ['-c', 'read go; while :; do /usr/bin/true; sleep 0.05; done'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const outside = spawn('/usr/bin/sh', ['-c', 'while :; do /usr/bin/env true; sleep 0.05; done'], {
    stdio: 'ignore',
  });
  try {
    await writeFile(join(cgroup, 'cgroup.procs'), `${inside.pid}\n`);
    inside.stdin!.end('go\n');
    const recording = await recordWithEbpf({
      target: { kind: 'cgroup', path: cgroup },
      ...stopAfterAttach(1000),
    });
    const executables = new Set(recording.events.map((e) => e.exe));
    assert.ok(executables.has('/usr/bin/true'), [...executables].join(', '));
    assert.ok(!executables.has('/usr/bin/env'), 'a process outside the cgroup was recorded');
    assert.ok(recording.events.every((e) => e.containerId === undefined));
  } finally {
    inside.kill('SIGKILL');
    outside.kill('SIGKILL');
    await sleep(100);
    await rmdir(cgroup);
  }
});

test('bpftrace missing: an error with the install hint, and nothing runs', async () => {
  const marker = `/tmp/sysfence-must-not-exist-${process.pid}`;
  await assert.rejects(
    recordWithEbpf({
      target: { kind: 'command', argv: ['/usr/bin/touch', marker] },
      pathVariable: '/nonexistent',
    }),
    /bpftrace not found on PATH; install it: apt-get install -y bpftrace/,
  );
  await sleep(200);
  assert.equal(existsSync(marker), false);
});

test('a command started by a relative path through a link is named as the kernel names it', async () => {
  const recording = await recordWithEbpf({
    target: { kind: 'command', argv: ['./python3', '-c', 'pass'], cwd: '/usr/bin' },
  });
  assert.deepEqual(recording.status, { kind: 'exited', code: 0 });
  assert.deepEqual([...new Set(recording.events.map((e) => e.exe))], [PYTHON_EXE]);
  assert.ok(!recording.events.some((e) => e.syscall === 'execve'), 'the launcher exec is not counted');
});
