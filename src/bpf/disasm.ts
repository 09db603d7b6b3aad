/**
 * A seccomp-tools-style listing of any classic-BPF seccomp filter: raw fields, then a readable
 * statement with syscall and architecture names. Which ABI a syscall number belongs to is found by a
 * forward dataflow: after `A = arch` and `if (A == ARCH_X) ...` the taken branch knows the arch;
 * elsewhere the caller's --arch applies; x86_64 numbers with the x32 bit are shown with x32 names.
 */
import { SECCOMP_RET, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA } from '../policy/action.js';
import { ARCHES, AUDIT_ARCH, archForAudit, isBigEndian, syscallName, type Arch } from '../syscalls/arch.js';
import { forwardFlow, type FlowEdge } from './flow.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
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
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_X,
  BPF_XOR,
  BPF_A,
  SECCOMP_DATA,
  argWordOffset,
  type Program,
  type SockFilter,
} from './insn.js';
import { LD_W_ABS, LD_W_LEN, LDX_W_LEN, isConditionalJump, validateProgram } from './validate.js';

export interface DisasmOptions {
  /** The ABI to name syscall numbers with where the filter's own arch checks do not say. */
  readonly arch?: Arch;
  /** Byte order of argument words; defaults to that of `arch` (little-endian without one). */
  readonly bigEndian?: boolean;
}

/** The listing's two header lines, as seccomp-tools prints them. */
export const DISASM_HEADER = ' line  CODE  JT   JF      K\n=================================';

/** Lower-case hex, zero-padded to `digits`. */
function hex(value: number, digits = 0): string {
  return (value >>> 0).toString(16).padStart(digits, '0');
}

/** A jump target as seccomp-tools prints it: four decimal digits. */
function label(index: number): string {
  return String(index).padStart(4, '0');
}

/** What the disassembler knows on entry to an instruction. */
interface NameState {
  /** AUDIT_ARCH value every path here has checked, if any. */
  readonly arch: number | undefined;
  /** What A holds, as far as naming constants goes. */
  readonly a: 'nr' | 'arch' | 'other';
}

const UNKNOWN: NameState = { arch: undefined, a: 'other' };

function joinNames(left: NameState, right: NameState): NameState {
  return { arch: left.arch === right.arch ? left.arch : undefined, a: left.a === right.a ? left.a : 'other' };
}

/** Whether an instruction writes the accumulator. */
function writesA(code: number): boolean {
  const cls = code & 0x07;
  return cls === BPF_LD || cls === BPF_ALU || code === (BPF_MISC | BPF_TXA);
}

function nameStep(insn: SockFilter, pc: number, state: NameState): readonly FlowEdge<NameState>[] {
  const { code, k, jt, jf } = insn;
  if ((code & 0x07) === BPF_RET) return [];
  if (code === (BPF_JMP | BPF_JA)) return [{ target: pc + 1 + k, state }];
  if (isConditionalJump(code)) {
    const learnsArch = state.a === 'arch' && code === (BPF_JMP | BPF_JEQ | BPF_K);
    const taken = learnsArch ? { ...state, arch: k } : state;
    return [
      { target: pc + 1 + jt, state: taken },
      { target: pc + 1 + jf, state },
    ];
  }
  if (code === LD_W_ABS) {
    const a = k === SECCOMP_DATA.NR ? 'nr' : k === SECCOMP_DATA.ARCH ? 'arch' : 'other';
    return [{ target: pc + 1, state: { ...state, a } }];
  }
  return [{ target: pc + 1, state: writesA(code) ? { ...state, a: 'other' } : state }];
}

/** The AUDIT_ARCH_* constant's name (ARCH_X86_64, ARCH_I386, ...), if it is one sysfence knows. */
export function auditArchName(value: number): string | undefined {
  // x86_64 precedes x32 in ARCHES, so their shared value reads as x86_64.
  const arch = ARCHES.find((candidate) => AUDIT_ARCH[candidate] === value >>> 0);
  return arch === undefined ? undefined : `ARCH_${arch.toUpperCase()}`;
}

