/**
 * Real programs under policies: python3 (Debian's /usr/bin/python3) runs normally under Docker's default
 * profile imported from OCI JSON, and under a tight sysfence policy is refused exactly what it denies.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { dockerDefaultProfilePath } from '../../bench/docker-profile.js';
import { describe, runUnder, writePolicy } from './support.js';

const PYTHON = '/usr/bin/python3';
const DOCKER_DEFAULT = dockerDefaultProfilePath();
const EPERM = 1;
const EACCES = 13;

/** A python script printing one "name value" line per probe; failures print the errno. */
const PROBES = `
import ctypes, os, socket, subprocess, sys
def attempt(name, action):
    try:
        print(name, action())
    except OSError as e:
        print(name, "errno", e.errno)
libc = ctypes.CDLL(None, use_errno=True)
def unshare():
    if libc.syscall(272, 0) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    return "ok"
attempt("compute", lambda: sum(range(1000)))
attempt("file", lambda: len(open("/etc/hostname").read()) > 0)
attempt("socket", lambda: socket.socket().close() or "ok")
attempt("subprocess", lambda: subprocess.run(["/bin/true"]).returncode)
attempt("unshare", unshare)
`;

function probeLines(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => [line.split(' ')[0] ?? '', line.slice(line.indexOf(' ') + 1)]),
  );
}

test('python3 works under Docker default (imported OCI profile); the profile still refuses unshare', () => {
  assert.ok(existsSync(PYTHON), 'apt-get install -y python3');
  const result = runUnder(DOCKER_DEFAULT, [PYTHON, '-c', PROBES]);
  assert.equal(result.status, 0, describe(result));
  const lines = probeLines(result.stdout);
  assert.equal(lines.get('compute'), '499500');
  assert.equal(lines.get('file'), 'True');
  assert.equal(lines.get('socket'), 'ok');
  assert.equal(lines.get('subprocess'), '0');
  assert.equal(lines.get('unshare'), `errno ${EPERM}`, 'Docker denies unshare without CAP_SYS_ADMIN');
});

const TIGHT = `
name: python-tight
architectures: [x86_64]
defaultAction: errno(EPERM)
unknownAction: errno(ENOSYS)
badArchAction: kill_process
rules:
  - syscalls: [socket, socketpair, execve, execveat]
    action: errno(EACCES)
    reason: "no network, no new programs: first, so the groups below cannot re-allow them"
  - syscalls: ["@default", "@basic-io", "@file-system", "@io-event", "@signal", "@timer", "@sync"]
    action: allow
    reason: "python's runtime"
  - syscalls: [brk, mmap, munmap, mprotect, mremap, madvise, futex, set_robust_list, rseq, set_tid_address,
               arch_prctl, getpid, gettid, getppid, getuid, geteuid, getgid, getegid, getrandom, uname,
               sched_getaffinity, prlimit64, ioctl, sysinfo, clone, clone3, wait4, pipe2, dup2, vfork]
    action: allow
    reason: "process runtime"
`;

test('python3 under a tight policy runs, and is refused what the policy denies', () => {
  const result = runUnder(writePolicy(TIGHT), [PYTHON, '-c', PROBES]);
  assert.equal(result.status, 0, describe(result));
  const lines = probeLines(result.stdout);
  assert.equal(lines.get('compute'), '499500');
  assert.equal(lines.get('file'), 'True');
  assert.equal(lines.get('socket'), `errno ${EACCES}`);
  // subprocess forks, then execve is refused in the child: python reports the child's errno.
  assert.equal(lines.get('subprocess'), `errno ${EACCES}`);
  assert.equal(lines.get('unshare'), `errno ${EPERM}`, 'the default action');
});
