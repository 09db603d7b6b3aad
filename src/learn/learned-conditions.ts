/**
 * Learned argument values → argument conditions of a generated rule, with the symbolic names from
 * src/syscalls/constants.ts where one exists (AF_INET reads better in review than 0x2). Names are only
 * labels: the policy parser maps each name back to exactly the recorded number, so a name can never
 * change what the rule matches.
 */
import type { Arch } from '../syscalls/arch.js';
import { CONSTANT_FAMILIES } from '../syscalls/constants.js';
import { learnedArgumentsOn, type LearnedArgument } from '../syscalls/learned-args.js';
import type { TraceArg } from './trace.js';

/** One condition as a generated rule writes it. */
export interface LearnedCondition {
  readonly index: LearnedArgument['index'];
  readonly op: 'eq' | 'masked_eq';
  readonly value: bigint;
  /** masked_eq only. */
  readonly mask?: bigint;
  readonly width: 32 | 64;
  /** The value as written: a constant name, `A|B`, or hex. */
  readonly valueText: string;
  /** What the argument means (from LEARNED_ARGUMENTS), for comments. */
  readonly meaning: string;
}

/** Where the names of a syscall's argument values come from. */
interface Naming {
  readonly family: string;
  readonly accepts: (name: string) => boolean;
  /** ABIs whose values differ from the family's (x86_64) ones: no names there. */
  readonly notOn?: readonly Arch[];
}

const NAMING: Readonly<Record<string, Naming>> = {
  socket: { family: 'socket', accepts: (name) => name.startsWith('AF_') },
  // tty ioctl numbers differ on ppc64le (constants.ts header).
  ioctl: { family: 'tty-ioctl', accepts: () => true, notOn: ['ppc64le'] },
  // PR_CAP_AMBIENT_* are values of argument 1 and reuse small numbers of real options.
  prctl: {
    family: 'prctl',
    accepts: (name) => name.startsWith('PR_') && !name.startsWith('PR_CAP_AMBIENT_'),
  },
  personality: { family: 'personality', accepts: () => true },
  clone: { family: 'clone', accepts: (name) => name.startsWith('CLONE_NEW') },
  unshare: { family: 'clone', accepts: (name) => name.startsWith('CLONE_NEW') },
};

function familyValues(family: string): ReadonlyArray<readonly [string, bigint]> {
  const found = CONSTANT_FAMILIES.find((candidate) => candidate.family === family);
  return found === undefined ? [] : Object.entries(found.values);
}

function hexText(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** The first accepted name with exactly this value (table order puts the canonical name first). */
function exactName(naming: Naming, value: bigint): string | undefined {
  return familyValues(naming.family).find(
    ([name, candidate]) => candidate === value && naming.accepts(name),
  )?.[0];
}

/** `CLONE_NEWNS|CLONE_NEWPID` when every set bit has a one-bit name, else undefined. */
function bitNames(naming: Naming, value: bigint): string | undefined {
  const names: string[] = [];
  for (let bit = 1n, rest = value; rest !== 0n; bit <<= 1n) {
    if ((rest & bit) === 0n) continue;
    const name = exactName(naming, bit);
    if (name === undefined) return undefined;
    names.push(name);
    rest &= ~bit;
  }
  return names.join('|');
}

function isFullMask(learned: LearnedArgument): boolean {
  return learned.mask === (1n << BigInt(learned.width)) - 1n;
}

/** True when the argument is learned as a set of flag bits (clone's namespace bits), not as one value. */
export function isFlagArgument(learned: LearnedArgument): boolean {
  return !isFullMask(learned);
}

function valueText(syscall: string, value: bigint, masked: boolean, abis: readonly Arch[]): string {
  const naming = NAMING[syscall];
  if (value === 0n && masked) return '0';
  if (naming === undefined || abis.some((abi) => naming.notOn?.includes(abi))) return hexText(value);
  return (masked ? bitNames(naming, value) : exactName(naming, value)) ?? hexText(value);
}

/** The condition that holds exactly for calls whose learned argument has this (masked) value. */
export function conditionFor(
  syscall: string,
  learned: LearnedArgument,
  value: bigint,
  abis: readonly Arch[],
): LearnedCondition {
  const masked = isFlagArgument(learned);
  return {
    index: learned.index,
    op: masked ? 'masked_eq' : 'eq',
    value,
    ...(masked ? { mask: learned.mask } : {}),
    width: learned.width,
    valueText: valueText(syscall, value, masked, abis),
    meaning: learned.meaning,
  };
}

/**
 * The conditions for one observed set of learned values. Throws for a value at an index the syscall
 * does not learn (a trace from another model): guessing would turn it into a wider rule.
 */
export function conditionsFor(
  syscall: string,
  args: readonly TraceArg[],
  abis: readonly Arch[],
): LearnedCondition[] {
  const onEveryAbi = learnedArgumentsOn(syscall, abis);
  if (onEveryAbi === undefined) {
    throw new Error(
      `${syscall}: ${abis.join(', ')} read its learned argument from different registers; learn each ABI on its own (--arch)`,
    );
  }
  return args.map((arg) => {
    const learned = onEveryAbi.find((candidate) => candidate.index === arg.index);
    if (learned === undefined) {
      throw new Error(
        `trace has a learned value for ${syscall} argument ${arg.index}, which is not a learned argument`,
      );
    }
    return conditionFor(syscall, learned, BigInt(arg.value), abis);
  });
}

/** `{ index: 0, op: eq, value: AF_INET, width: 32 }`: a condition in the policy's flow style. */
export function conditionYaml(condition: LearnedCondition): string {
  const value = condition.valueText.includes('|') ? `'${condition.valueText}'` : condition.valueText;
  const mask = condition.mask === undefined ? '' : `, mask: ${hexText(condition.mask)}`;
  return `{ index: ${condition.index}, op: ${condition.op}${mask}, value: ${value}, width: ${condition.width} }`;
}

/** `address family (domain) AF_INET`, for comments and reasons. */
export function conditionText(condition: LearnedCondition): string {
  if (condition.op === 'masked_eq' && condition.value === 0n) return `no ${condition.meaning}`;
  return `${condition.meaning} ${condition.valueText}`;
}
