/**
 * The inputs the differential tests run through both filters: every syscall number of each ABI, the
 * numbers where filters like to get boundaries wrong, a foreign AUDIT_ARCH, and argument values around
 * every constant a condition compares against (including the 32-bit-bypass shapes: same low word with a
 * different high word). Written independently of the compiler's own sampling so the oracle does not
 * share its blind spots.
 */
import type { ArgCondition, PolicyRule } from '../../src/policy/ir.js';
import { AUDIT_ARCH, X32_SYSCALL_BIT, syscallEntries, type Arch } from '../../src/syscalls/arch.js';

export interface Probe {
  readonly abi: Arch | 'foreign';
  readonly auditArch: number;
  readonly nr: number;
  readonly args: readonly bigint[];
}

/** An AUDIT_ARCH none of the x86 filters lists (aarch64): must get the bad-arch action. */
export const FOREIGN_AUDIT_ARCH = AUDIT_ARCH.aarch64;

const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;
const HIGH_BIT_WORD = 1n << 32n;
const TYPICAL_ARGS: readonly bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
/** Above this many argument vectors per syscall, samples vary one argument at a time. */
const MAX_CARTESIAN = 4096;
/** libseccomp's x32 pseudo number for map_shadow_stack, as the filter compares it (see libseccomp.ts). */
const LIBSECCOMP_X32_PSEUDO_NR = 0xffffd7fb;

/** Highest number in the ABI's table. */
function maxNumber(abi: Arch): number {
  return Math.max(...syscallEntries(abi).map(([, nr]) => nr));
}

/** Numbers around the ends of the table, the x32 bit, the sign bit and -1 (a tracer's "skip"). */
export function boundaryNumbers(abi: Arch): number[] {
  const top = maxNumber(abi);
  const numbers = [
    0,
    top + 1,
    top + 2,
    1023,
    1024,
    0x3fffffff,
    X32_SYSCALL_BIT,
    X32_SYSCALL_BIT - 1,
    X32_SYSCALL_BIT + 1,
    X32_SYSCALL_BIT + 600,
    0x7fffffff,
    0x80000000,
    0xbfffffff,
    0xc0000000,
    LIBSECCOMP_X32_PSEUDO_NR,
    0xfffffffe,
    0xffffffff,
  ];
  return numbers.filter((nr) => nr >= 0 && nr <= 0xffffffff);
}

/** Every number of the ABI's table, plus the boundary numbers, deduplicated. */
export function numbersToProbe(abi: Arch): number[] {
  return [...new Set([...syscallEntries(abi).map(([, nr]) => nr), ...boundaryNumbers(abi)])];
}

/** Values where a condition's truth can change, plus the shapes that catch a missing high-word check. */
export function valuesAround(condition: ArgCondition): bigint[] {
  const v = condition.value;
  const values = [0n, 1n, U32, U32 + 1n, U64, v, v - 1n, v + 1n];
  // Same low word, different high word: a filter comparing only the low word (or only the high) errs here.
  values.push((v & U32) | HIGH_BIT_WORD, (v & U32) | (U64 ^ U32), v ^ HIGH_BIT_WORD, v & U32);
  if (condition.mask !== undefined) {
    const mask = condition.mask;
    const lowestMaskBit = mask & -mask;
    values.push(mask, v | (U64 & ~mask), v ^ lowestMaskBit, v | (HIGH_BIT_WORD & ~mask));
  }
  return [...new Set(values.filter((value) => value >= 0n && value <= U64))];
}

/** Sample values per argument index, for every condition on it. */
function valuesPerIndex(conditions: readonly ArgCondition[]): Map<number, bigint[]> {
  const perIndex = new Map<number, Set<bigint>>();
  for (const condition of conditions) {
    const set = perIndex.get(condition.index) ?? new Set<bigint>([0n]);
    for (const value of valuesAround(condition)) set.add(value);
    perIndex.set(condition.index, set);
  }
  return new Map([...perIndex].map(([index, set]) => [index, [...set]]));
}

/** Cartesian product of the per-index samples, or one index varied at a time when that is too large. */
export function argumentVectors(conditions: readonly ArgCondition[]): bigint[][] {
  const perIndex = valuesPerIndex(conditions);
  const size = [...perIndex.values()].reduce((product, values) => product * values.length, 1);
  if (size > MAX_CARTESIAN) {
    return [...perIndex].flatMap(([index, values]) =>
      values.map((value) => TYPICAL_ARGS.map((typical, i) => (i === index ? value : typical))),
    );
  }
  let vectors: bigint[][] = [[...TYPICAL_ARGS]];
  for (const [index, values] of perIndex) {
    vectors = vectors.flatMap((vector) =>
      values.map((value) => vector.map((old, i) => (i === index ? value : old))),
    );
  }
  return vectors;
}

/** Conditions of every rule naming `syscall`. */
export function conditionsFor(rules: readonly PolicyRule[], syscall: string): ArgCondition[] {
  return rules.filter((rule) => rule.syscalls.includes(syscall)).flatMap((rule) => rule.conditions);
}

/**
 * Every probe for these ABIs: each number with typical args, each named syscall that has conditions
 * with the argument samples around them, and the same numbers under a foreign AUDIT_ARCH.
 */
export function* probesForRules(rules: readonly PolicyRule[], abis: readonly Arch[]): Generator<Probe> {
  for (const abi of abis) {
    const auditArch = AUDIT_ARCH[abi];
    const byNumber = new Map(syscallEntries(abi).map(([name, nr]) => [nr, name] as const));
    for (const nr of numbersToProbe(abi)) {
      const name = byNumber.get(nr);
      const conditions = name === undefined ? [] : conditionsFor(rules, name);
      const vectors = conditions.length === 0 ? [[...TYPICAL_ARGS]] : argumentVectors(conditions);
      for (const args of vectors) yield { abi, auditArch, nr, args };
    }
    for (const nr of [0, 1, 59, 0xffffffff, syscallEntries(abi)[0]?.[1] ?? 0]) {
      yield { abi: 'foreign', auditArch: FOREIGN_AUDIT_ARCH, nr, args: TYPICAL_ARGS };
    }
  }
}
