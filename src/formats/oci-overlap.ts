/**
 * Whether two rules' argument conditions can hold at the same time. libseccomp merges every rule of a
 * syscall into one decision tree instead of trying them in order, so the OCI importer and exporter may
 * only treat a profile as first-match when rules with different actions can never match the same call.
 * The test is conservative: "disjoint" is only answered when it is certain.
 */
import { conditionHolds } from '../policy/evaluate.js';
import type { ArgCondition } from '../policy/ir.js';

interface Interval {
  readonly low: bigint;
  readonly high: bigint;
}

function maxValue(width: 32 | 64): bigint {
  return (1n << BigInt(width)) - 1n;
}

/** The values a range-like condition admits as one interval, or undefined for ne / masked_eq. */
function intervalOf(condition: ArgCondition): Interval | undefined {
  const max = maxValue(condition.width);
  const value = condition.value;
  switch (condition.op) {
    case 'eq':
      return { low: value, high: value };
    case 'lt':
      return { low: 0n, high: value - 1n };
    case 'le':
      return { low: 0n, high: value };
    case 'gt':
      return { low: value + 1n, high: max };
    case 'ge':
      return { low: value, high: max };
    default:
      return undefined;
  }
}

/** A single-argument vector with `value` at the condition's index, for point tests. */
function argsWith(index: number, value: bigint): bigint[] {
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  args[index] = value;
  return args;
}

/** True when no value of the shared argument satisfies both conditions (same index and width). */
function conditionsExclude(a: ArgCondition, b: ArgCondition): boolean {
  const left = intervalOf(a);
  const right = intervalOf(b);
  if (left !== undefined && left.low > left.high) return true;
  if (right !== undefined && right.low > right.high) return true;
  if (left !== undefined && right !== undefined) return left.high < right.low || right.high < left.low;
  if (left !== undefined && left.low === left.high) return !conditionHolds(b, argsWith(b.index, left.low));
  if (right !== undefined && right.low === right.high)
    return !conditionHolds(a, argsWith(a.index, right.low));
  if (a.op === 'masked_eq' && b.op === 'masked_eq') {
    const common = (a.mask ?? 0n) & (b.mask ?? 0n);
    return ((a.value ^ b.value) & common) !== 0n;
  }
  return false;
}

/**
 * True when the two condition lists (each ANDed) can never both hold: some pair of conditions on the
 * same argument excludes each other. False means "may overlap".
 */
export function conditionsDisjoint(a: readonly ArgCondition[], b: readonly ArgCondition[]): boolean {
  return a.some((left) =>
    b.some(
      (right) => left.index === right.index && left.width === right.width && conditionsExclude(left, right),
    ),
  );
}

/** True when two condition lists are the same set of comparisons (order ignored). */
export function sameConditions(a: readonly ArgCondition[], b: readonly ArgCondition[]): boolean {
  const key = (list: readonly ArgCondition[]): string => list.map(conditionKey).sort().join('&');
  return key(a) === key(b);
}

/** A canonical text of one condition, for grouping and comparison. */
export function conditionKey(condition: ArgCondition): string {
  const mask = condition.mask === undefined ? '' : `/${condition.mask}`;
  return `a${condition.index}:${condition.op}:${condition.value}${mask}:w${condition.width}`;
}
