/**
 * Syscalls that reach the same kernel capability, and the ones that are harmless spelling variants.
 *
 * Equivalence classes find holes: denying `open` while allowing `openat` denies nothing. Tolerance
 * classes (tolerance: true) are low-risk variants that libc and runtime upgrades switch between without
 * the program changing (glibc moving from open to openat, from clone to clone3, ...): a learned policy
 * may accept one for the other instead of reporting a violation. A syscall may sit in several classes;
 * the broad class says what is equivalent, the narrower tolerance class says what is safe to swap.
 * Also here: calls served by the vDSO, and the socketcall / ipc multiplexers.
 */
import { ARCHES, syscallNumber, type Arch } from './arch.js';
import { isRisky } from './risk.js';

export interface EquivalenceClass {
  readonly id: string;
  readonly syscalls: readonly string[];
  /** True if the members are low-risk variants a libc or runtime upgrade may switch between. */
  readonly tolerance: boolean;
  readonly note: string;
}

function cls(id: string, tolerance: boolean, note: string, syscalls: readonly string[]): EquivalenceClass {
  return { id, syscalls, tolerance, note };
}

const EQUIVALENT = false;
const TOLERANT = true;

export const EQUIVALENCE_CLASSES: readonly EquivalenceClass[] = [
  // executing programs and creating processes
  cls('exec', EQUIVALENT, 'both execute a program; execveat(fd, "", AT_EMPTY_PATH) runs an fd (fexecve)', [
    'execve',
    'execveat',
  ]),
  cls('process-create', TOLERANT, 'libc fork() is clone() today and clone3() on newer glibc', [
    'fork',
    'vfork',
    'clone',
    'clone3',
  ]),
  cls(
    'namespace-create',
    EQUIVALENT,
    'clone and clone3 with CLONE_NEW* flags create namespaces just like unshare',
    ['unshare', 'clone', 'clone3'],
  ),
  cls('wait', TOLERANT, 'waitpid is wait4 on most ABIs; waitid is the modern spelling', [
    'wait4',
    'waitid',
    'waitpid',
  ]),
  cls(
    'remote-memory-write',
    EQUIVALENT,
    "process_vm_writev does what ptrace(PTRACE_POKEDATA) does to another process's memory",
    ['ptrace', 'process_vm_writev'],
  ),
  cls(
    'remote-memory-read',
    EQUIVALENT,
    "process_vm_readv does what ptrace(PTRACE_PEEKDATA) does to another process's memory",
    ['ptrace', 'process_vm_readv'],
  ),
  cls('signal-send', EQUIVALENT, 'every one of these delivers a signal to another task', [
    'kill',
    'tkill',
    'tgkill',
    'rt_sigqueueinfo',
    'rt_tgsigqueueinfo',
    'pidfd_send_signal',
  ]),

  // opening and inspecting files
  cls('open', EQUIVALENT, 'creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)', [
    'open',
    'openat',
    'openat2',
    'creat',
  ]),
  cls('open-variant', TOLERANT, 'glibc uses openat for open(); openat2 adds resolve restrictions only', [
    'open',
    'openat',
    'openat2',
  ]),
  cls(
    'stat',
    TOLERANT,
    'file status; which one libc uses depends on ABI and version (statx since glibc 2.28/2.33)',
    [
      'stat',
      'lstat',
      'fstat',
      'newfstatat',
      'statx',
      'stat64',
      'lstat64',
      'fstat64',
      'fstatat64',
      'oldstat',
      'oldlstat',
      'oldfstat',
    ],
  ),
  cls('statfs', TOLERANT, 'file-system status, 32/64-bit variants', [
    'statfs',
    'statfs64',
    'fstatfs',
    'fstatfs64',
  ]),
  cls('access', TOLERANT, 'permission checks; glibc uses faccessat for access()', [
    'access',
    'faccessat',
    'faccessat2',
  ]),
  cls('readlink', TOLERANT, 'glibc uses readlinkat for readlink()', ['readlink', 'readlinkat']),
  cls('getdents', TOLERANT, 'directory listing; readdir is the old i386 single-entry form', [
    'getdents',
    'getdents64',
    'readdir',
  ]),
  cls('chdir', TOLERANT, 'change of working directory by path or by fd', ['chdir', 'fchdir']),
  cls('getxattr', TOLERANT, 'read an extended attribute by path, link, fd or dirfd', [
    'getxattr',
    'lgetxattr',
    'fgetxattr',
    'getxattrat',
  ]),
  cls('listxattr', TOLERANT, 'list extended attributes by path, link, fd or dirfd', [
    'listxattr',
    'llistxattr',
    'flistxattr',
    'listxattrat',
  ]),

  // changing files
  cls('rename', EQUIVALENT, 'renameat2 adds RENAME_EXCHANGE / RENAME_WHITEOUT', [
    'rename',
    'renameat',
    'renameat2',
  ]),
  cls('unlink', EQUIVALENT, 'unlinkat(AT_REMOVEDIR) also removes directories', ['unlink', 'unlinkat']),
  cls('rmdir', EQUIVALENT, 'unlinkat(fd, path, AT_REMOVEDIR) is rmdir', ['rmdir', 'unlinkat']),
  cls('link', EQUIVALENT, 'hard links', ['link', 'linkat']),
  cls('symlink', EQUIVALENT, 'symbolic links', ['symlink', 'symlinkat']),
  cls('mkdir', EQUIVALENT, 'directory creation', ['mkdir', 'mkdirat']),
  cls('mknod', EQUIVALENT, 'device nodes, FIFOs and sockets in the file system', ['mknod', 'mknodat']),
  cls('chmod', EQUIVALENT, 'mode changes by path, fd or dirfd', ['chmod', 'fchmod', 'fchmodat', 'fchmodat2']),
  cls('chown', EQUIVALENT, 'ownership changes, including the 32-bit-uid variants of 32-bit ABIs', [
    'chown',
    'chown32',
    'fchown',
    'fchown32',
    'fchownat',
    'lchown',
    'lchown32',
  ]),
  cls('utimes', EQUIVALENT, 'file time stamps', [
    'utime',
    'utimes',
    'futimesat',
    'utimensat',
    'utimensat_time64',
  ]),
  cls('setxattr', EQUIVALENT, 'write an extended attribute (security.* labels, capabilities)', [
    'setxattr',
    'lsetxattr',
    'fsetxattr',
    'setxattrat',
  ]),
  cls('removexattr', EQUIVALENT, 'remove an extended attribute', [
    'removexattr',
    'lremovexattr',
    'fremovexattr',
    'removexattrat',
  ]),
  cls('truncate', TOLERANT, 'same call, 32/64-bit offset variants', ['truncate', 'truncate64']),
  cls('ftruncate', TOLERANT, 'same call, 32/64-bit offset variants', ['ftruncate', 'ftruncate64']),
  cls('fadvise', TOLERANT, 'same call, ABI-specific argument orders', [
    'fadvise64',
    'fadvise64_64',
    'arm_fadvise64_64',
  ]),
  cls('sync-file-range', TOLERANT, 'same call, ABI-specific argument orders', [
    'sync_file_range',
    'sync_file_range2',
  ]),

  // file descriptors and I/O
  cls('dup', EQUIVALENT, 'fd duplication; dup2 and dup3 can also replace a chosen fd', [
    'dup',
    'dup2',
    'dup3',
  ]),
  cls('dup-variant', TOLERANT, 'dup3 is dup2 with O_CLOEXEC; aarch64 and riscv64 only have dup3', [
    'dup2',
    'dup3',
  ]),
  cls('pipe', TOLERANT, 'pipe2 is pipe with flags; newer ABIs only have pipe2', ['pipe', 'pipe2']),
  cls('read', TOLERANT, 'reading an open fd, with or without offset and vectors', [
    'read',
    'readv',
    'pread64',
    'preadv',
    'preadv2',
  ]),
  cls('write', TOLERANT, 'writing an open fd, with or without offset and vectors', [
    'write',
    'writev',
    'pwrite64',
    'pwritev',
    'pwritev2',
  ]),
  cls('lseek', TOLERANT, 'same call; _llseek / llseek are the 32-bit ABIs 64-bit offset forms', [
    'lseek',
    '_llseek',
    'llseek',
  ]),
  cls('fcntl', TOLERANT, 'same call; fcntl64 on 32-bit ABIs', ['fcntl', 'fcntl64']),
  cls('sendfile', TOLERANT, 'same call, 32/64-bit offset variants', ['sendfile', 'sendfile64']),
  cls('mmap', TOLERANT, 'same call; mmap2 takes the offset in pages on 32-bit ABIs', ['mmap', 'mmap2']),

  // event waiting
  cls('poll', TOLERANT, 'ppoll adds a signal mask and timespec; glibc uses ppoll where poll is missing', [
    'poll',
    'ppoll',
    'ppoll_time64',
  ]),
  cls('select', TOLERANT, 'pselect6 adds a signal mask; glibc uses it where select is missing', [
    'select',
    '_newselect',
    'pselect6',
    'pselect6_time64',
  ]),
  cls('epoll-wait', TOLERANT, 'epoll_pwait adds a signal mask, epoll_pwait2 a timespec', [
    'epoll_wait',
    'epoll_pwait',
    'epoll_pwait2',
    'epoll_wait_old',
  ]),
  cls('epoll-create', TOLERANT, 'epoll_create1 is epoll_create with flags', [
    'epoll_create',
    'epoll_create1',
  ]),
  cls('epoll-ctl', TOLERANT, 'epoll_ctl_old is the pre-release x86_64 spelling', [
    'epoll_ctl',
    'epoll_ctl_old',
  ]),
  cls('eventfd', TOLERANT, 'eventfd2 is eventfd with flags', ['eventfd', 'eventfd2']),
  cls('signalfd', TOLERANT, 'signalfd4 is signalfd with flags', ['signalfd', 'signalfd4']),
  cls('inotify-init', TOLERANT, 'inotify_init1 is inotify_init with flags', [
    'inotify_init',
    'inotify_init1',
  ]),
  cls('aio-getevents', TOLERANT, 'io_pgetevents adds a signal mask', [
    'io_getevents',
    'io_pgetevents',
    'io_pgetevents_time64',
  ]),

  // sockets
  cls('accept', TOLERANT, 'accept4 is accept with flags', ['accept', 'accept4']),
  cls('send', TOLERANT, 'sending on a socket; send is sendto without an address', [
    'send',
    'sendto',
    'sendmsg',
    'sendmmsg',
  ]),
  cls('recv', TOLERANT, 'receiving on a socket; recv is recvfrom without an address', [
    'recv',
    'recvfrom',
    'recvmsg',
    'recvmmsg',
    'recvmmsg_time64',
  ]),

  // time, sleeping, futexes (the *_time64 twins are the 64-bit time_t forms of 32-bit ABIs)
  cls('clock-read', TOLERANT, 'reading a clock; usually served by the vDSO', [
    'clock_gettime',
    'clock_gettime64',
    'gettimeofday',
    'time',
  ]),
  cls('clock-getres', TOLERANT, 'clock resolution', ['clock_getres', 'clock_getres_time64']),
  cls('sleep', TOLERANT, 'glibc implements nanosleep with clock_nanosleep', [
    'nanosleep',
    'clock_nanosleep',
    'clock_nanosleep_time64',
  ]),
  cls('futex', TOLERANT, 'futex operations; futex_wait/wake/requeue/waitv are the futex2 forms', [
    'futex',
    'futex_time64',
    'futex_waitv',
    'futex_wait',
    'futex_wake',
    'futex_requeue',
  ]),
  cls('timer-settime', TOLERANT, 'same call, 64-bit time_t form', ['timer_settime', 'timer_settime64']),
  cls('timer-gettime', TOLERANT, 'same call, 64-bit time_t form', ['timer_gettime', 'timer_gettime64']),
  cls('timerfd-settime', TOLERANT, 'same call, 64-bit time_t form', ['timerfd_settime', 'timerfd_settime64']),
  cls('timerfd-gettime', TOLERANT, 'same call, 64-bit time_t form', ['timerfd_gettime', 'timerfd_gettime64']),
  cls('sched-rr-interval', TOLERANT, 'same call, 64-bit time_t form', [
    'sched_rr_get_interval',
    'sched_rr_get_interval_time64',
  ]),
  cls('set-time', EQUIVALENT, 'every one of these can set a host-wide clock', [
    'settimeofday',
    'stime',
    'clock_settime',
    'clock_settime64',
    'adjtimex',
    'clock_adjtime',
    'clock_adjtime64',
  ]),

  // signals
  cls('sigaction', TOLERANT, 'signal handler installation; rt_ forms on every modern ABI', [
    'rt_sigaction',
    'sigaction',
    'signal',
  ]),
  cls('sigprocmask', TOLERANT, 'signal mask changes', ['rt_sigprocmask', 'sigprocmask']),
  cls('sigreturn', TOLERANT, 'return from a signal handler', ['rt_sigreturn', 'sigreturn']),
  cls('sigsuspend', TOLERANT, 'wait for a signal', ['rt_sigsuspend', 'sigsuspend']),
  cls('sigpending', TOLERANT, 'pending signals', ['rt_sigpending', 'sigpending']),
  cls('sigtimedwait', TOLERANT, 'same call, 64-bit time_t form', [
    'rt_sigtimedwait',
    'rt_sigtimedwait_time64',
  ]),

  // credentials and limits (the *32 twins are the 32-bit-uid forms of 32-bit ABIs)
  cls('getuid', TOLERANT, 'same call, 32-bit-uid form', ['getuid', 'getuid32']),
  cls('geteuid', TOLERANT, 'same call, 32-bit-uid form', ['geteuid', 'geteuid32']),
  cls('getgid', TOLERANT, 'same call, 32-bit-gid form', ['getgid', 'getgid32']),
  cls('getegid', TOLERANT, 'same call, 32-bit-gid form', ['getegid', 'getegid32']),
  cls('getresuid', TOLERANT, 'same call, 32-bit-uid form', ['getresuid', 'getresuid32']),
  cls('getresgid', TOLERANT, 'same call, 32-bit-gid form', ['getresgid', 'getresgid32']),
  cls('getgroups', TOLERANT, 'same call, 32-bit-gid form', ['getgroups', 'getgroups32']),
  cls('setuid', EQUIVALENT, 'every one of these changes user ids (CAP_SETUID)', [
    'setuid',
    'setuid32',
    'setreuid',
    'setreuid32',
    'setresuid',
    'setresuid32',
    'setfsuid',
    'setfsuid32',
  ]),
  cls('setgid', EQUIVALENT, 'every one of these changes group ids (CAP_SETGID)', [
    'setgid',
    'setgid32',
    'setregid',
    'setregid32',
    'setresgid',
    'setresgid32',
    'setfsgid',
    'setfsgid32',
  ]),
  cls('setgroups', EQUIVALENT, 'supplementary groups, 32-bit-gid form', ['setgroups', 'setgroups32']),
  cls('getrlimit', TOLERANT, 'reading limits; prlimit64 is not here because it can also set them', [
    'getrlimit',
    'ugetrlimit',
  ]),
  cls('setrlimit', EQUIVALENT, 'prlimit64 sets limits, also of other processes', ['setrlimit', 'prlimit64']),
  cls('uname', TOLERANT, 'old uname structures of 32-bit ABIs', ['uname', 'olduname', 'oldolduname']),

  // IPC
  cls('semop', TOLERANT, 'semop is semtimedop without a timeout', [
    'semop',
    'semtimedop',
    'semtimedop_time64',
  ]),
  cls('mq-timedsend', TOLERANT, 'same call, 64-bit time_t form', ['mq_timedsend', 'mq_timedsend_time64']),
  cls('mq-timedreceive', TOLERANT, 'same call, 64-bit time_t form', [
    'mq_timedreceive',
    'mq_timedreceive_time64',
  ]),

  // privileged operations
  cls(
    'mount',
    EQUIVALENT,
    'the new mount API (fsopen+fsconfig+fsmount+move_mount, open_tree, fspick) does what mount(2) does',
    [
      'mount',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'move_mount',
      'open_tree',
      'open_tree_attr',
      'mount_setattr',
    ],
  ),
  cls('umount', EQUIVALENT, 'umount is umount2 without flags', ['umount', 'umount2']),
  cls('change-root', EQUIVALENT, 'both change what "/" means for the caller', ['chroot', 'pivot_root']),
  cls('module-load', EQUIVALENT, 'both load a kernel module', ['init_module', 'finit_module']),
  cls('kexec', EQUIVALENT, 'both load a new kernel', ['kexec_load', 'kexec_file_load']),
  cls('quotactl', EQUIVALENT, 'quota control by device path or by fd', ['quotactl', 'quotactl_fd']),
  cls('vm86', EQUIVALENT, 'both enter virtual-8086 mode', ['vm86', 'vm86old']),
];

