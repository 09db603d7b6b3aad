/**
 * The kernel's seccomp action cache (kernel/seccomp.c, Linux 5.11+): when a filter is attached the
 * kernel walks it once per syscall number of the native and the compat ABI with only seccomp_data.nr
 * and .arch known (seccomp_is_const_allow). Syscalls whose walk reaches `RET SECCOMP_RET_ALLOW`
 * through nothing but loads of nr/arch, JA, JEQ/JGE/JGT/JSET with K, ALU AND K and RET K go into a
 * bitmap and later skip the filter entirely. Everything here is analysis of a raw filter; nothing
 * talks to the kernel.
 */
import { retToAction, SECCOMP_RET } from '../policy/action.js';
import { AUDIT_ARCH, syscallEntries, syscallNumber, type Arch } from '../syscalls/arch.js';
import { PreparedProgram } from './emulator.js';
import { forwardFlow, type FlowEdge } from './flow.js';
import {
  BPF_ALU,
  BPF_AND,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MISC,
  BPF_RET,
  BPF_A,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_TXA,
  BPF_X,
  SECCOMP_DATA,
  type Program,
  type SockFilter,
} from './insn.js';
import { LD_W_ABS, LD_W_LEN, LDX_W_LEN, isConditionalJump, validateProgram } from './validate.js';

/** arm's private syscalls (breakpoint, set_tls, ...) sit at 0x0f0000+, beyond the kernel's bitmap. */
const ARM_PRIVATE_SYSCALL_BASE = 0x0f0000;

/**
 * Syscalls that kernels having them (x86_64 only) pass through seccomp_is_const_allow whatever the filter
 * says, so that uprobes keep working under seccomp.
 */
const KERNEL_EXEMPT_X86_64: readonly string[] = ['uretprobe', 'uprobe'];

/** Whether a conditional jump's test holds, for the comparison operator bits of `code`. */
export function jumpTaken(code: number, a: number, operand: number): boolean {
  switch (code & 0xf0) {
    case BPF_JEQ:
      return a === operand;
    case BPF_JGT:
      return a > operand;
    case BPF_JGE:
      return a >= operand;
    case BPF_JSET:
      return (a & operand) !== 0;
    default:
      throw new Error(`opcode 0x${code.toString(16)} is not a conditional jump`);
  }
}

function originalProgram(program: Program | PreparedProgram): Program {
  if (program instanceof PreparedProgram) return program.program;
  validateProgram(program);
  return program;
}

/**
 * True iff the kernel's cache walk (seccomp_is_const_allow, without its uprobe exemption) finds
 * that `program` always allows syscall `nr` of `auditArch`, so the kernel would cache it.
 */
export function isCacheableAllow(program: Program | PreparedProgram, auditArch: number, nr: number): boolean {
  return constAllowWalk(originalProgram(program), auditArch >>> 0, nr >>> 0);
}

/** seccomp_is_const_allow over a validated program, rule for rule. */
function constAllowWalk(program: Program, auditArch: number, nr: number): boolean {
  let value = 0;
  let pc = 0;
  while (pc < program.length) {
    const { code, k, jt, jf } = program[pc] as SockFilter;
    if (code === LD_W_ABS) {
      if (k === SECCOMP_DATA.NR) value = nr;
      else if (k === SECCOMP_DATA.ARCH) value = auditArch;
      else return false; // the instruction pointer or an argument: not constant
    } else if (code === (BPF_RET | BPF_K)) {
      return k === SECCOMP_RET.ALLOW;
    } else if (code === (BPF_JMP | BPF_JA)) {
      pc += k;
    } else if ((code & 0x08) === BPF_K && isConditionalJump(code)) {
      pc += jumpTaken(code, value, k) ? jt : jf;
    } else if (code === (BPF_ALU | BPF_AND | BPF_K)) {
      value = (value & k) >>> 0;
    } else {
      return false; // any other instruction: the kernel gives up on this syscall
    }
    pc++;
  }
  return false;
}

/** Whether the kernel's cache bitmap for this ABI has a slot for `nr` at all. */
function hasCacheSlot(arch: Arch, nr: number): boolean {
  // x32 numbers carry 0x40000000 and so lie beyond the x86_64 bitmap: x32 is never cached.
  if (arch === 'x32') return false;
  if (arch === 'arm') return nr < ARM_PRIVATE_SYSCALL_BASE;
  return true;
}

export interface CacheReport {
  /** Syscalls the kernel would cache as always allowed: the filter never runs for them. */
  readonly cacheable: string[];
  /**
   * Syscalls the filter may allow (for some arguments, or through instructions the cache walk
   * refuses) that the kernel does not cache, so every such call runs the filter. Computed by a
   * sound over-approximation: only nr, arch, constants and AND K are tracked, other values are
   * unknown and both branches of a test on them count as reachable.
   */
  readonly allowedButNotCacheable: string[];
  /** Syscalls the kernel always passes on this ABI whatever the filter says (x86_64 uprobes). */
  readonly kernelExempt: string[];
}

/**
 * Classifies every syscall of `arch` by the kernel's action cache. The kernel builds the cache for
 * its native ABI and its compat ABI (x86_64 kernels: x86_64 and i386; aarch64: aarch64 and arm);
 * x32 is never cached and arm's private 0x0f0000+ calls have no slot.
 */
