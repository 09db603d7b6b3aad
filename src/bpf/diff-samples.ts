/**
 * The inputs the semantic diff runs through both compiled filters. A filter's decision for one syscall
 * changes only at the constants its conditions compare against, so sampling every constant and its
 * neighbours (v-1, v, v+1), masked variants and high-word variants visits every region where two
 * filters can differ; between neighbouring samples the decision of eq/ne/lt/le/gt/ge checks is constant.
 */
import { rulesForSyscall } from '../policy/evaluate.js';
import type { ArgCondition, ResolvedPolicy } from '../policy/ir.js';
import { syscallEntries, X32_SYSCALL_BIT, type Arch } from '../syscalls/arch.js';

const MASK_32 = 0xffffffffn;
const MASK_64 = 0xffffffffffffffffn;
const HIGH_WORD = 1n << 32n;
/** A cartesian product of argument samples larger than this is cut off (it only arises with many-argument rules). */
export const MAX_SAMPLES_PER_SYSCALL = 4096;

/** Every condition any rule of either policy puts on `name`. */
export function conditionsOn(policies: readonly ResolvedPolicy[], name: string): ArgCondition[] {
  return policies.flatMap((policy) => rulesForSyscall(policy, name).flatMap(({ rule }) => rule.conditions));
}

/** The lowest set bit of a value (0n for 0n). */
function lowestBit(value: bigint): bigint {
  return value & -value;
}

/** Values around one condition's constant where its truth can change, within its width. */
function valuesAround(condition: ArgCondition): bigint[] {
  const max = condition.width === 32 ? MASK_32 : MASK_64;
  const v = condition.value;
  const values = [0n, max, v, v - 1n, v + 1n];
  if (condition.op === 'masked_eq') {
    const mask = (condition.mask ?? max) & max;
    const unmasked = max & ~mask;
    // Set bits the mask ignores (still matches), and flip one bit it checks (no longer matches).
    values.push(v | unmasked, v | lowestBit(unmasked), v ^ lowestBit(mask), mask);
  }
  return values.filter((value) => value >= 0n && value <= max);
}

/**
 * Adds upper-word variants: a 32-bit condition must ignore the upper half (the kernel ignores it for an
 * int argument) and a 64-bit one must not, so both filters are asked about values that differ only there.
 */
function withHighWords(values: readonly bigint[], abiBits: 32 | 64): bigint[] {
  if (abiBits === 32) return values.filter((value) => value <= MASK_32);
  const low = values.filter((value) => value <= MASK_32);
  return [
    ...values,
    ...low.map((value) => value | HIGH_WORD),
    ...low.map((value) => value | (MASK_32 << 32n)),
  ];
}

/** Sorted, deduplicated. */
function uniqueSorted(values: readonly bigint[]): bigint[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Per argument index that some condition checks: the values to try there. */
export function samplesPerIndex(
  conditions: readonly ArgCondition[],
  abiBits: 32 | 64,
): Map<number, bigint[]> {
  const byIndex = new Map<number, bigint[]>();
  for (const condition of conditions) {
    const list = byIndex.get(condition.index) ?? [];
    list.push(...valuesAround(condition));
    byIndex.set(condition.index, list);
  }
  return new Map(
    [...byIndex]
      .sort(([a], [b]) => a - b)
      .map(([index, values]) => [index, uniqueSorted(withHighWords(values, abiBits))]),
  );
}

/**
 * The six-argument vectors to try: the cartesian product of the per-index samples (other arguments 0),
 * cut off at MAX_SAMPLES_PER_SYSCALL. With no conditions, the single all-zero vector.
 */
export function argumentVectors(perIndex: ReadonlyMap<number, readonly bigint[]>): bigint[][] {
  let vectors: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
  for (const [index, values] of perIndex) {
    const next: bigint[][] = [];
    for (const vector of vectors) {
      for (const value of values) {
        if (next.length >= MAX_SAMPLES_PER_SYSCALL) break;
        const copy = [...vector];
        copy[index] = value;
        next.push(copy);
      }
    }
    vectors = next;
  }
  return vectors;
}

/**
 * Syscall numbers the ABI's table does not name, one per kind of gap a filter may treat differently:
 * the first hole inside the table, just past its end, far past it, and -1 (what the kernel shows a
 * filter for a syscall a tracer cancelled). x32 numbers carry X32_SYSCALL_BIT.
 */
export function unknownNumbers(abi: Arch): number[] {
  const numbers = syscallEntries(abi).map(([, nr]) => nr);
  const known = new Set(numbers);
  const base = abi === 'x32' ? X32_SYSCALL_BIT : 0;
  const highest = Math.max(...numbers);
  const lowest = Math.min(...numbers);
  const samples: number[] = [];
  for (let nr = lowest; nr < highest; nr++) {
    if (!known.has(nr)) {
      samples.push(nr);
      break;
    }
  }
  samples.push(highest + 1, base + 0x3ff0);
  if (abi !== 'x32') samples.push(0xffffffff);
  return [...new Set(samples)].filter((nr) => !known.has(nr));
}