function classesOf(name: string, onlyTolerance: boolean): readonly EquivalenceClass[] {
  return EQUIVALENCE_CLASSES.filter((c) => (!onlyTolerance || c.tolerance) && c.syscalls.includes(name));
}

function otherMembers(name: string, classes: readonly EquivalenceClass[]): string[] {
  const names = new Set(classes.flatMap((c) => c.syscalls));
  names.delete(name);
  return [...names].sort();
}

/** Every syscall sharing a class with `name` (the same capability by another route), sorted. */
export function equivalentsOf(name: string): readonly string[] {
  return otherMembers(name, classesOf(name, false));
}

/**
 * The low-risk variants a libc or runtime upgrade may use instead of `name`, sorted. Never returns a
 * syscall from the risk catalogue (e.g. clone3, whose flags a filter cannot inspect).
 */
export function toleranceVariantsOf(name: string): readonly string[] {
  return otherMembers(name, classesOf(name, true)).filter((variant) => !isRisky(variant));
}

/**
 * Calls the vDSO serves in user space on the ABIs that have one: they normally never reach the filter,
 * so allowing or denying them changes nothing until libc falls back to the real syscall (no vDSO, or
 * a clock the vDSO does not handle).
 */
export const VDSO_SYSCALLS: readonly string[] = [
  'clock_gettime',
  'clock_gettime64',
  'gettimeofday',
  'time',
  'getcpu',
  'clock_getres',
];

