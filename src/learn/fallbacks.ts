/**
 * ENOSYS fallbacks for a learned policy: newer syscalls that libc tries first and abandons only when the
 * kernel answers ENOSYS. A workload recorded on a libc that never called them still calls them after an
 * upgrade; the default EPERM would then be a hard failure, while ENOSYS makes libc use the older call
 * the policy already allows (and checks by argument). Used for syscalls too risky to tolerate: clone3's
 * flags sit in memory a filter cannot inspect, so it must fall back to clone, whose flags it can.
 */
import { syscallNumber, type Arch } from '../syscalls/arch.js';
import { learnedArgumentsOn } from '../syscalls/learned-args.js';
import { conditionFor } from './learned-conditions.js';
import type { SyscallUsage } from './observed.js';
import type { DraftRule } from './policy-text.js';

interface Fallback {
  /** The newer syscall libc tries first. */
  readonly newer: string;
  /** The older calls libc falls back to on ENOSYS; observing one of them means the newer will come. */
  readonly older: readonly string[];
  readonly why: string;
}

const FALLBACKS: readonly Fallback[] = [
  {
    newer: 'clone3',
    older: ['clone', 'fork', 'vfork'],
    why: 'glibc 2.34+ creates threads and processes with clone3 and falls back to clone only on ENOSYS; clone3 flags cannot be inspected, clone flags can',
  },
  {
    newer: 'faccessat2',
    older: ['faccessat', 'access'],
    why: 'glibc 2.33+ tries faccessat2 for access checks and falls back to faccessat only on ENOSYS',
  },
];

/**
 * The fallback rules for what was observed: `newer` → errno(ENOSYS) on the listed ABIs when an older
 * call was seen and neither the newer call nor a rule for it (`covered`) is already in the policy.
 */
export function fallbackRules(
  observed: ReadonlySet<string>,
  covered: ReadonlySet<string>,
  architectures: readonly Arch[],
): DraftRule[] {
  return FALLBACKS.filter(
    (fallback) =>
      !observed.has(fallback.newer) &&
      !covered.has(fallback.newer) &&
      fallback.older.some((name) => observed.has(name)) &&
      architectures.some((arch) => syscallNumber(arch, fallback.newer) !== undefined),
  ).map((fallback) => ({
    comments: [`fallback: ${fallback.newer} answers ENOSYS so libc uses ${fallback.older.join('/')}`],
    syscalls: [{ name: fallback.newer }],
    action: 'errno(ENOSYS)',
    conditions: [],
    reason: `not observed; ${fallback.why}`,
  }));
}

/** What replacing an observed clone3 adds to the policy, and the usage it takes out of the allowed set. */
export interface Clone3Substitution {
  readonly rules: readonly DraftRule[];
  readonly replaced?: SyscallUsage;
}

/**
 * clone3 observed (glibc 2.34+ creates every thread with it): allowing it would allow namespace creation
 * too, since its flags sit in memory the filter cannot read. Instead it answers ENOSYS, glibc falls back
 * to clone, and clone is allowed only with every CLONE_NEW* bit clear (unless clone itself was observed,
 * whose learned rules already say which flags it may carry). This is what Docker's default profile does.
 */
export function clone3Substitution(
  usages: readonly SyscallUsage[],
  architectures: readonly Arch[],
): Clone3Substitution {
  const clone3 = usages.find((usage) => usage.name === 'clone3');
  if (clone3 === undefined) return { rules: [] };
  const enosys: DraftRule = {
    comments: [
      `clone3 seen ${clone3.count}×: answered ENOSYS so glibc falls back to clone, whose flags are checked`,
    ],
    syscalls: [{ name: 'clone3' }],
    action: 'errno(ENOSYS)',
    conditions: [],
    reason: `observed ${clone3.count} calls; clone3 flags cannot be inspected by a filter, so glibc is steered to clone`,
  };
  const cloneSeen = usages.some((usage) => usage.name === 'clone');
  const abis = architectures.filter((arch) => syscallNumber(arch, 'clone') !== undefined);
  // ABIs that read clone's flags from different registers cannot share one checked rule: no replacement
  // then (clone stays denied, glibc's threads fail loudly) rather than one checking the wrong register.
  const flags = learnedArgumentsOn('clone', abis);
  if (cloneSeen || abis.length === 0 || flags === undefined) return { rules: [enosys], replaced: clone3 };
  const cloneWithoutNamespaces: DraftRule = {
    comments: ['clone in place of clone3: threads and processes, never new namespaces'],
    syscalls: [{ name: 'clone' }],
    action: 'allow',
    conditions: flags.map((argument) => conditionFor('clone', argument, 0n, abis)),
    reason: `replaces clone3 (observed ${clone3.count} calls): glibc falls back to clone on ENOSYS`,
  };
  return { rules: [enosys, cloneWithoutNamespaces], replaced: clone3 };
}
