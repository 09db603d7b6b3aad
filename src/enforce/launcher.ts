/**
 * The launcher: the child process `sysfence run` starts (Node cannot fork). It reads a launch plan on
 * fd 3, confines itself and execve()s the workload, which then replaces it (same pid; exit status and
 * fatal signals reach `run` unchanged).
 *
 * Order, and why:
 *  1. Read and validate the plan; lay out execve's path, argv and envp and the filter in native memory,
 *     and bind every libc function — so nothing allocates or loads between the filter and execve.
 *  2. Clear O_NONBLOCK on fds 0-2 (Node shares them with `run` and may have made them non-blocking)
 *     and FD_CLOEXEC (Node marks every descriptor it inherits close-on-exec at startup).
 *  3. no_new_privs (required by Landlock and seccomp for an unprivileged caller; also for root, so a
 *     setuid binary cannot shed the filter's intent).
 *  4. Landlock on this thread (the one that will exec).
 *  5. seccomp with TSYNC (all of Node's threads) and LOG, behind the exec gate (seccomp.ts).
 *  6. execve at once. Steps 5→6 are the only window in which launcher code runs under the filter.
 * Any failure is written to fd 4 (close-on-exec, so a successful exec closes it empty) and the launcher
 * exits without running the command.
 */
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { hostArch } from '../syscalls/arch.js';
import {
  clearCloseOnExec,
  clearNonBlocking,
  errnoText,
  errnoValue,
  execve,
  nativeString,
  nativeStringArray,
  preloadLibc,
  setCloseOnExec,
  setNoNewPrivs,
} from './ffi.js';
import { applyLandlock } from './landlock.js';
import { parseLaunchPlan } from './launch-plan.js';
import { gateProgram, installFilter, prepareFilter } from './seccomp.js';
import { LAUNCH_FAILED_EXIT, PLAN_FD, STATUS_FD, type LaunchFailure } from './launch-protocol.js';

/** Exit codes of a failed exec, as shells use them: 127 not found, 126 found but not executable. */
function execFailureExit(errno: number): number {
  return errno === errnoValue('ENOENT') ? 127 : 126;
}

/** stdio as if the command ran directly: blocking, and inherited across execve. */
function handOverStdio(fd: number): void {
  clearNonBlocking(fd);
  clearCloseOnExec(fd);
}

function reportFailure(failure: LaunchFailure): never {
  try {
    writeSync(STATUS_FD, JSON.stringify(failure));
  } finally {
    process.exit(failure.exitCode);
  }
}

function launch(): never {
  let stage = 'reading the launch plan';
  try {
    const plan = parseLaunchPlan(readFileSync(PLAN_FD, 'utf8'));
    closeSync(PLAN_FD);
    setCloseOnExec(STATUS_FD);

    stage = 'preparing the filter';
    preloadLibc();
    const path = nativeString(plan.executable);
    const argv = nativeStringArray(plan.argv);
    const envp = nativeStringArray(plan.env);
    const fprog = prepareFilter(gateProgram(plan.program, hostArch(), path.address));

    stage = 'handing stdio to the command';
    [0, 1, 2].forEach(handOverStdio);
    stage = 'setting no_new_privs';
    setNoNewPrivs();
    if (plan.landlock) {
      stage = 'applying Landlock';
      applyLandlock(plan.landlock);
    }
    stage = 'installing the seccomp filter';
    installFilter(fprog, plan.filterFlags);
    const errno = execve(path, argv, envp);
    return reportFailure({
      message: `cannot execute ${plan.executable}: ${errnoText(errno)}`,
      exitCode: execFailureExit(errno),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return reportFailure({ message: `${stage}: ${message}`, exitCode: LAUNCH_FAILED_EXIT });
  }
}

launch();