/** One sub-call of a multiplexer: its selector value (the multiplexer's argument 0) and the syscall. */
export interface MultiplexedCall {
  readonly call: number;
  readonly syscall: string;
}

export interface Multiplexer {
  readonly syscall: 'socketcall' | 'ipc';
  /** ABIs whose table has the multiplexer. */
  readonly arches: readonly Arch[];
  /** Mask to apply to argument 0 before comparing it with `call` (ipc keeps a version in bits 16+). */
  readonly selectorMask: number;
  readonly calls: readonly MultiplexedCall[];
  readonly note: string;
}

function abisWith(syscall: string): readonly Arch[] {
  return ARCHES.filter((arch) => syscallNumber(arch, syscall) !== undefined);
}

/** include/uapi/linux/net.h SYS_* values. */
const SOCKETCALL_CALLS: readonly MultiplexedCall[] = [
  { call: 1, syscall: 'socket' },
  { call: 2, syscall: 'bind' },
  { call: 3, syscall: 'connect' },
  { call: 4, syscall: 'listen' },
  { call: 5, syscall: 'accept' },
  { call: 6, syscall: 'getsockname' },
  { call: 7, syscall: 'getpeername' },
  { call: 8, syscall: 'socketpair' },
  { call: 9, syscall: 'send' },
  { call: 10, syscall: 'recv' },
  { call: 11, syscall: 'sendto' },
  { call: 12, syscall: 'recvfrom' },
  { call: 13, syscall: 'shutdown' },
  { call: 14, syscall: 'setsockopt' },
  { call: 15, syscall: 'getsockopt' },
  { call: 16, syscall: 'sendmsg' },
  { call: 17, syscall: 'recvmsg' },
  { call: 18, syscall: 'accept4' },
  { call: 19, syscall: 'recvmmsg' },
  { call: 20, syscall: 'sendmmsg' },
];