export function cacheableSyscalls(program: Program, arch: Arch): CacheReport {
  validateProgram(program);
  const auditArch = AUDIT_ARCH[arch];
  const exempt =
    arch === 'x86_64' ? KERNEL_EXEMPT_X86_64.filter((name) => syscallNumber(arch, name) !== undefined) : [];
  const report: CacheReport = { cacheable: [], allowedButNotCacheable: [], kernelExempt: exempt };
  for (const [name, nr] of syscallEntries(arch)) {
    if (exempt.includes(name)) continue;
    if (hasCacheSlot(arch, nr) && constAllowWalk(program, auditArch, nr)) report.cacheable.push(name);
    else if (mayAllow(program, auditArch, nr)) report.allowedButNotCacheable.push(name);
  }
  return report;
}

/** Abstract machine state: a number where the value is the same on every path, else undefined. */
interface AbstractState {
  readonly a: number | undefined;
  readonly x: number | undefined;
  readonly memory: readonly (number | undefined)[];
}

function joinValue(left: number | undefined, right: number | undefined): number | undefined {
  return left === right ? left : undefined;
}

function joinStates(left: AbstractState, right: AbstractState): AbstractState {
  return {
    a: joinValue(left.a, right.a),
    x: joinValue(left.x, right.x),
    memory: left.memory.map((value, slot) => joinValue(value, right.memory[slot])),
  };
}

/** True if some path through `program` may return an ALLOW action for syscall `nr` of `auditArch`. */
export function mayAllow(program: Program, auditArch: number, nr: number): boolean {
  let allows = false;
  const onReturn = (value: number | undefined): void => {
    if (value === undefined || retToAction(value).kind === 'allow') allows = true;
  };
  const entry: AbstractState = { a: 0, x: 0, memory: new Array<number | undefined>(16).fill(undefined) };
  forwardFlow(program, entry, joinStates, (insn, pc, state) =>
    abstractStep(insn, pc, state, { nr: nr >>> 0, arch: auditArch >>> 0 }, onReturn),
  );
  return allows;
}

function loadWord(offset: number, known: { readonly nr: number; readonly arch: number }): number | undefined {
  if (offset === SECCOMP_DATA.NR) return known.nr;
  if (offset === SECCOMP_DATA.ARCH) return known.arch;
  return undefined;
}

function withSlot(
  memory: readonly (number | undefined)[],
  slot: number,
  value: number | undefined,
): (number | undefined)[] {
  const copy = [...memory];
  copy[slot] = value;
  return copy;
}

/** One instruction of the abstract machine: the edges it leaves by, reporting returns to `onReturn`. */
function abstractStep(
  insn: SockFilter,
  pc: number,
  state: AbstractState,
  known: { readonly nr: number; readonly arch: number },
  onReturn: (value: number | undefined) => void,
): readonly FlowEdge<AbstractState>[] {
  const { code, k } = insn;
  const next = (changed: Partial<AbstractState>): FlowEdge<AbstractState>[] => [
    { target: pc + 1, state: { ...state, ...changed } },
  ];
  switch (code) {
    case LD_W_ABS:
      return next({ a: loadWord(k, known) });
    case BPF_LD | BPF_IMM:
      return next({ a: k });
    case BPF_LDX | BPF_IMM:
      return next({ x: k });
    case LD_W_LEN:
      return next({ a: SECCOMP_DATA.SIZE });
    case LDX_W_LEN:
      return next({ x: SECCOMP_DATA.SIZE });
    case BPF_LD | BPF_MEM:
      return next({ a: state.memory[k] });
    case BPF_LDX | BPF_MEM:
      return next({ x: state.memory[k] });
    case BPF_ST:
      return next({ memory: withSlot(state.memory, k, state.a) });
    case BPF_STX:
      return next({ memory: withSlot(state.memory, k, state.x) });
    case BPF_MISC | BPF_TAX:
      return next({ x: state.a });
    case BPF_MISC | BPF_TXA:
      return next({ a: state.x });
    case BPF_ALU | BPF_AND | BPF_K:
      return next({ a: state.a === undefined ? undefined : (state.a & k) >>> 0 });
    case BPF_JMP | BPF_JA:
      return [{ target: pc + 1 + k, state }];
    case BPF_RET | BPF_K:
      onReturn(k);
      return [];
    case BPF_RET | BPF_A:
      onReturn(state.a);
      return [];
    default:
      return isConditionalJump(code) ? branchEdges(insn, pc, state) : next({ a: undefined });
  }
}

/** The edges of a conditional jump: one when both operands are known, both otherwise. */
function branchEdges(insn: SockFilter, pc: number, state: AbstractState): FlowEdge<AbstractState>[] {
  const operand = (insn.code & 0x08) === BPF_X ? state.x : insn.k;
  const taken = { target: pc + 1 + insn.jt, state };
  const notTaken = { target: pc + 1 + insn.jf, state };
  if (state.a === undefined || operand === undefined) return [taken, notTaken];
  return [jumpTaken(insn.code, state.a, operand) ? taken : notTaken];
}
