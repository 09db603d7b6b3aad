/**
 * A classic-BPF interpreter with the kernel's seccomp semantics, used as the oracle for compiled
 * filters and by the benchmarks, so the run loop is allocation-free: a program is validated and
 * decoded once (prepareProgram) into typed arrays with absolute jump targets, then run any number of
 * times over 16 words of struct seccomp_data (runPrepared).
 *
 * Semantics follow the kernel's classic-to-eBPF translation: A, X and M[] are 32-bit unsigned;
 * division by X = 0 makes the filter return 0 (SECCOMP_RET_KILL_THREAD); shifts by X use the low
 * five bits of X, as the x86-64 JIT and the interpreter do; BPF_LEN loads sizeof(seccomp_data).
 */
import { retToAction, type Action } from '../policy/action.js';
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
  BPF_X,
  BPF_XOR,
  BPF_A,
  SECCOMP_DATA,
  argWordOffset,
  type Program,
  type SockFilter,
} from './insn.js';
import { LD_W_ABS, LD_W_LEN, LDX_W_LEN, validateProgram } from './validate.js';

/** What the kernel puts in struct seccomp_data for one syscall; args and ip are u64. */
export interface SeccompInput {
  readonly nr: number;
  readonly arch: number;
  readonly ip?: bigint;
  readonly args: readonly bigint[];
}

export interface EmulateOptions {
  /** Lay out the 64-bit words of seccomp_data as a big-endian host (s390x) does. */
  readonly bigEndian?: boolean;
}

/** Number of 32-bit words in struct seccomp_data. */
export const SECCOMP_DATA_WORDS = SECCOMP_DATA.SIZE / 4;

// Dense internal operation numbers, so the run loop's switch compiles to a jump table.
const OP_LD_ABS = 0;
const OP_LD_IMM = 1;
const OP_LDX_IMM = 2;
const OP_LD_MEM = 3;
const OP_LDX_MEM = 4;
const OP_ST = 5;
const OP_STX = 6;
const OP_ADD_K = 7;
const OP_ADD_X = 8;
const OP_SUB_K = 9;
const OP_SUB_X = 10;
const OP_MUL_K = 11;
const OP_MUL_X = 12;
const OP_DIV_K = 13;
const OP_DIV_X = 14;
const OP_AND_K = 15;
const OP_AND_X = 16;
const OP_OR_K = 17;
const OP_OR_X = 18;
const OP_XOR_K = 19;
const OP_XOR_X = 20;
const OP_LSH_K = 21;
const OP_LSH_X = 22;
const OP_RSH_K = 23;
const OP_RSH_X = 24;
const OP_NEG = 25;
const OP_JA = 26;
const OP_JEQ_K = 27;
const OP_JEQ_X = 28;
const OP_JGT_K = 29;
const OP_JGT_X = 30;
const OP_JGE_K = 31;
const OP_JGE_X = 32;
const OP_JSET_K = 33;
const OP_JSET_X = 34;
const OP_RET_K = 35;
const OP_RET_A = 36;
const OP_TAX = 37;
const OP_TXA = 38;

