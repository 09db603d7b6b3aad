import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Enricher, processStartTime } from '../../src/monitor/enrich.js';
import type { SyscallEvent } from '../../src/sources/event.js';

const CONTAINER = 'a'.repeat(64);
const BTIME = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);

interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  exe?: string;
  startTicks: number;
  cgroup?: string;
}

/** Writes /proc/PID/{stat,comm,exe,cgroup} the way the kernel lays them out. */
function writeProcess(root: string, p: FakeProcess): void {
  const dir = join(root, String(p.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice threads itrealvalue starttime.
  const rest = ['S', p.ppid, p.pid, p.pid, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, p.startTicks, 0];
  writeFileSync(join(dir, 'stat'), `${p.pid} (${p.comm}) ${rest.join(' ')}\n`);
  writeFileSync(join(dir, 'comm'), `${p.comm}\n`);
  writeFileSync(join(dir, 'cgroup'), p.cgroup ?? '0::/user.slice\n');
  if (p.exe !== undefined) symlinkSync(p.exe, join(dir, 'exe'));
}

function fakeProc(processes: FakeProcess[]): string {
  const root = mkdtempSync(join(tmpdir(), 'sysfence-proc-'));
  writeFileSync(join(root, 'stat'), `cpu 0 0 0 0\nbtime ${BTIME}\n`);
  for (const p of processes) writeProcess(root, p);
  return root;
}

const TREE: FakeProcess[] = [
  { pid: 1, ppid: 0, comm: 'systemd', exe: '/usr/lib/systemd/systemd', startTicks: 1 },
  { pid: 50, ppid: 1, comm: 'bash', exe: '/usr/bin/bash', startTicks: 500 },
  {
    pid: 100,
    ppid: 50,
    comm: 'x) S 1 (y', // a task name crafted to confuse a naive stat parser
    exe: '/tmp/dropper (deleted)',
    startTicks: 900,
    cgroup: `0::/system.slice/docker-${CONTAINER}.scope\n`,
  },
];

function event(pid: number, time: number): SyscallEvent {
  return { source: 'ebpf', host: 'h', time, pid, arch: 'x86_64', nr: 59, syscall: 'execve' };
}

test('lookup reads exe, comm, container and the parent chain from /proc', () => {
  const root = fakeProc(TREE);
  try {
    const info = new Enricher({ procRoot: root }).lookup(100);
    assert.deepEqual(info, {
      pid: 100,
      startTicks: 900,
      ppid: 50,
      comm: 'x) S 1 (y',
      exe: '/tmp/dropper (deleted)',
      containerId: CONTAINER,
      ancestors: [
        { pid: 50, comm: 'bash', exe: '/usr/bin/bash' },
        { pid: 1, comm: 'systemd', exe: '/usr/lib/systemd/systemd' },
      ],
    });
    assert.equal(processStartTime(100, root), 900);
    assert.equal(processStartTime(4242, root), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the cache is keyed by (pid, start time): a reused pid is looked up afresh', () => {
  const root = fakeProc(TREE);
  try {
    const enricher = new Enricher({ procRoot: root });
    enricher.lookup(100);
    assert.equal(enricher.lookup(100)?.exe, '/tmp/dropper (deleted)');
    assert.deepEqual(enricher.stats, { hits: 3, misses: 3, reusedPids: 0 }, '100, 50 and 1 read once');
    writeProcess(root, { pid: 100, ppid: 1, comm: 'nginx', exe: '/usr/sbin/nginx', startTicks: 1200 });
    const reused = enricher.lookup(100);
    assert.equal(reused?.exe, '/usr/sbin/nginx');
    assert.equal(reused?.containerId, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the cache is bounded and the parent chain is bounded, even when it loops', () => {
  const root = fakeProc([
    { pid: 7, ppid: 8, comm: 'a', startTicks: 1 },
    { pid: 8, ppid: 7, comm: 'b', startTicks: 1 },
    ...Array.from({ length: 20 }, (_, i) => ({ pid: 200 + i, ppid: 199 + i, comm: `p${i}`, startTicks: 5 })),
  ]);
  try {
    const enricher = new Enricher({ procRoot: root, cacheSize: 4, maxAncestors: 3 });
    assert.deepEqual(enricher.lookup(7)?.ancestors, [{ pid: 8, comm: 'b', exe: undefined }]);
    assert.deepEqual(
      enricher.lookup(219)?.ancestors.map((a) => a.pid),
      [218, 217, 216],
    );
    for (let pid = 200; pid < 220; pid += 1) enricher.lookup(pid);
    assert.ok((enricher as unknown as { cache: { size: number } }).cache.size <= 4);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('enrich fills only missing fields, and not from a process that started after the event', () => {
  const root = fakeProc(TREE);
  try {
    let clock = 0;
    const enricher = new Enricher({ procRoot: root, now: () => clock });
    const started = BTIME * 1000 + 9000; // pid 100 started 900 ticks (9 s) after boot
    const filled = enricher.enrich({ ...event(100, started + 1), comm: 'given' });
    assert.equal(filled.exe, '/tmp/dropper (deleted)');
    assert.equal(filled.comm, 'given', 'the event’s own field wins');
    assert.equal(filled.ppid, 50);
    assert.equal(filled.containerId, CONTAINER);
    clock = 10_000;
    const before = event(100, started - 60_000); // the pid named another process back then
    assert.deepEqual(enricher.enrich(before), before);
    assert.equal(enricher.stats.reusedPids, 1);
    assert.deepEqual(enricher.enrich(event(4242, started)), event(4242, started), 'gone: left as is');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a real child process: exe, comm, start time and this test as its parent', async () => {
  const child = spawn('/bin/sleep', ['5'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid!;
    // the exec may not have happened the instant spawn resolves; wait until comm says sleep
    for (let i = 0; i < 100 && readFileSync(`/proc/${pid}/comm`, 'utf8') !== 'sleep\n'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const info = new Enricher().lookup(pid);
    assert.equal(info?.comm, 'sleep');
    assert.match(info?.exe ?? '', /\/sleep$/);
    assert.equal(info?.ppid, process.pid);
    assert.equal(info?.ancestors[0]?.pid, process.pid);
    assert.equal(info?.startTicks, processStartTime(pid));
    assert.ok((processStartTime(pid) ?? 0) >= (processStartTime(process.pid) ?? Infinity));
  } finally {
    child.kill('SIGKILL');
  }
});
