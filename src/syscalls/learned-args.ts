/**
 * The arguments worth learning: where the value, not just the call, decides what a syscall can do.
 * Recorders key their counts by these (masked) values, traces keep them, and `learn` turns them into
 * argument rules. Everything else is learned as "the call, any arguments".
 */
import type { Arch } from './arch.js';

export interface LearnedArgument {
  /** Argument register index. */
  readonly index: 0 | 1 | 2 | 3 | 4 | 5;
  /** What the value means, for comments in generated policies. */
  readonly meaning: string;
  /** Bits that matter; the rest are cut before counting (clone's flags also carry a signal number). */
  readonly mask: bigint;
  /** How the kernel reads the argument: int arguments are compared on their low 32 bits. */
  readonly width: 32 | 64;
}

/**
 * CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
 * CLONE_NEWPID | CLONE_NEWNET: the namespace bits of clone/unshare flags (include/uapi/linux/sched.h).
 */
export const CLONE_NAMESPACE_FLAGS = 0x7e020080n;

const INT32 = 0xffffffffn;

/** Per syscall name, the arguments a recorder keys its counts by. */
export const LEARNED_ARGUMENTS: Readonly<Record<string, readonly LearnedArgument[]>> = {
  socket: [{ index: 0, meaning: 'address family (domain)', mask: INT32, width: 32 }],
  ioctl: [{ index: 1, meaning: 'request', mask: INT32, width: 32 }],
  // On x86_64, s390x and others clone's first argument is flags; the namespace bits decide.
  clone: [{ index: 0, meaning: 'namespace flags', mask: CLONE_NAMESPACE_FLAGS, width: 64 }],
  unshare: [{ index: 0, meaning: 'namespace flags', mask: CLONE_NAMESPACE_FLAGS, width: 32 }],
  prctl: [{ index: 0, meaning: 'option', mask: INT32, width: 32 }],
  personality: [{ index: 0, meaning: 'persona', mask: INT32, width: 32 }],
};

/**
 * ABIs whose argument order differs from the table above: s390x passes clone's stack pointer first and
 * its flags second (the kernel's CLONE_BACKWARDS2), so learning index 0 there would key on an address.
 */
const ARGUMENT_INDEX_ON: Readonly<Partial<Record<Arch, Readonly<Record<string, LearnedArgument['index']>>>>> =
  {
    s390x: { clone: 1 },
  };

/** The learned arguments of a syscall on an ABI (empty when its arguments are not learned). */
export function learnedArgumentsOf(syscall: string, arch?: Arch): readonly LearnedArgument[] {
  const learned = LEARNED_ARGUMENTS[syscall] ?? [];
  const index = arch === undefined ? undefined : ARGUMENT_INDEX_ON[arch]?.[syscall];
  return index === undefined ? learned : learned.map((argument) => ({ ...argument, index }));
}

/**
 * The learned arguments of a syscall as every one of `abis` reads them, or undefined when the ABIs
 * disagree on an argument's index (clone on s390x next to x86_64): one rule cannot check both, and a rule
 * checking the wrong register (a stack pointer for flags) would allow what it means to refuse.
 */
export function learnedArgumentsOn(
  syscall: string,
  abis: readonly Arch[],
): readonly LearnedArgument[] | undefined {
  const [first, ...rest] = abis.map((arch) => learnedArgumentsOf(syscall, arch));
  if (first === undefined) return learnedArgumentsOf(syscall);
  const agree = rest.every(
    (other) =>
      other.length === first.length && other.every((argument, at) => argument.index === first[at]?.index),
  );
  return agree ? first : undefined;
}