/** include/uapi/linux/ipc.h call numbers. */
const IPC_CALLS: readonly MultiplexedCall[] = [
  { call: 1, syscall: 'semop' },
  { call: 2, syscall: 'semget' },
  { call: 3, syscall: 'semctl' },
  { call: 4, syscall: 'semtimedop' },
  { call: 11, syscall: 'msgsnd' },
  { call: 12, syscall: 'msgrcv' },
  { call: 13, syscall: 'msgget' },
  { call: 14, syscall: 'msgctl' },
  { call: 21, syscall: 'shmat' },
  { call: 22, syscall: 'shmdt' },
  { call: 23, syscall: 'shmget' },
  { call: 24, syscall: 'shmctl' },
];

/**
 * socketcall and ipc: one syscall number that performs many operations, chosen by argument 0. A filter
 * that allows the multiplexer allows every sub-call, and the sub-call's own arguments sit in user memory
 * (socketcall) where seccomp cannot read them. The ABIs that have them also have the direct calls
 * (i386 since Linux 4.3), so libc may use either: deny or allow both forms together.
 */
export const MULTIPLEXERS: readonly Multiplexer[] = [
  {
    syscall: 'socketcall',
    arches: abisWith('socketcall'),
    selectorMask: 0xffffffff,
    calls: SOCKETCALL_CALLS,
    note: 'argument 1 points to the real arguments in memory: socket families and flags cannot be checked',
  },
  {
    syscall: 'ipc',
    arches: abisWith('ipc'),
    selectorMask: 0xffff,
    calls: IPC_CALLS,
    note: 'argument 0 is IPCCALL(version, call): the version sits in bits 16-31, so mask before comparing',
  },
];
