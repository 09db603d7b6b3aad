/**
 * A realistic x86_64 syscall mix for weighting filter benchmarks: a Python web server (CPython 3.11's
 * http.server.ThreadingHTTPServer with SimpleHTTPRequestHandler, one thread per request) serving 900
 * requests from curl on loopback — 300 each of a small file, a 20 KB file and a 404.
 *
 * Measured on this project's VM (Linux 6.18, Debian 12) with
 *   strace -c -f -o load.txt python3 serve.py <port> 900      (plus the 900 curl requests)
 *   strace -c -f -o idle.txt python3 serve.py <port> 0        (start-up and shutdown only)
 * and recorded as load − idle, so interpreter start-up (imports, mmap of libraries) does not count: what
 * remains is the steady state a filter sees per request. The futex/rt_sigprocmask/gettid/clone3/rseq/
 * set_robust_list share comes from the thread per request; read/sendto/recvfrom/accept4/shutdown/poll from
 * the HTTP exchange; newfstatat/openat/lseek/ioctl/close from serving files.
 */

/** Syscall name → calls observed (x86_64 names). */
export const PYTHON_HTTP_SERVER_MIX: ReadonlyMap<string, number> = new Map([
  ['futex', 6551],
  ['rt_sigprocmask', 3601],
  ['gettid', 2700],
  ['newfstatat', 2112],
  ['read', 1813],
  ['sendto', 1798],
  ['close', 1503],
  ['write', 1198],
  ['mmap', 910],
  ['openat', 903],
  ['munmap', 902],
  ['madvise', 901],
  ['poll', 900],
  ['clone3', 900],
  ['accept4', 900],
  ['recvfrom', 900],
  ['set_robust_list', 900],
  ['rseq', 900],
  ['getsockname', 900],
  ['shutdown', 899],
  ['ioctl', 601],
  ['lseek', 601],
  ['mprotect', 8],
]);

/**
 * Argument values typical of real calls for syscalls whose filter paths depend on arguments in Docker's
 * profile (every other syscall is measured with zero arguments): socket(AF_INET, SOCK_STREAM, 0),
 * personality(0xffffffff) (the query glibc and Python make) and clone with pthread_create's flags
 * (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
 * CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID = 0x3d0f00).
 */
export const TYPICAL_ARGUMENTS: ReadonlyMap<string, readonly bigint[]> = new Map([
  ['socket', [2n, 1n, 0n]],
  ['personality', [0xffffffffn]],
  ['clone', [0x3d0f00n]],
]);