const OP_OF_CODE: ReadonlyMap<number, number> = new Map([
  [LD_W_ABS, OP_LD_ABS],
  [BPF_LD | BPF_IMM, OP_LD_IMM],
  [BPF_LDX | BPF_IMM, OP_LDX_IMM],
  [BPF_LD | BPF_MEM, OP_LD_MEM],
  [BPF_LDX | BPF_MEM, OP_LDX_MEM],
  [BPF_ST, OP_ST],
  [BPF_STX, OP_STX],
  [BPF_ALU | BPF_ADD | BPF_K, OP_ADD_K],
  [BPF_ALU | BPF_ADD | BPF_X, OP_ADD_X],
  [BPF_ALU | BPF_SUB | BPF_K, OP_SUB_K],
  [BPF_ALU | BPF_SUB | BPF_X, OP_SUB_X],
  [BPF_ALU | BPF_MUL | BPF_K, OP_MUL_K],
  [BPF_ALU | BPF_MUL | BPF_X, OP_MUL_X],
  [BPF_ALU | BPF_DIV | BPF_K, OP_DIV_K],
  [BPF_ALU | BPF_DIV | BPF_X, OP_DIV_X],
  [BPF_ALU | BPF_AND | BPF_K, OP_AND_K],
  [BPF_ALU | BPF_AND | BPF_X, OP_AND_X],
  [BPF_ALU | BPF_OR | BPF_K, OP_OR_K],
  [BPF_ALU | BPF_OR | BPF_X, OP_OR_X],
  [BPF_ALU | BPF_XOR | BPF_K, OP_XOR_K],
  [BPF_ALU | BPF_XOR | BPF_X, OP_XOR_X],
  [BPF_ALU | BPF_LSH | BPF_K, OP_LSH_K],
  [BPF_ALU | BPF_LSH | BPF_X, OP_LSH_X],
  [BPF_ALU | BPF_RSH | BPF_K, OP_RSH_K],
  [BPF_ALU | BPF_RSH | BPF_X, OP_RSH_X],
  [BPF_ALU | BPF_NEG, OP_NEG],
  [BPF_JMP | BPF_JA, OP_JA],
  [BPF_JMP | BPF_JEQ | BPF_K, OP_JEQ_K],
  [BPF_JMP | BPF_JEQ | BPF_X, OP_JEQ_X],
  [BPF_JMP | BPF_JGT | BPF_K, OP_JGT_K],
  [BPF_JMP | BPF_JGT | BPF_X, OP_JGT_X],
  [BPF_JMP | BPF_JGE | BPF_K, OP_JGE_K],
  [BPF_JMP | BPF_JGE | BPF_X, OP_JGE_X],
  [BPF_JMP | BPF_JSET | BPF_K, OP_JSET_K],
  [BPF_JMP | BPF_JSET | BPF_X, OP_JSET_X],
  [BPF_RET | BPF_K, OP_RET_K],
  [BPF_RET | BPF_A, OP_RET_A],
  [BPF_MISC | BPF_TAX, OP_TAX],
  [BPF_MISC | BPF_TXA, OP_TXA],
]);

/** A validated program decoded for fast repeated runs. Not re-entrant: runs share its scratch state. */
export class PreparedProgram {
  readonly length: number;
  /** Internal operation per instruction (OP_*). */
  readonly ops: Uint8Array;
  /** Operand per instruction; for seccomp_data loads, the word index rather than the byte offset. */
  readonly operands: Uint32Array;
  /** Absolute index of the next instruction when a jump is taken / not taken (JA: taken only). */
  readonly takenTargets: Uint16Array;
  readonly notTakenTargets: Uint16Array;
  /** Scratch memory M[]; the validator guarantees each run writes a slot before reading it. */
  readonly memory = new Uint32Array(BPF_MEMWORDS);
  /** Indexes of the instructions the last run executed, in order; `executed` of them are valid. */
  readonly path: Uint16Array;
  /** How many instructions the last run executed. */
  executed = 0;

  constructor(readonly program: Program) {
    validateProgram(program);
    this.length = program.length;
    this.ops = new Uint8Array(program.length);
    this.operands = new Uint32Array(program.length);
    this.takenTargets = new Uint16Array(program.length);
    this.notTakenTargets = new Uint16Array(program.length);
    // Jumps only go forward, so a run executes each instruction at most once.
    this.path = new Uint16Array(program.length);
    program.forEach((insn, pc) => this.decode(insn, pc));
  }

  private decode(insn: SockFilter, pc: number): void {
    const { code, k } = insn;
    const isLength = code === LD_W_LEN || code === LDX_W_LEN;
    // seccomp_check_filter rewrites length loads into immediates of sizeof(seccomp_data).
    const op = isLength ? (code === LD_W_LEN ? OP_LD_IMM : OP_LDX_IMM) : OP_OF_CODE.get(code);
    if (op === undefined)
      throw new Error(`instruction ${pc}: opcode 0x${code.toString(16)} has no emulation`);
    this.ops[pc] = op;
    this.operands[pc] = isLength ? SECCOMP_DATA.SIZE : op === OP_LD_ABS ? k >>> 2 : k;
    this.takenTargets[pc] = pc + 1 + (op === OP_JA ? k : insn.jt);
    this.notTakenTargets[pc] = pc + 1 + insn.jf;
  }
}

