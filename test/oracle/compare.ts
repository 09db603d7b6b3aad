/**
 * Runs two filters over the same probes in the emulator and collects where they decide differently.
 * A difference is either excused by a named, justified rule (KnownDifference) or reported as a mismatch.
 */
import { prepareProgram, runPrepared, fillSeccompWords, SECCOMP_DATA_WORDS } from '../../src/bpf/emulator.js';
import type { Program } from '../../src/bpf/insn.js';
import { formatAction, retToAction } from '../../src/policy/action.js';
import { syscallName, type Arch } from '../../src/syscalls/arch.js';
import type { Probe } from './probes.js';

/** Returns the name of the documented difference that explains this disagreement, or undefined. */
export type KnownDifference = (probe: Probe, ours: number, theirs: number) => string | undefined;

export interface Mismatch {
  readonly probe: Probe;
  readonly ours: number;
  readonly theirs: number;
}

export interface Comparison {
  readonly compared: number;
  readonly mismatchCount: number;
  /** The first mismatches (at most MAX_KEPT_MISMATCHES). */
  readonly mismatches: readonly Mismatch[];
  /** How many disagreements each named known difference excused. */
  readonly excused: ReadonlyMap<string, number>;
}

const MAX_KEPT_MISMATCHES = 50;

/** Runs both programs on every probe; the kernel applies the filter result as is, so rets are compared exactly. */
export function compareFilters(
  ours: Program,
  theirs: Program,
  probes: Iterable<Probe>,
  known: KnownDifference = () => undefined,
): Comparison {
  const preparedOurs = prepareProgram(ours);
  const preparedTheirs = prepareProgram(theirs);
  const words = new Uint32Array(SECCOMP_DATA_WORDS);
  const mismatches: Mismatch[] = [];
  const excused = new Map<string, number>();
  let compared = 0;
  let mismatchCount = 0;
  for (const probe of probes) {
    fillSeccompWords(words, { nr: probe.nr, arch: probe.auditArch, args: probe.args });
    const oursRet = runPrepared(preparedOurs, words);
    const theirsRet = runPrepared(preparedTheirs, words);
    compared++;
    if (oursRet === theirsRet) continue;
    const reason = known(probe, oursRet, theirsRet);
    if (reason !== undefined) {
      excused.set(reason, (excused.get(reason) ?? 0) + 1);
      continue;
    }
    mismatchCount++;
    // The first mismatches are enough to debug; keep counting the rest.
    if (mismatches.length < MAX_KEPT_MISMATCHES) mismatches.push({ probe, ours: oursRet, theirs: theirsRet });
  }
  return { compared, mismatchCount, mismatches, excused };
}

/** One line per mismatch: ABI, number (and name), args, both actions. */
export function formatMismatches(mismatches: readonly Mismatch[]): string {
  return mismatches
    .map(({ probe, ours, theirs }) => {
      const name =
        probe.abi === 'foreign' ? 'foreign arch' : (syscallName(probe.abi as Arch, probe.nr) ?? 'unnamed');
      const args = probe.args.map((arg) => `0x${arg.toString(16)}`).join(',');
      return `${probe.abi} nr=0x${probe.nr.toString(16)} (${name}) args=[${args}]: sysfence ${describeRet(ours)}, libseccomp ${describeRet(theirs)}`;
    })
    .join('\n');
}

/** An action's text with its raw value. */
export function describeRet(ret: number): string {
  return `${formatAction(retToAction(ret))} (0x${(ret >>> 0).toString(16)})`;
}
