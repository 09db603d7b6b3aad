/**
 * The kernel's load-time checks for seccomp filters: net/core/filter.c bpf_check_classic (lengths,
 * jump ranges, constant division by zero, shift widths, scratch slots, the final RET and
 * check_load_and_stores) followed by kernel/seccomp.c seccomp_check_filter (the opcode whitelist and
 * aligned, in-bounds seccomp_data loads). A program that passes here is one the kernel accepts, and
 * one the emulator may run without further checks.
 */
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MEMWORDS,
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
  BPF_W,
  BPF_X,
  BPF_XOR,
  BPF_A,
  BPF_IMM,
  SECCOMP_DATA,
  type Program,
  type SockFilter,
} from './insn.js';

/** Opcodes the kernel rewrites on load: a seccomp "packet" is always sizeof(seccomp_data) long. */
export const LD_W_LEN = BPF_LD | BPF_W | BPF_LEN;
export const LDX_W_LEN = BPF_LDX | BPF_W | BPF_LEN;
export const LD_W_ABS = BPF_LD | BPF_W | BPF_ABS;

const CONDITIONAL_JUMPS: readonly number[] = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [
  BPF_JMP | op | BPF_K,
  BPF_JMP | op | BPF_X,
]);

/**
 * seccomp_check_filter's whitelist. Everything else (packet loads of halfwords and bytes, indirect
 * loads, BPF_MSH, ancillary data, BPF_MOD, RET X, ...) is refused with EINVAL.
 */
const SECCOMP_OPCODES: ReadonlySet<number> = new Set([
  LD_W_ABS,
  LD_W_LEN,
  LDX_W_LEN,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap((op) => [
    BPF_ALU | op | BPF_K,
    BPF_ALU | op | BPF_X,
  ]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_IMM,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_JMP | BPF_JA,
  ...CONDITIONAL_JUMPS,
]);

const CONDITIONAL_JUMP_SET: ReadonlySet<number> = new Set(CONDITIONAL_JUMPS);

/** True for the conditional jumps (JEQ/JGT/JGE/JSET with K or X) that seccomp accepts. */
export function isConditionalJump(code: number): boolean {
  return CONDITIONAL_JUMP_SET.has(code);
}

/** An instruction the kernel would refuse; `index` is its position in the program. */
export class InvalidFilterError extends Error {
  override readonly name = 'InvalidFilterError';
  constructor(
    readonly index: number | undefined,
    readonly problem: string,
  ) {
    super(index === undefined ? problem : `instruction ${index}: ${problem}`);
  }
}

/** Throws InvalidFilterError unless the kernel would accept `program` as a seccomp filter. */
export function validateProgram(program: Program): void {
  checkLength(program.length);
  program.forEach((insn, index) => checkInstruction(insn, index, program.length));
  checkEndsInReturn(program);
  checkLoadsAfterStores(program);
}

function checkLength(length: number): void {
  if (length < 1 || length > BPF_MAXINSNS) {
    throw new InvalidFilterError(
      undefined,
      `a filter has 1 to ${BPF_MAXINSNS} instructions; this one has ${length}`,
    );
  }
}

function checkInstruction(insn: SockFilter, index: number, length: number): void {
  const { code, k } = insn;
  if (!SECCOMP_OPCODES.has(code)) {
    const shown = code.toString(16).padStart(2, '0');
    throw new InvalidFilterError(index, `opcode 0x${shown} is not allowed in a seccomp filter`);
  }
  const fail = (problem: string): never => {
    throw new InvalidFilterError(index, problem);
  };
  switch (code) {
    case BPF_ALU | BPF_DIV | BPF_K:
      if (k === 0) fail('division by the constant 0');
      break;
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
      if (k >= 32) fail(`shift by ${k}: a constant shift must be below 32`);
      break;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      if (k >= BPF_MEMWORDS) fail(`scratch memory slot ${k} does not exist (slots 0..${BPF_MEMWORDS - 1})`);
      break;
    case BPF_JMP | BPF_JA:
      // Unsigned, as in the kernel: a huge k is out of range rather than a backward jump.
      if (k >= length - index - 1) fail(`jump offset ${k} leaves the program`);
      break;
    case LD_W_ABS:
      if (k >= SECCOMP_DATA.SIZE || (k & 3) !== 0) {
        fail(
          `load from offset ${k}: seccomp_data loads must be 4-byte aligned and below ${SECCOMP_DATA.SIZE}`,
        );
      }
      break;
  }
  if (isConditionalJump(code) && (index + insn.jt + 1 >= length || index + insn.jf + 1 >= length)) {
    fail(`conditional jump (jt ${insn.jt}, jf ${insn.jf}) leaves the program`);
  }
}

function checkEndsInReturn(program: Program): void {
  const lastIndex = program.length - 1;
  const last = program[lastIndex] as SockFilter;
  if ((last.code & 0x07) !== BPF_RET) {
    throw new InvalidFilterError(lastIndex, 'the last instruction must be a return');
  }
}

/**
 * bpf_check_classic's check_load_and_stores: a scratch slot may be read only where every path has
 * written it. Reproduced as the kernel computes it (a linear pass with per-target masks; the state
 * after a RET flows into the next instruction), so it refuses exactly what the kernel refuses.
 */
function checkLoadsAfterStores(program: Program): void {
  const ALL = 0xffff;
  const masks = new Uint16Array(program.length).fill(ALL);
  let valid = 0;
  program.forEach((insn, pc) => {
    valid &= masks[pc] as number;
    const { code, k } = insn;
    if (code === BPF_ST || code === BPF_STX) {
      valid |= 1 << k;
    } else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if ((valid & (1 << k)) === 0) {
        throw new InvalidFilterError(pc, `reads scratch memory slot ${k} before every path has written it`);
      }
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k] = (masks[pc + 1 + k] as number) & valid;
      valid = ALL;
    } else if (isConditionalJump(code)) {
      masks[pc + 1 + insn.jt] = (masks[pc + 1 + insn.jt] as number) & valid;
      masks[pc + 1 + insn.jf] = (masks[pc + 1 + insn.jf] as number) & valid;
      valid = ALL;
    }
  });
}