/** Text of a filter return value: ALLOW, ERRNO(1), KILL_PROCESS, TRAP(3), ... */
export function formatRet(ret: number): string {
  const data = ret & SECCOMP_RET_DATA;
  const withData = (name: string): string => (data === 0 ? name : `${name}(${data})`);
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET.ALLOW:
      return withData('ALLOW');
    case SECCOMP_RET.ERRNO:
      return `ERRNO(${data})`;
    case SECCOMP_RET.KILL_PROCESS:
      return withData('KILL_PROCESS');
    case SECCOMP_RET.KILL_THREAD:
      return withData('KILL_THREAD');
    case SECCOMP_RET.TRAP:
      return withData('TRAP');
    case SECCOMP_RET.TRACE:
      return withData('TRACE');
    case SECCOMP_RET.LOG:
      return withData('LOG');
    case SECCOMP_RET.USER_NOTIF:
      return withData('USER_NOTIF');
    default:
      // The kernel treats an unknown action as SECCOMP_RET_KILL_PROCESS.
      return `0x${hex(ret, 8)} (unknown action: KILL_PROCESS)`;
  }
}

/** Name of the 32-bit word of seccomp_data at byte `offset`, e.g. `args[1] >> 32`. */
function dataWordName(offset: number, bigEndian: boolean): string {
  if (offset === SECCOMP_DATA.NR) return 'sys_number';
  if (offset === SECCOMP_DATA.ARCH) return 'arch';
  for (const [base, name] of wordPairs()) {
    if (offset === base + (bigEndian ? 4 : 0)) return name;
    if (offset === base + (bigEndian ? 0 : 4)) return `${name} >> 32`;
  }
  return `data[${offset}]`;
}

/** The u64 fields of seccomp_data with their byte offsets. */
function wordPairs(): ReadonlyArray<readonly [number, string]> {
  const args = [0, 1, 2, 3, 4, 5].map(
    (index) => [argWordOffset(index, 'low', false), `args[${index}]`] as const,
  );
  return [[SECCOMP_DATA.IP, 'instruction_pointer'], ...args];
}

/** How a comparison constant reads, given what A holds. */
function constantText(
  k: number,
  state: NameState,
  fallbackArch: Arch | undefined,
  isEquality: boolean,
): string {
  if (state.a === 'arch') return auditArchName(k) ?? `0x${hex(k)}`;
  if (state.a === 'nr' && isEquality) {
    const auditArch = state.arch ?? (fallbackArch === undefined ? undefined : AUDIT_ARCH[fallbackArch]);
    const abi = auditArch === undefined ? undefined : archForAudit(auditArch, k);
    const name = abi === undefined ? undefined : syscallName(abi, k);
    if (name !== undefined) return name;
  }
  return `0x${hex(k)}`;
}

const COMPARISON: Readonly<Record<number, readonly [taken: string, negated: string]>> = {
  [BPF_JEQ]: ['A == %', 'A != %'],
  [BPF_JGT]: ['A > %', 'A <= %'],
  [BPF_JGE]: ['A >= %', 'A < %'],
  [BPF_JSET]: ['A & %', '!(A & %)'],
};

function formatJump(insn: SockFilter, pc: number, operand: string): string {
  const [taken, negated] = COMPARISON[insn.code & 0xf0] as readonly [string, string];
  const whenTrue = label(pc + 1 + insn.jt);
  const whenFalse = label(pc + 1 + insn.jf);
  if (insn.jt === 0 && insn.jf !== 0) return `if (${negated.replace('%', operand)}) goto ${whenFalse}`;
  if (insn.jf === 0) return `if (${taken.replace('%', operand)}) goto ${whenTrue}`;
  return `if (${taken.replace('%', operand)}) goto ${whenTrue} else goto ${whenFalse}`;
}

