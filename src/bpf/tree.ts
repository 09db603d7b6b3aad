/**
 * The search over syscall numbers: a binary tree whose inner nodes are `jge K` and whose leaves are the
 * intervals of one AUDIT_ARCH. Leaves stay in number order (an alphabetic tree), and the shape minimises
 * the weighted number of comparisons: with uniform weights that is a balanced tree; with a profile, hot
 * syscalls sit near the root.
 */
import type { NrInterval } from './decision.js';

export type SearchTree =
  | { readonly kind: 'leaf'; readonly interval: NrInterval }
  | {
      readonly kind: 'split';
      /** Numbers >= at go to atOrAbove; the rest to below. */
      readonly at: number;
      readonly below: SearchTree;
      readonly atOrAbove: SearchTree;
    };

/** Above this many intervals the exact O(n^2) layout gives way to a weight-balanced one (memory, time). */
const EXACT_LAYOUT_LIMIT = 700;

/** Builds the comparison tree over sorted, non-empty, gap-free intervals. */
export function buildSearchTree(intervals: readonly NrInterval[]): SearchTree {
  if (intervals.length === 0) throw new Error('internal: a search tree needs at least one interval');
  const prefix = prefixWeights(intervals);
  const chooseRoot =
    intervals.length <= EXACT_LAYOUT_LIMIT ? optimalRoots(intervals.length, prefix) : balancedRoots(prefix);
  const build = (i: number, j: number): SearchTree => {
    if (i === j) return { kind: 'leaf', interval: intervals[i]! };
    const r = chooseRoot(i, j);
    return { kind: 'split', at: intervals[r]!.first, below: build(i, r - 1), atOrAbove: build(r, j) };
  };
  return build(0, intervals.length - 1);
}

/** prefix[k] = total weight of intervals[0..k-1]. */
function prefixWeights(intervals: readonly NrInterval[]): Float64Array {
  const prefix = new Float64Array(intervals.length + 1);
  intervals.forEach((interval, k) => {
    prefix[k + 1] = prefix[k]! + interval.weight;
  });
  return prefix;
}

/**
 * Optimal alphabetic tree by dynamic programming with Knuth's root monotonicity (O(n^2)).
 * Returns, for a leaf range i..j (i < j), the index r of the first leaf of the upper half.
 */
function optimalRoots(n: number, prefix: Float64Array): (i: number, j: number) => number {
  const cost = new Float64Array(n * n);
  const root = new Int32Array(n * n);
  for (let i = 0; i < n; i++) root[i * n + i] = i;
  for (let span = 1; span < n; span++) {
    for (let i = 0; i + span < n; i++) {
      const j = i + span;
      const weight = prefix[j + 1]! - prefix[i]!;
      const low = Math.max(i + 1, root[i * n + j - 1]!);
      const high = Math.min(j, Math.max(low, root[(i + 1) * n + j]!));
      let best = Infinity;
      let bestRoot = low;
      for (let r = low; r <= high; r++) {
        const candidate = cost[i * n + r - 1]! + cost[r * n + j]!;
        if (candidate < best) {
          best = candidate;
          bestRoot = r;
        }
      }
      cost[i * n + j] = best + weight;
      root[i * n + j] = bestRoot;
    }
  }
  return (i, j) => root[i * n + j]!;
}

/** Splits each range where the weights on both sides are closest to equal (within 2 of optimal). */
function balancedRoots(prefix: Float64Array): (i: number, j: number) => number {
  return (i, j) => {
    const half = (prefix[i]! + prefix[j + 1]!) / 2;
    let best = i + 1;
    let bestGap = Infinity;
    for (let r = i + 1; r <= j; r++) {
      const gap = Math.abs(prefix[r]! - half);
      if (gap < bestGap) {
        bestGap = gap;
        best = r;
      }
    }
    return best;
  };
}
