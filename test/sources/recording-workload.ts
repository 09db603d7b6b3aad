/** The workload both recorders are tested on, and the checks every recording of it must pass. */
import assert from 'node:assert/strict';
import type { SyscallEvent } from '../../src/sources/event.js';

export const PYTHON = '/usr/bin/python3';

/** python3 opens an AF_INET6 socket, runs `sh -c` (a descendant that execs /usr/bin/true), exits 3. */
export const WORKLOAD: readonly string[] = [
  PYTHON,
  '-c',
  "import socket, subprocess, sys; socket.socket(socket.AF_INET6); subprocess.run(['/usr/bin/sh', '-c', '/usr/bin/true; exit 0']); sys.exit(3)",
];

function calls(events: readonly SyscallEvent[], exe: string, syscall: string): number {
  return events
    .filter((e) => e.exe === exe && e.syscall === syscall)
    .reduce((sum, e) => sum + (e.count ?? 1), 0);
}

/** What a recording of WORKLOAD must hold: the target from its exec on, its descendants, no launcher. */
export function checkWorkloadRecording(events: readonly SyscallEvent[]): void {
  const executables = new Set(events.map((e) => e.exe));
  // The stub (/bin/sh) or strace never appear: only the command and what it started.
  assert.deepEqual([...executables].sort(), ['/usr/bin/python3', '/usr/bin/sh', '/usr/bin/true']);
  // Its own exec (the stub's, counted once) and the subprocess child's exec of sh, made from python's image.
  assert.equal(calls(events, PYTHON, 'execve'), 2);
  const sockets = events.filter((e) => e.exe === PYTHON && e.syscall === 'socket');
  assert.deepEqual(
    sockets.map((e) => e.args?.[0]),
    sockets.map(() => 0xan),
  );
  assert.equal(calls(events, PYTHON, 'socket'), 1);
  assert.ok(calls(events, '/usr/bin/sh', 'execve') >= 1, 'sh -c started /usr/bin/true');
  assert.ok(calls(events, '/usr/bin/true', 'exit_group') === 1, 'the grandchild was followed');
  assert.ok(calls(events, PYTHON, 'exit_group') === 1);
}
