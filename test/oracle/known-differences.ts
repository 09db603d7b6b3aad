/**
 * Where libseccomp 2.5.4 and sysfence decide differently on purpose, each named, justified and narrow:
 * a classifier excuses a disagreement only when the documented cause explains that exact probe. Anything
 * else is a mismatch the differential tests report.
 */
import { actionToRet } from '../../src/policy/action.js';
import type { PolicyRule } from '../../src/policy/ir.js';
import { ARCH_BITS, archForAudit, syscallName, type Arch } from '../../src/syscalls/arch.js';
import {
  IPC_FAMILY,
  SOCKETCALL_FAMILY,
  type LibseccompSpec,
  type PeerCondition,
} from '../../bench/peers/libseccomp.js';
import type { KnownDifference } from './compare.js';
import type { Probe } from './probes.js';

/**
 * Syscalls of the Linux 7.2 tables that libseccomp 2.5.4 cannot name, per ABI (pinned: the peer test
 * checks this list against libseccomp itself, so a newer libseccomp shows up as a test failure to update
 * here). libseccomp refuses rules for them, so its filter gives them the default action while sysfence
 * compiles the rule. Too new: statmount (457) and everything after it; uretprobe/uprobe (x86_64 6.11+);
 * map_shadow_stack exists in libseccomp's x86_64 and i386 tables but not in its x32 table.
 */
export const TOO_NEW_FOR_LIBSECCOMP_2_5_4: Readonly<Record<'x86_64' | 'x32' | 'i386', readonly string[]>> = {
  x86_64: [
    'uretprobe',
    'uprobe',
    'statmount',
    'listmount',
    'lsm_get_self_attr',
    'lsm_set_self_attr',
    'lsm_list_modules',
    'mseal',
    'setxattrat',
    'getxattrat',
    'listxattrat',
    'removexattrat',
    'open_tree_attr',
    'file_getattr',
    'file_setattr',
    'listns',
    'rseq_slice_yield',
  ],
  x32: [
    'uretprobe',
    'uprobe',
    'map_shadow_stack',
    'statmount',
    'listmount',
    'lsm_get_self_attr',
    'lsm_set_self_attr',
    'lsm_list_modules',
    'mseal',
    'setxattrat',
    'getxattrat',
    'listxattrat',
    'removexattrat',
    'open_tree_attr',
    'file_getattr',
    'file_setattr',
    'listns',
    'rseq_slice_yield',
  ],
  i386: [
    'statmount',
    'listmount',
    'lsm_get_self_attr',
    'lsm_set_self_attr',
    'lsm_list_modules',
    'mseal',
    'setxattrat',
    'getxattrat',
    'listxattrat',
    'removexattrat',
    'open_tree_attr',
    'file_getattr',
    'file_setattr',
    'listns',
    'rseq_slice_yield',
  ],
};

/** i386 socketcall(2) and ipc(2): libseccomp adds a multiplexer rule for every direct call of the family. */
export const I386_SOCKETCALL_NR = 102;
export const I386_IPC_NR = 117;

/** Excuses a probe of a syscall libseccomp 2.5.4 cannot name: it gets libseccomp's default action. */
export function tooNewForLibseccomp(defaultRet: number): KnownDifference {
  return (probe, _ours, theirs) => {
    if (probe.abi !== 'x86_64' && probe.abi !== 'x32' && probe.abi !== 'i386') return undefined;
    const name = syscallName(probe.abi, probe.nr);
    if (name === undefined || !TOO_NEW_FOR_LIBSECCOMP_2_5_4[probe.abi].includes(name)) return undefined;
    return theirs === defaultRet ? `too new for libseccomp 2.5.4 (${probe.abi})` : undefined;
  };
}

/**
 * Excuses i386 socketcall/ipc probes where libseccomp returns the action of a rule on a multiplexed call
 * (it adds socketcall(a0 == SYS_xxx) for a socket-family rule, dropping that rule's own conditions).
 * sysfence compiles only what the policy names: socketcall is its own syscall in the policy.
 */
