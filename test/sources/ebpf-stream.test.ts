import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { emptySourceStats, type SyscallEvent } from '../../src/sources/event.js';
import { quietNumbers, streamEbpfEvents, streamingProgram } from '../../src/sources/ebpf-stream.js';
import { syscallEntries, syscallNumber } from '../../src/syscalls/arch.js';

const GETPPID = syscallNumber('x86_64', 'getppid')!;

test('the streaming program counts allowed calls and prints the rest; exec and clone are always printed', () => {
  const allowed = new Set([0, 1, 59, 56, GETPPID]);
  assert.deepEqual(quietNumbers(allowed, 'x86_64'), [0, 1, GETPPID]); // execve (59) and clone (56) stay loud
  const program = streamingProgram([0, 1], 'x86_64', 5, 1234);
  assert.match(program, /BEGIN \{ @self = pid; @quiet\[0\] = 1; @quiet\[1\] = 1;/);
  assert.match(program, /sys_enter \/pid != 1234 && pid != @self\//);
  assert.match(program, /interval:s:5 \{ print\(@counts\); clear\(@counts\); \}/);
  assert.throws(() => streamingProgram([], 'x86_64', 0, 1), /whole seconds/);
});

test('a process calling a syscall outside the allowed set is streamed with its arguments; allowed calls are counted', async () => {
  const allowed = new Set(
    syscallEntries('x86_64')
      .map(([, nr]) => nr)
      .filter((nr) => nr !== GETPPID),
  );
  const stats = emptySourceStats();
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), 15_000);
  let child: number | undefined;
  const seen: SyscallEvent[] = [];
  const onAttached = (): void => {
    const workload = spawn('/usr/bin/python3', ['-c', 'import os, time; os.getppid(); time.sleep(1.5)'], {
      stdio: 'ignore',
    });
    child = workload.pid;
  };
  for await (const event of streamEbpfEvents({
    allowedNumbers: allowed,
    host: 'h',
    stats,
    signal: controller.signal,
    countersIntervalSeconds: 1,
    onAttached,
  })) {
    if (event.pid !== child) continue;
    seen.push(event);
    if (seen.some((e) => e.count !== undefined) && seen.some((e) => e.syscall === 'getppid'))
      controller.abort();
  }
  clearTimeout(timeout);
  const getppid = seen.find((e) => e.syscall === 'getppid');
  assert.ok(getppid !== undefined, 'getppid was not streamed');
  assert.equal(getppid.comm, 'python3');
  assert.equal(getppid.arch, 'x86_64');
  assert.equal(getppid.tid, child);
  assert.equal(getppid.args?.length, 6);
  assert.equal(getppid.count, undefined);
  assert.ok(
    seen.some((e) => e.syscall === 'execve' && e.count === undefined),
    'the exec is always streamed',
  );
  const counters = seen.filter((e) => e.count !== undefined);
  assert.ok(
    counters.some((e) => e.syscall === 'mmap'),
    'allowed calls are counted',
  );
  assert.ok(counters.every((e) => e.syscall !== 'getppid' && e.args === undefined));
  assert.ok(!seen.some((e) => e.pid === process.pid));
  assert.equal(stats.malformed, 0, JSON.stringify(stats.problems));
});
