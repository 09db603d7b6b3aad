/**
 * Installing a seccomp filter on the calling process, and the exec gate that lets the launcher's own
 * execve through a policy that denies execve.
 *
 * The exec gate: `sysfence run` installs the filter in a launcher and then execve()s the workload, so
 * the filter sees that execve. A policy may deny execve (to refuse a shell spawned from inside the
 * workload), which would also refuse the launcher's. The gate is a prefix to the compiled program that
 * returns ALLOW only for execve on the host's native ABI whose first argument (the path pointer) is the
 * exact 64-bit address of the path string the launcher allocated; every other syscall falls through to
 * the policy unchanged. Residual risk, documented in docs/enforce.md: after exec the address is
 * meaningless to the workload's own code, but a workload that learns it and maps a string there could
 * pass the gate once more; Landlock execute rules (when the policy has a filesystem section) still bound
 * what it could execute.
 */
import {
  BPF_ABS,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  SECCOMP_DATA,
  argWordOffset,
  encodeProgram,
  jump,
  stmt,
  type Program,
  type SockFilter,
} from '../bpf/insn.js';
import { SECCOMP_RET } from '../policy/action.js';
import { AUDIT_ARCH, isBigEndian, syscallNumber, type Arch } from '../syscalls/arch.js';
import { checkedSyscall, nativeSockFprog, type NativeBytes } from './ffi.js';

/** seccomp(2) operations and flags (include/uapi/linux/seccomp.h). */
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;

/** The flags `sysfence run` installs with: every thread of the launcher, and non-allow actions audited. */
export const RUN_FILTER_FLAGS = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG;

const LOAD_WORD = BPF_LD | BPF_W | BPF_ABS;
const JUMP_IF_EQUAL = BPF_JMP | BPF_JEQ | BPF_K;

/** The exec gate prefix for `arch` (see the module comment); its last jumps land on the next instruction after it. */
export function execGate(arch: Arch, pathAddress: bigint): SockFilter[] {
  const execveNr = syscallNumber(arch, 'execve');
  if (execveNr === undefined) throw new Error(`the ${arch} syscall table has no execve`);
  if (pathAddress <= 0n || pathAddress >= 1n << 64n) throw new Error(`not a user address: ${pathAddress}`);
  const bigEndian = isBigEndian(arch);
  const checks: ReadonlyArray<readonly [offset: number, value: number]> = [
    [SECCOMP_DATA.ARCH, AUDIT_ARCH[arch]],
    [SECCOMP_DATA.NR, execveNr],
    [argWordOffset(0, 'low', bigEndian), Number(pathAddress & 0xffffffffn)],
    [argWordOffset(0, 'high', bigEndian), Number(pathAddress >> 32n)],
  ];
  // Each check is a load and a compare; a mismatch jumps past the final RET ALLOW into the policy.
  const length = checks.length * 2 + 1;
  const gate = checks.flatMap(([offset, value], i) => {
    const compareIndex = i * 2 + 1;
    return [stmt(LOAD_WORD, offset), jump(JUMP_IF_EQUAL, value, 0, length - (compareIndex + 1))];
  });
  return [...gate, stmt(BPF_RET | BPF_K, SECCOMP_RET.ALLOW)];
}

/** The policy program behind an exec gate; refuses a result the kernel would reject for its length. */
export function gateProgram(program: Program, arch: Arch, pathAddress: bigint): SockFilter[] {
  const gated = [...execGate(arch, pathAddress), ...program];
  if (gated.length > BPF_MAXINSNS) {
    throw new Error(
      `the filter with its exec gate has ${gated.length} instructions; the kernel accepts at most ${BPF_MAXINSNS}`,
    );
  }
  return gated;
}

/** A program laid out in native memory as struct sock_fprog, ready for installFilter. */
export function prepareFilter(program: Program, bigEndian = false): NativeBytes {
  return nativeSockFprog(encodeProgram(program, bigEndian));
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, fprog). Requires no_new_privs (or CAP_SYS_ADMIN).
 * With TSYNC the kernel returns the id of a thread it could not synchronise; that is a failure too.
 */
export function installFilter(fprog: NativeBytes, flags: number): void {
  const result = checkedSyscall(
    'seccomp',
    [SECCOMP_SET_MODE_FILTER, flags, fprog.address],
    'SECCOMP_SET_MODE_FILTER',
  );
  if (result !== 0) {
    throw new Error(
      `seccomp: thread ${result} could not be synchronised to the filter (TSYNC); nothing was installed`,
    );
  }
}