export function i386Multiplexing(rules: readonly PolicyRule[]): KnownDifference {
  const familyRets = (family: readonly string[]): Set<number> =>
    new Set(
      rules
        .filter((rule) => rule.syscalls.some((name) => family.includes(name)))
        .map((rule) => actionToRet(rule.action)),
    );
  const socketRets = familyRets(SOCKETCALL_FAMILY);
  const ipcRets = familyRets(IPC_FAMILY);
  return (probe, _ours, theirs) => {
    if (probe.abi !== 'i386') return undefined;
    if (probe.nr === I386_SOCKETCALL_NR && socketRets.has(theirs))
      return 'i386 socketcall multiplexing (libseccomp)';
    if (probe.nr === I386_IPC_NR && ipcRets.has(theirs)) return 'i386 ipc multiplexing (libseccomp)';
    return undefined;
  };
}

/** How libseccomp compares on an ABI: it treats i386 and x32 as 32-bit (low words of args and constants). */
function libseccompWidths(abi: Arch): CompareWidths {
  const narrow = abi === 'i386' || abi === 'x32';
  return { lowArgs: narrow, lowConstants: narrow, foldWideOrderings: false };
}

/**
 * How sysfence compares (conditionForAbi in src/policy/evaluate.ts): x32 at the width the policy declares,
 * as on x86_64 (x32 passes 64-bit registers and its 64-bit arguments use them); 32-bit ABIs (i386) on the
 * low argument words the compat syscall receives, against constants cut to 32 bits, as libseccomp does.
 */
function sysfenceWidths(abi: Arch): CompareWidths {
  const narrow = ARCH_BITS[abi] === 32;
  return { lowArgs: narrow, lowConstants: narrow, foldWideOrderings: narrow };
}

/**
 * Excuses i386 and x32 probes where each filter follows its own documented semantics and they differ
 * (libseccompWidths vs sysfenceWidths): e.g. libseccomp turns eq 0x100000003 into eq 3 there, and ignores
 * an x32 argument's upper word. Both sides are computed from libseccomp's input by specDecision, not by
 * sysfence's code.
 */
export function libseccomp32BitAbis(spec: LibseccompSpec): KnownDifference {
  return (probe, ours, theirs) => {
    if (probe.abi !== 'i386' && probe.abi !== 'x32') return undefined;
    const libseccompMeaning = specDecision(spec, probe, libseccompWidths(probe.abi));
    const sysfenceMeaning = specDecision(spec, probe, sysfenceWidths(probe.abi));
    if (libseccompMeaning === undefined || theirs !== libseccompMeaning || ours !== sysfenceMeaning)
      return undefined;
    return probe.abi === 'x32'
      ? 'libseccomp compares only low words on x32'
      : 'libseccomp truncates 64-bit constants on i386';
  };
}

/**
 * Excuses x86_64 numbers at or above 0x40000000 without the x32 bit (0x80000000..0xbfffffff) in a filter
 * that does not list x32: libseccomp sends every number >= 0x40000000 except -1 to the bad-arch action;
 * sysfence follows the kernel, which only treats numbers with bit 30 set as x32, and gives these the
 * unknown-number action. The kernel runs no syscall for either.
 */
export function x86_64NumbersWithoutX32Bit(
  abis: readonly Arch[],
  badArchRet: number,
  unknownRet: number,
): KnownDifference {
  const x32Listed = abis.includes('x32');
  return (probe, ours, theirs) => {
    if (x32Listed || probe.abi !== 'x86_64' || probe.nr < 0x40000000 || probe.nr === 0xffffffff)
      return undefined;
    if ((probe.nr & 0x40000000) !== 0) return undefined;
    return ours === unknownRet && theirs === badArchRet
      ? 'x86_64 numbers >= 2^31 without the x32 bit'
      : undefined;
  };
}

/**
 * What libseccomp's input means for one call, evaluated here independently of sysfence's compiler and
 * evaluator: rules with the default action are dropped (the peer skips them), an unconditional rule decides
 * its syscall alone (libseccomp absorbs the others), otherwise the matching rules' action, undefined if
 * matching rules disagree (an overlap libseccomp resolves by tree order). `widths` says whether arguments
 * and constants are cut to their low words first (libseccomp does both on i386 and x32).
 */