const ALU_OPERATOR: Readonly<Record<number, string>> = {
  [BPF_ADD]: '+=',
  [BPF_SUB]: '-=',
  [BPF_MUL]: '*=',
  [BPF_DIV]: '/=',
  [BPF_AND]: '&=',
  [BPF_OR]: '|=',
  [BPF_XOR]: '^=',
  [BPF_LSH]: '<<=',
  [BPF_RSH]: '>>=',
};

function formatAlu(insn: SockFilter): string {
  const op = insn.code & 0xf0;
  if (op === BPF_NEG) return 'A = -A';
  const operand = (insn.code & 0x08) === BPF_X ? 'X' : `0x${hex(insn.k)}`;
  const operator = ALU_OPERATOR[op];
  return operator === undefined ? invalid(insn) : `A ${operator} ${operand}`;
}

function invalid(insn: SockFilter): string {
  return `??? (opcode 0x${hex(insn.code, 2)} not allowed in seccomp)`;
}

interface FormatContext {
  readonly state: NameState;
  readonly arch: Arch | undefined;
  readonly bigEndian: boolean;
}

/** The readable statement for one instruction. */
function statement(insn: SockFilter, pc: number, context: FormatContext): string {
  const { code, k } = insn;
  const simple = SIMPLE_STATEMENTS.get(code);
  if (simple !== undefined) return simple(k);
  if (code === LD_W_ABS) return `A = ${dataWordName(k, context.bigEndian)}`;
  if (code === (BPF_JMP | BPF_JA)) return `goto ${label(pc + 1 + k)}`;
  if (isConditionalJump(code)) {
    const operand =
      (code & 0x08) === BPF_X ? 'X' : constantText(k, context.state, context.arch, (code & 0xf0) === BPF_JEQ);
    return formatJump(insn, pc, operand);
  }
  if ((code & 0x07) === BPF_ALU) return formatAlu(insn);
  return invalid(insn);
}

const SIMPLE_STATEMENTS: ReadonlyMap<number, (k: number) => string> = new Map([
  [BPF_LD | BPF_IMM, (k: number) => `A = 0x${hex(k)}`],
  [BPF_LDX | BPF_IMM, (k: number) => `X = 0x${hex(k)}`],
  [LD_W_LEN, () => 'A = sizeof(seccomp_data)'],
  [LDX_W_LEN, () => 'X = sizeof(seccomp_data)'],
  [BPF_LD | BPF_MEM, (k: number) => `A = mem[${k}]`],
  [BPF_LDX | BPF_MEM, (k: number) => `X = mem[${k}]`],
  [BPF_ST, (k: number) => `mem[${k}] = A`],
  [BPF_STX, (k: number) => `mem[${k}] = X`],
  [BPF_MISC | BPF_TAX, () => 'X = A'],
  [BPF_MISC | BPF_TXA, () => 'A = X'],
  [BPF_RET | BPF_K, (k: number) => `return ${formatRet(k)}`],
  [BPF_RET | BPF_A, () => 'return A'],
]);

/** One listing line per instruction (no header), e.g. ` 0000: 0x20 0x00 0x00 0x00000004  A = arch`. */
export function disassembleLines(program: Program, options: DisasmOptions = {}): string[] {
  validateProgram(program);
  const bigEndian = options.bigEndian ?? (options.arch !== undefined && isBigEndian(options.arch));
  const states = forwardFlow(program, UNKNOWN, joinNames, nameStep);
  return program.map((insn, pc) => {
    const context = { state: states[pc] ?? UNKNOWN, arch: options.arch, bigEndian };
    const fields = `0x${hex(insn.code, 2)} 0x${hex(insn.jt, 2)} 0x${hex(insn.jf, 2)} 0x${hex(insn.k, 8)}`;
    return ` ${label(pc)}: ${fields}  ${statement(insn, pc, context)}`;
  });
}

/** The full listing: header, separator and one line per instruction, newline-terminated. */
export function disassemble(program: Program, options: DisasmOptions = {}): string {
  return `${DISASM_HEADER}\n${disassembleLines(program, options).join('\n')}\n`;
}
