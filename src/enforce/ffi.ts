/**
 * The only place sysfence calls into libc: prctl, seccomp, Landlock, fcntl and execve through koffi
 * (an FFI package that ships prebuilt binaries, so nothing is compiled at run time).
 *
 * Every wrapper reads errno immediately after its call (koffi.errno()) and throws a SystemCallError
 * naming the call and the errno on failure: a failed kernel call never passes silently.
 * Memory handed to the kernel is allocated with koffi.alloc: its address is stable (koffi 3 pointers
 * are BigInts), which the exec gate (seccomp.ts) relies on.
 */
import koffi from 'koffi';
import { hostArch, syscallNumber } from '../syscalls/arch.js';

/** A libc or kernel call failed; `errno` is the value the call left behind. */
export class SystemCallError extends Error {
  override readonly name = 'SystemCallError';
  constructor(
    readonly call: string,
    readonly errno: number,
    detail?: string,
  ) {
    super(`${call}${detail ? ` (${detail})` : ''} failed: ${errnoText(errno)}`);
  }

  /** The symbolic errno name, e.g. 'ENOENT', or undefined if koffi does not know it. */
  get code(): string | undefined {
    return errnoNames().get(this.errno);
  }
}

let cachedErrnoNames: ReadonlyMap<number, string> | undefined;

function errnoNames(): ReadonlyMap<number, string> {
  cachedErrnoNames ??= new Map(Object.entries(koffi.os.errno).map(([name, value]) => [value, name] as const));
  return cachedErrnoNames;
}

/** "ENOENT (2)" for an errno value. */
export function errnoText(errno: number): string {
  const name = errnoNames().get(errno);
  return name === undefined ? `errno ${errno}` : `${name} (${errno})`;
}

/** The errno value of a symbolic name on this host (koffi's table of the C library's values). */
export function errnoValue(name: string): number | undefined {
  return koffi.os.errno[name];
}

// Loaded lazily: importing this module (e.g. for its types) must not touch libc.
interface LibcFunctions {
  readonly syscall: (nr: number, ...typedArgs: unknown[]) => number | bigint;
  readonly prctl: (option: number, ...typedArgs: unknown[]) => number;
  readonly fcntl: (fd: number, cmd: number, ...typedArgs: unknown[]) => number;
  readonly execve: (path: bigint, argv: bigint, envp: bigint) => number;
  readonly close: (fd: number) => number;
}

let libc: LibcFunctions | undefined;

function loadLibc(): LibcFunctions {
  if (libc !== undefined) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    syscall: lib.func('long syscall(long number, ...)') as LibcFunctions['syscall'],
    prctl: lib.func('int prctl(int option, ...)') as LibcFunctions['prctl'],
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)') as LibcFunctions['fcntl'],
    // Pointers as BigInt addresses: the exec gate needs the exact address of the path string.
    execve: lib.func('int execve(void *path, void *argv, void *envp)') as LibcFunctions['execve'],
    close: lib.func('int close(int fd)') as LibcFunctions['close'],
  };
  return libc;
}

/** The host's number for a syscall, from sysfence's own tables (libc may predate Landlock). */
export function hostSyscallNumber(name: string): number {
  const nr = syscallNumber(hostArch(), name);
  if (nr === undefined) throw new Error(`the ${hostArch()} syscall table has no ${name}`);
  return nr;
}

/** A raw syscall result: the return value (negative on failure) and errno read right after the call. */
export interface RawResult {
  readonly value: number;
  readonly errno: number;
}

/**
 * A syscall by number with up to six word-sized arguments (BigInt pointers or numbers), returning the
 * raw result. Callers decide what failure means; most use `checkedSyscall` instead.
 */
export function rawSyscall(nr: number, args: readonly (number | bigint)[] = []): RawResult {
  const typed = args.flatMap((arg) => ['long', arg]);
  const value = Number(loadLibc().syscall(nr, ...typed));
  return { value, errno: value < 0 ? koffi.errno() : 0 };
}

/** A syscall by name that must succeed; returns its non-negative result or throws SystemCallError. */
export function checkedSyscall(name: string, args: readonly (number | bigint)[], detail?: string): number {
  const result = rawSyscall(hostSyscallNumber(name), args);
  if (result.value < 0) throw new SystemCallError(name, result.errno, detail);
  return result.value;
}

const PR_SET_NO_NEW_PRIVS = 38;
const PR_GET_NO_NEW_PRIVS = 39;

/** prctl(PR_SET_NO_NEW_PRIVS, 1): required to install a filter or Landlock domain without CAP_SYS_ADMIN. */
export function setNoNewPrivs(): void {
  const result = loadLibc().prctl(PR_SET_NO_NEW_PRIVS, 'ulong', 1, 'ulong', 0, 'ulong', 0, 'ulong', 0);
  if (result !== 0) throw new SystemCallError('prctl(PR_SET_NO_NEW_PRIVS)', koffi.errno());
}

/** Whether no_new_privs is set on the calling thread. */
export function getNoNewPrivs(): boolean {
  const result = loadLibc().prctl(PR_GET_NO_NEW_PRIVS, 'ulong', 0, 'ulong', 0, 'ulong', 0, 'ulong', 0);
  if (result < 0) throw new SystemCallError('prctl(PR_GET_NO_NEW_PRIVS)', koffi.errno());
  return result === 1;
}