/** Validates (throwing InvalidFilterError) and decodes a program for runPrepared. */
export function prepareProgram(program: Program): PreparedProgram {
  return new PreparedProgram(program);
}

const preparedCache = new WeakMap<Program, PreparedProgram>();

/**
 * The prepared form of a program array, decoded once per array object (cached by identity: callers
 * hand in programs they no longer mutate, as the compiler's results are).
 */
function preparedFor(program: Program | PreparedProgram): PreparedProgram {
  if (program instanceof PreparedProgram) return program;
  let prepared = preparedCache.get(program);
  if (prepared === undefined) {
    prepared = new PreparedProgram(program);
    preparedCache.set(program, prepared);
  }
  return prepared;
}

/**
 * Runs a prepared filter over seccomp_data given as 16 host-order 32-bit words and returns the
 * 32-bit filter result. Allocation-free; afterwards `prepared.executed` and `prepared.path` describe
 * the run.
 */
export function runPrepared(prepared: PreparedProgram, words: Uint32Array): number {
  if (words.length < SECCOMP_DATA_WORDS) {
    throw new Error(`seccomp_data is ${SECCOMP_DATA_WORDS} words; got ${words.length}`);
  }
  const { ops, operands, takenTargets, notTakenTargets, memory, path } = prepared;
  let a = 0;
  let x = 0;
  let pc = 0;
  let executed = 0;
  for (;;) {
    path[executed++] = pc;
    const k = operands[pc] as number;
    switch (ops[pc]) {
      case OP_LD_ABS:
        a = words[k] as number;
        break;
      case OP_LD_IMM:
        a = k;
        break;
      case OP_LDX_IMM:
        x = k;
        break;
      case OP_LD_MEM:
        a = memory[k] as number;
        break;
      case OP_LDX_MEM:
        x = memory[k] as number;
        break;
      case OP_ST:
        memory[k] = a;
        break;
      case OP_STX:
        memory[k] = x;
        break;
      case OP_ADD_K:
        a = (a + k) >>> 0;
        break;
      case OP_ADD_X:
        a = (a + x) >>> 0;
        break;
      case OP_SUB_K:
        a = (a - k) >>> 0;
        break;
      case OP_SUB_X:
        a = (a - x) >>> 0;
        break;
      case OP_MUL_K:
        a = Math.imul(a, k) >>> 0;
        break;
      case OP_MUL_X:
        a = Math.imul(a, x) >>> 0;
        break;
      case OP_DIV_K:
        a = (a / k) >>> 0;
        break;
      case OP_DIV_X:
        // The kernel's translation inserts "if (X == 0) return 0" before a division by X.
        if (x === 0) {
          prepared.executed = executed;
          return 0;
        }
        a = (a / x) >>> 0;
        break;
      case OP_AND_K:
        a = (a & k) >>> 0;
        break;
      case OP_AND_X:
        a = (a & x) >>> 0;
        break;
      case OP_OR_K:
        a = (a | k) >>> 0;
        break;
      case OP_OR_X:
        a = (a | x) >>> 0;
        break;
      case OP_XOR_K:
        a = (a ^ k) >>> 0;
        break;
      case OP_XOR_X:
        a = (a ^ x) >>> 0;
        break;
      case OP_LSH_K:
        a = (a << k) >>> 0;
        break;
      case OP_LSH_X:
        a = (a << x) >>> 0; // JS masks the count to 5 bits, like the kernel.
        break;
      case OP_RSH_K:
        a = a >>> k;
        break;
      case OP_RSH_X:
        a = a >>> x;
        break;
      case OP_NEG:
        a = -a >>> 0;
        break;
      case OP_JA:
        pc = takenTargets[pc] as number;
        continue;
      case OP_JEQ_K:
        pc = (a === k ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JEQ_X:
        pc = (a === x ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JGT_K:
        pc = (a > k ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JGT_X:
        pc = (a > x ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JGE_K:
        pc = (a >= k ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JGE_X:
        pc = (a >= x ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JSET_K:
        pc = ((a & k) !== 0 ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_JSET_X:
        pc = ((a & x) !== 0 ? takenTargets[pc] : notTakenTargets[pc]) as number;
        continue;
      case OP_RET_K:
        prepared.executed = executed;
        return k;
      case OP_RET_A:
        prepared.executed = executed;
        return a;
      case OP_TAX:
        x = a;
        break;
      case OP_TXA:
        a = x;
        break;
      default:
        throw new Error(`instruction ${pc}: corrupt prepared program`);
    }
    pc++;
  }
}

/** Index of the 32-bit word holding the low or high half of the u64 at byte offset `base`. */
function u64WordIndex(base: number, word: 'low' | 'high', bigEndian: boolean): number {
  return (word === 'high') === bigEndian ? base / 4 : base / 4 + 1;
}

/** Writes the low and high words of a u64 (any bigint, wrapped to 64 bits) into `words`. */
function storeU64(words: Uint32Array, lowIndex: number, highIndex: number, value: bigint): void {
  const wrapped = BigInt.asUintN(64, value);
  words[lowIndex] = Number(wrapped & 0xffffffffn);
  words[highIndex] = Number(wrapped >> 32n);
}

/** Fills 16 words of seccomp_data from `data`, laid out as a host of the given byte order sees them. */
export function fillSeccompWords(words: Uint32Array, data: SeccompInput, bigEndian = false): void {
  if (data.args.length > 6) throw new Error(`a syscall has at most 6 arguments; got ${data.args.length}`);
  words[SECCOMP_DATA.NR / 4] = data.nr >>> 0;
  words[SECCOMP_DATA.ARCH / 4] = data.arch >>> 0;
  const ip = data.ip ?? 0n;
  storeU64(
    words,
    u64WordIndex(SECCOMP_DATA.IP, 'low', bigEndian),
    u64WordIndex(SECCOMP_DATA.IP, 'high', bigEndian),
    ip,
  );
  for (let index = 0; index < 6; index++) {
    const low = argWordOffset(index, 'low', bigEndian) / 4;
    const high = argWordOffset(index, 'high', bigEndian) / 4;
    storeU64(words, low, high, data.args[index] ?? 0n);
  }
}

/** A fresh 16-word seccomp_data for `data`. */
export function seccompWords(data: SeccompInput, bigEndian = false): Uint32Array {
  const words = new Uint32Array(SECCOMP_DATA_WORDS);
  fillSeccompWords(words, data, bigEndian);
  return words;
}

export interface CountedResult {
  /** The 32-bit filter return value. */
  readonly ret: number;
  /** Instructions executed to reach it. */
  readonly executed: number;
}

export interface TracedResult extends CountedResult {
  readonly action: Action;
  /** Indexes of the executed instructions, in order. */
  readonly path: readonly number[];
  /** Byte offsets into seccomp_data that the run loaded, in order. */
  readonly loadedOffsets: readonly number[];
}

/** The 32-bit value the filter returns for `data` (validating the program on first use). */
export function emulate(
  program: Program | PreparedProgram,
  data: SeccompInput,
  options: EmulateOptions = {},
): number {
  return emulateCounted(program, data, options).ret;
}

/** The filter's return value and the number of instructions executed to reach it. */
export function emulateCounted(
  program: Program | PreparedProgram,
  data: SeccompInput,
  options: EmulateOptions = {},
): CountedResult {
  const prepared = preparedFor(program);
  const ret = runPrepared(prepared, seccompWords(data, options.bigEndian ?? false));
  return { ret, executed: prepared.executed };
}

/** The filter's decision with the instructions it executed and the seccomp_data it read. */
export function emulateTraced(
  program: Program | PreparedProgram,
  data: SeccompInput,
  options: EmulateOptions = {},
): TracedResult {
  const prepared = preparedFor(program);
  const ret = runPrepared(prepared, seccompWords(data, options.bigEndian ?? false));
  const path = Array.from(prepared.path.subarray(0, prepared.executed));
  const loadedOffsets = path
    .map((pc) => prepared.program[pc] as SockFilter)
    .filter((insn) => insn.code === LD_W_ABS)
    .map((insn) => insn.k);
  return { ret, executed: prepared.executed, action: retToAction(ret), path, loadedOffsets };
}