export function specDecision(spec: LibseccompSpec, probe: Probe, widths: CompareWidths): number | undefined {
  if (probe.abi === 'foreign') return undefined;
  // The ABI the kernel would see: boundary probes cross the x32 bit (x86_64's 0x40000000 is x32's read).
  const abi = archForAudit(probe.auditArch, probe.nr);
  if (abi === undefined) return undefined;
  const name = syscallName(abi, probe.nr);
  const defaultRet = actionToRet(spec.defaultAction);
  const rules = spec.rules.filter((peer) => peer.syscall === name && actionToRet(peer.action) !== defaultRet);
  const unconditional = rules.find((peer) => peer.conditions.length === 0);
  if (unconditional !== undefined) return actionToRet(unconditional.action);
  const matching = new Set(
    rules
      .filter((peer) =>
        peer.conditions.every((condition) => peerConditionHolds(condition, probe.args, widths)),
      )
      .map((peer) => actionToRet(peer.action)),
  );
  if (matching.size > 1) return undefined;
  return matching.size === 1 ? (matching.values().next().value as number) : defaultRet;
}

/** Which halves a comparison sees: arguments and constants cut to their low 32 bits, or whole. */
export interface CompareWidths {
  readonly lowArgs: boolean;
  readonly lowConstants: boolean;
  /** lt/le/gt/ge against a constant above 2^32-1 decide every 32-bit argument alike (sysfence, not libseccomp). */
  readonly foldWideOrderings: boolean;
}

const LOW_32 = 0xffffffffn;
const ALL_64 = 0xffffffffffffffffn;

/** One libseccomp comparison: (arg & mask) == (value & mask) for masked_eq, else an unsigned compare. */
function peerConditionHolds(
  condition: PeerCondition,
  args: readonly bigint[],
  widths: CompareWidths,
): boolean {
  if (widths.foldWideOrderings && condition.value > LOW_32) {
    if (condition.op === 'lt' || condition.op === 'le') return true;
    if (condition.op === 'gt' || condition.op === 'ge') return false;
  }
  const arg = (args[condition.index] ?? 0n) & (widths.lowArgs ? LOW_32 : ALL_64);
  const width = widths.lowConstants ? LOW_32 : ALL_64;
  const value = condition.value & width;
  switch (condition.op) {
    case 'eq':
      return arg === value;
    case 'ne':
      return arg !== value;
    case 'lt':
      return arg < value;
    case 'le':
      return arg <= value;
    case 'gt':
      return arg > value;
    case 'ge':
      return arg >= value;
    case 'masked_eq': {
      const mask = (condition.mask ?? width) & width;
      return (arg & mask) === (value & mask);
    }
  }
}

/**
 * Excuses probes where libseccomp's filter contradicts libseccomp's own input while sysfence follows it.
 * Two libseccomp 2.5.4 bugs, both confirmed on this kernel and pinned in libseccomp-peer.test.ts:
 *  - it mis-merges range comparisons (split into hi32/lo32 checks) across rules of one syscall: for
 *    (a1 > 0 && a3 == 0) || (a1 < 1 && a5 == 0) it allows a1 = 0, a3 = 0, a5 = 1, which neither rule matches;
 *  - with optimize 1, x86_64 + x32 (+ i386) and a rule on a syscall x86_64/x32 lack (waitpid), the x86_64
 *    section can lose its load of the syscall number and compare the arch value instead: a conditional
 *    deny rule on kill then never fires (fail-open).
 * The referee is specDecision over the spec (each side with its own comparison widths), written here, not
 * sysfence's evaluator, so a shared sysfence bug is not excused.
 */
export function libseccompContradictsItsInput(spec: LibseccompSpec): KnownDifference {
  return (probe, ours, theirs) => {
    if (probe.abi === 'foreign') return undefined;
    const libseccompMeaning = specDecision(spec, probe, libseccompWidths(probe.abi));
    const sysfenceMeaning = specDecision(spec, probe, sysfenceWidths(probe.abi));
    if (libseccompMeaning === undefined || theirs === libseccompMeaning || ours !== sysfenceMeaning)
      return undefined;
    return 'libseccomp 2.5.4 bug: its filter contradicts its own rules';
  };
}

/** The first classifier that excuses the probe wins. */
export function anyOf(...classifiers: readonly KnownDifference[]): KnownDifference {
  return (probe, ours, theirs) => {
    for (const classify of classifiers) {
      const reason = classify(probe, ours, theirs);
      if (reason !== undefined) return reason;
    }
    return undefined;
  };
}