/** Memory owned by the native heap at a fixed address (never moved by the JS garbage collector). */
export interface NativeBytes {
  readonly address: bigint;
  readonly length: number;
}

/** Copies bytes to freshly allocated native memory; the memory lives until the process execs or exits. */
export function nativeBytes(bytes: Uint8Array): NativeBytes {
  const length = Math.max(bytes.length, 1);
  const address = koffi.alloc('uint8', length) as bigint;
  new Uint8Array(koffi.view(address, length)).set(bytes);
  return { address, length: bytes.length };
}

/** A NUL-terminated C string in native memory. */
export function nativeString(text: string): NativeBytes {
  if (text.includes('\0')) throw new Error(`a C string cannot contain NUL: ${JSON.stringify(text)}`);
  return nativeBytes(Buffer.from(`${text}\0`, 'utf8'));
}

/** A NULL-terminated array of C strings (argv / envp) in native memory. */
export function nativeStringArray(items: readonly string[]): NativeBytes {
  const table = Buffer.alloc((items.length + 1) * 8);
  items.forEach((item, i) => table.writeBigUInt64LE(nativeString(item).address, i * 8));
  return nativeBytes(table);
}

/** Reads a native pointer-sized word (tests use it to check what was laid out). */
export function readNativeWord(address: bigint): bigint {
  return BigInt(koffi.decode.uint64(address));
}

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } for an encoded program. */
export function nativeSockFprog(encodedProgram: Uint8Array): NativeBytes {
  if (encodedProgram.length === 0 || encodedProgram.length % 8 !== 0) {
    throw new Error(
      `a seccomp program is a non-empty array of 8-byte instructions; got ${encodedProgram.length} bytes`,
    );
  }
  const filter = nativeBytes(encodedProgram);
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(encodedProgram.length / 8, 0);
  fprog.writeBigUInt64LE(filter.address, 8);
  return nativeBytes(fprog);
}

const F_GETFL = 3;
const F_SETFL = 4;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const O_NONBLOCK = 0o4000;

/**
 * Clears O_NONBLOCK on a descriptor. Node sets it on pipes and terminals it owns; a workload exec'd
 * with a non-blocking stdin/stdout would see EAGAIN where it expects to block.
 */
export function clearNonBlocking(fd: number): void {
  const fcntl = loadLibc().fcntl;
  const flags = fcntl(fd, F_GETFL);
  if (flags < 0) throw new SystemCallError('fcntl(F_GETFL)', koffi.errno(), `fd ${fd}`);
  if ((flags & O_NONBLOCK) === 0) return;
  if (fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK) < 0) {
    throw new SystemCallError('fcntl(F_SETFL)', koffi.errno(), `fd ${fd}`);
  }
}

/** Whether O_NONBLOCK is set on a descriptor. */
export function isNonBlocking(fd: number): boolean {
  const flags = loadLibc().fcntl(fd, F_GETFL);
  if (flags < 0) throw new SystemCallError('fcntl(F_GETFL)', koffi.errno(), `fd ${fd}`);
  return (flags & O_NONBLOCK) !== 0;
}

/** Sets or clears FD_CLOEXEC on a descriptor. */
function setCloseOnExecFlag(fd: number, closeOnExec: boolean): void {
  const fcntl = loadLibc().fcntl;
  const flags = fcntl(fd, F_GETFD);
  const wanted = closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (flags < 0 || (wanted !== flags && fcntl(fd, F_SETFD, 'int', wanted) < 0)) {
    throw new SystemCallError(
      `fcntl(F_SETFD, ${closeOnExec ? 'FD_CLOEXEC' : '0'})`,
      koffi.errno(),
      `fd ${fd}`,
    );
  }
}

/** Sets FD_CLOEXEC so a descriptor closes when execve succeeds (the launcher's status channel). */
export function setCloseOnExec(fd: number): void {
  setCloseOnExecFlag(fd, true);
}

/**
 * Clears FD_CLOEXEC so the exec'd program inherits the descriptor: Node marks every descriptor it
 * finds at startup close-on-exec, stdio included.
 */
export function clearCloseOnExec(fd: number): void {
  setCloseOnExecFlag(fd, false);
}

/** Whether FD_CLOEXEC is set on a descriptor. */
export function isCloseOnExec(fd: number): boolean {
  const flags = loadLibc().fcntl(fd, F_GETFD);
  if (flags < 0) throw new SystemCallError('fcntl(F_GETFD)', koffi.errno(), `fd ${fd}`);
  return (flags & FD_CLOEXEC) !== 0;
}

/** close(2) on a raw descriptor (one Node did not open, e.g. a Landlock ruleset). */
export function closeFd(fd: number): void {
  if (loadLibc().close(fd) !== 0) throw new SystemCallError('close', koffi.errno(), `fd ${fd}`);
}

/**
 * execve(2) with arguments already laid out in native memory. Returns only on failure, with errno;
 * the caller must report it. Nothing is allocated here, so nothing runs between the caller's last
 * step and the kernel's execve.
 */
export function execve(path: NativeBytes, argv: NativeBytes, envp: NativeBytes): number {
  loadLibc().execve(path.address, argv.address, envp.address);
  return koffi.errno();
}

/** Makes sure libc is loaded and its functions bound, so a later call does no lazy setup work. */
export function preloadLibc(): void {
  loadLibc();
}
