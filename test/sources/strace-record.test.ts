import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { recordWithStrace, straceArguments } from '../../src/sources/strace-record.js';
import { checkWorkloadRecording, PYTHON_EXE, WORKLOAD } from './recording-workload.js';

test('strace records a command from its exec, with descendants, raw learned arguments and its exit status', async () => {
  const recording = await recordWithStrace({
    target: { kind: 'command', argv: WORKLOAD },
    host: 'test-host',
  });
  assert.deepEqual(recording.status, { kind: 'exited', code: 3 });
  assert.equal(recording.stats.malformed, 0, JSON.stringify(recording.stats.problems));
  assert.ok(recording.events.every((e) => e.source === 'strace' && e.host === 'test-host'));
  checkWorkloadRecording(recording.events);
});

test('a command killed by a signal reports the signal', async () => {
  const recording = await recordWithStrace({
    target: { kind: 'command', argv: ['/usr/bin/sh', '-c', 'kill -USR1 $$'] },
  });
  assert.deepEqual(recording.status, { kind: 'signaled', signal: 'SIGUSR1', number: 10 });
  assert.ok(recording.events.some((e) => e.syscall === 'kill'));
});

test('strace flags keep learned arguments raw and follow children', () => {
  const args = straceArguments('/tmp/out', ['/bin/true']);
  assert.deepEqual(args.slice(0, 3), ['-f', '-qq', '-ttt']);
  assert.ok(args.includes('raw=clone,ioctl,personality,prctl,socket,unshare'));
  assert.deepEqual(args.slice(-2), ['--', '/bin/true']);
});

test('strace missing: an error with the install hint, and nothing runs', async () => {
  const marker = `/tmp/sysfence-must-not-exist-${process.pid}`;
  await assert.rejects(
    recordWithStrace({
      target: { kind: 'command', argv: ['/usr/bin/touch', marker] },
      pathVariable: '/nonexistent',
    }),
    /strace not found on PATH; install it: apt-get install -y strace/,
  );
  assert.equal(existsSync(marker), false);
});

test('a command started by a relative path through a link is named as the kernel names it', async () => {
  const recording = await recordWithStrace({
    target: { kind: 'command', argv: ['./python3', '-c', 'pass'], cwd: '/usr/bin' },
  });
  assert.deepEqual(recording.status, { kind: 'exited', code: 0 });
  assert.deepEqual([...new Set(recording.events.map((e) => e.exe))], [PYTHON_EXE]);
  assert.ok(!recording.events.some((e) => e.syscall === 'execve'), 'the launcher exec is not counted');
});
