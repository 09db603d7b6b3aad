/** The workload both recorders are tested on, and the checks every recording of it must pass. */
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import type { SyscallEvent } from '../../src/sources/event.js';

export const PYTHON = '/usr/bin/python3';
/** The executables as the kernel names them (/proc/PID/exe, audit exe=): Debian's python3 and sh are links. */
export const PYTHON_EXE = realpathSync(PYTHON);
export const SH_EXE = realpathSync('/usr/bin/sh');

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
  // The stub (/bin/sh) or strace never appear: only the command and what it started, named as the
  // kernel names them (links resolved: python3 -> python3.11, sh -> dash on Debian).
  assert.deepEqual([...executables].sort(), [PYTHON_EXE, SH_EXE, '/usr/bin/true'].sort());
  // Only the subprocess child's exec of sh, made from python's image: the launcher's exec of python3
  // (the command's own start) is not the workload's and is not counted.
  assert.equal(calls(events, PYTHON_EXE, 'execve'), 1);
  const sockets = events.filter((e) => e.exe === PYTHON_EXE && e.syscall === 'socket');
  assert.deepEqual(
    sockets.map((e) => e.args?.[0]),
    sockets.map(() => 0xan),
  );
  assert.equal(calls(events, PYTHON_EXE, 'socket'), 1);
  assert.ok(calls(events, SH_EXE, 'execve') >= 1, 'sh -c started /usr/bin/true');
  assert.ok(calls(events, '/usr/bin/true', 'exit_group') === 1, 'the grandchild was followed');
  assert.ok(calls(events, PYTHON_EXE, 'exit_group') === 1);
}
