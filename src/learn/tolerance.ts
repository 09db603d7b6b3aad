/**
 * The tolerance tier: low-risk variants of observed calls (openat for open, statx for newfstatat,
 * clone for fork, ppoll for poll...) that a libc or runtime upgrade may switch to without the program
 * changing. They are added as `log` rules of tier `tolerated`, so the workload survives the upgrade and
 * the audit log shows the switch. Bounded by a share of the allowed set, and never a risk-catalogue call.
 */
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { EQUIVALENCE_CLASSES, toleranceVariantsOf } from '../syscalls/equivalents.js';
import { learnedArgumentsOn } from '../syscalls/learned-args.js';
import { isRisky } from '../syscalls/risk.js';
import { conditionFor, isFlagArgument, type LearnedCondition } from './learned-conditions.js';
import type { ObservedCall } from './observed.js';

export interface ToleratedVariant {
  readonly syscall: string;
  /** The observed call it stands in for. */
  readonly variantOf: string;
  /** How often `variantOf` was called: variants of the most-used calls are chosen first. */
  readonly variantOfCount: number;
  /** Why the two are interchangeable (the tolerance class's note). */
  readonly note: string;
  /** Conditions the variant must meet: flag arguments (clone's namespace bits) must be clear. */
  readonly conditions: readonly LearnedCondition[];
}

/** Per observed syscall name: total calls and the ABIs it was seen on. */
interface Usage {
  readonly name: string;
  readonly count: number;
  readonly abis: readonly Arch[];
}

function usageByName(observed: readonly ObservedCall[]): Usage[] {
  const byName = new Map<string, { count: number; abis: Set<Arch> }>();
  for (const call of observed) {
    const usage = byName.get(call.syscall) ?? { count: 0, abis: new Set<Arch>() };
    usage.count += call.count;
    call.abis.forEach((abi) => usage.abis.add(abi));
    byName.set(call.syscall, usage);
  }
  return [...byName]
    .map(([name, usage]) => ({ name, count: usage.count, abis: [...usage.abis] }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function classNote(a: string, b: string): string {
  const shared = EQUIVALENCE_CLASSES.find(
    (cls) => cls.tolerance && cls.syscalls.includes(a) && cls.syscalls.includes(b),
  );
  return shared?.note ?? 'low-risk variant';
}

/**
 * The conditions under which a variant is safe to tolerate, or undefined when it cannot be: a variant
 * whose arguments are learned as one value (socket's family, ioctl's request) has no observed value to
 * allow; one learned as flag bits (clone's namespace bits) is tolerated only with those bits clear.
 */
function safeConditions(variant: string, abis: readonly Arch[]): LearnedCondition[] | undefined {
  const learned = learnedArgumentsOn(variant, abis);
  if (learned === undefined || !learned.every(isFlagArgument)) return undefined;
  return learned.map((argument) => conditionFor(variant, argument, 0n, abis));
}

/** How many variants a share (0..1) of `allowed` syscalls permits: rounded down, a bound. */
export function toleranceBudget(allowed: number, share: number): number {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`tolerance must be between 0 and 1, got ${share}`);
  return Math.floor(allowed * share + 1e-9);
}

/** A variant that may be tolerated for `usage`, with the conditions that keep it safe. */
function candidate(usage: Usage, variant: string, taken: ReadonlySet<string>): ToleratedVariant | undefined {
  if (taken.has(variant) || isRisky(variant)) return undefined;
  if (!usage.abis.every((abi) => syscallNumber(abi, variant) !== undefined)) return undefined;
  const conditions = safeConditions(variant, usage.abis);
  if (conditions === undefined) return undefined;
  return {
    syscall: variant,
    variantOf: usage.name,
    variantOfCount: usage.count,
    note: classNote(usage.name, variant),
    conditions,
  };
}

/**
 * Picks tolerated variants, deterministically and spread over the workload: one variant for each
 * observed call, most-used calls first, then a second round, and so on, until `budget` are chosen.
 * Never an observed call, never a risk-catalogue call, never a name missing from the table of an ABI
 * the call was seen on.
 */
export function toleratedVariants(observed: readonly ObservedCall[], budget: number): ToleratedVariant[] {
  const taken = new Set(observed.map((call) => call.syscall));
  const queues = usageByName(observed).map((usage) => ({
    usage,
    variants: [...toleranceVariantsOf(usage.name)],
  }));
  const chosen: ToleratedVariant[] = [];
  while (chosen.length < budget && queues.some((queue) => queue.variants.length > 0)) {
    for (const queue of queues) {
      if (chosen.length >= budget) break;
      let picked: ToleratedVariant | undefined;
      while (picked === undefined && queue.variants.length > 0) {
        picked = candidate(queue.usage, queue.variants.shift() as string, taken);
      }
      if (picked === undefined) continue;
      taken.add(picked.syscall);
      chosen.push(picked);
    }
  }
  return chosen;
}
