/** Parsing the `SYSCALL [ARG0 ... ARG5]` operands that `emu` and `explain` share. */
import { PolicyError } from '../policy/errors.js';
import { didYouMean } from '../policy/suggest.js';
import { parseIntegerLiteral, parseValue } from '../policy/values.js';
import { isKnownSyscall, syscallNumber, type Arch } from '../syscalls/arch.js';
import { ALL_SYSCALL_NAMES } from '../syscalls/tables.generated.js';
import { UsageError } from './args.js';

export const MAX_SYSCALL_ARGS = 6;

/** A syscall name looked up on `arch`, or a number (negative numbers wrap to u32, as the kernel sees -1). */
export function parseSyscallOperand(text: string, arch: Arch): number {
  const literal = parseIntegerLiteral(text);
  if (literal !== undefined) {
    if (literal < -(1n << 31n) || literal > 0xffffffffn)
      throw new UsageError(`syscall number ${text} is out of range`);
    return Number(BigInt.asUintN(32, literal));
  }
  const nr = syscallNumber(arch, text);
  if (nr !== undefined) return nr;
  if (isKnownSyscall(text)) throw new UsageError(`syscall '${text}' does not exist on ${arch}`);
  const hint = didYouMean(text, ALL_SYSCALL_NAMES);
  throw new UsageError(`unknown syscall '${text}'${hint === undefined ? '' : ` (${hint})`}`);
}

/** Argument values as written in policies (42, 0x2a, -1, AF_INET, O_RDONLY|O_CLOEXEC), padded with 0 to six. */
export function parseArgumentOperands(texts: readonly string[]): bigint[] {
  if (texts.length > MAX_SYSCALL_ARGS)
    throw new UsageError(`at most ${MAX_SYSCALL_ARGS} syscall arguments, got ${texts.length}`);
  const values = texts.map(parseArgumentOperand);
  return [...values, ...new Array<bigint>(MAX_SYSCALL_ARGS - values.length).fill(0n)];
}

function parseArgumentOperand(text: string, position: number): bigint {
  try {
    return parseValue(text, 64);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    const problem = error.problems[0];
    const hint = problem?.hint === undefined ? '' : ` (${problem.hint})`;
    throw new UsageError(`ARG${position}: ${problem?.message ?? error.message}${hint}`);
  }
}
