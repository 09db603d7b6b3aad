/**
 * Semantic diff of two policies: compile both for one kernel architecture, run both programs through
 * the emulator on every syscall number of every ABI either accepts (plus unassigned numbers and ABIs
 * neither lists), with argument samples at every constant either policy compares against, and report
 * where the two filters return different results. Text is never compared, so a group versus an explicit
 * list, reordered independent rules, or a YAML policy versus its OCI JSON export diff empty.
 */
import { formatAction, retToAction, type Action } from '../policy/action.js';
import type { ArgCondition, ResolvedPolicy } from '../policy/ir.js';
import { conditionForAbi } from '../policy/evaluate.js';
import {
  ARCH_BITS,
  ARCHES,
  AUDIT_ARCH,
  syscallEntries,
  X32_SYSCALL_BIT,
  type Arch,
} from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { compile } from './compiler.js';
import { argumentVectors, conditionsOn, samplesPerIndex, unknownNumbers } from './diff-samples.js';
import {
  fillSeccompWords,
  prepareProgram,
  runPrepared,
  SECCOMP_DATA_WORDS,
  type PreparedProgram,
} from './emulator.js';

export interface DiffOptions {
  /** The kernel architecture both policies are compiled for; its ABIs (x86_64: also x32, i386) are compared. */
  readonly arch: Arch;
}

/** Argument `index` lies in from..to (inclusive). A region is a list of these that hold together. */
export interface ArgRange {
  readonly index: number;
  readonly from: bigint;
  readonly to: bigint;
}

export type DiffSubject = 'syscall' | 'unknown' | 'bad-arch';

/** One change: on `abi`, for `subject` (and, when conditional, the argument regions), `before` became `after`. */
export interface DiffEntry {
  readonly abi: Arch;
  /** A named syscall; numbers the ABI's table does not name; or any syscall of an ABI neither policy lists. */
  readonly subject: DiffSubject;
  readonly syscall?: string;
  /** The syscall's number, the unassigned numbers that changed, or the number sampled for a bad-arch ABI. */
  readonly numbers: readonly number[];
  readonly before: Action;
  readonly after: Action;
  /** Undefined: whatever the arguments. Otherwise the regions where this change holds (other arguments 0). */
  readonly args?: readonly (readonly ArgRange[])[];
  /** Regions left out of `args` to keep an entry readable. */
  readonly omittedRegions?: number;
  /**
   * True when `args` lists sampled example points rather than exact ranges: with masked checks or
   * several checked arguments the changed region is not a set of intervals of one argument.
   */
  readonly examples?: boolean;
}

/** Conditional entries list at most this many regions. */
const MAX_REGIONS = 16;
const MASK_32 = 0xffffffffn;

/** A compiled filter ready to run, with the byte order its seccomp_data uses. */
interface Runner {
  readonly prepared: PreparedProgram;
  readonly bigEndian: boolean;
  readonly abis: readonly Arch[];
}

/** One input and what each filter returned for it. */
interface Sample {
  readonly args: readonly bigint[];
  readonly before: number;
  readonly after: number;
}

const scratch = new Uint32Array(SECCOMP_DATA_WORDS);
/** Unassigned numbers and foreign ABIs are decided before any argument is read. */
const NO_ARGS: readonly bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];

function compileRunner(policy: ResolvedPolicy, arch: Arch): Runner {
  const result = compile(policy, { arch });
  return { prepared: prepareProgram(result.program), bigEndian: result.bigEndian, abis: result.abis };
}

function run(runner: Runner, abi: Arch, nr: number, args: readonly bigint[]): number {
  fillSeccompWords(scratch, { nr, arch: AUDIT_ARCH[abi], args }, runner.bigEndian);
  return runPrepared(runner.prepared, scratch);
}

/** Every difference between the compiled decisions of `before` and `after` for a kernel of `options.arch`. */
export function diffPolicies(
  before: ResolvedPolicy,
  after: ResolvedPolicy,
  options: DiffOptions,
): DiffEntry[] {
  const a = compileRunner(before, options.arch);
  const b = compileRunner(after, options.arch);
  const accepted = ARCHES.filter((abi) => a.abis.includes(abi) || b.abis.includes(abi));
  const entries = accepted.flatMap((abi) => [
    ...diffNamedSyscalls([before, after], a, b, abi),
    ...diffUnknownNumbers(a, b, abi),
  ]);
  const rejected = ARCHES.filter((abi) => !accepted.includes(abi));
  return [...entries, ...rejected.flatMap((abi) => diffBadArch(a, b, abi))];
}

function diffNamedSyscalls(
  policies: readonly ResolvedPolicy[],
  a: Runner,
  b: Runner,
  abi: Arch,
): DiffEntry[] {
  return syscallEntries(abi).flatMap(([name, nr]) => {
    const conditions = conditionsOn(policies, name).map((condition) => conditionForAbi(condition, abi));
    const perIndex = samplesPerIndex(conditions, ARCH_BITS[abi]);
    const samples = argumentVectors(perIndex).map((args) => ({
      args,
      before: run(a, abi, nr, args),
      after: run(b, abi, nr, args),
    }));
    return summarise(samples, argShape(conditions, [...perIndex.keys()])).map((change) => ({
      abi,
      subject: 'syscall' as const,
      syscall: name,
      numbers: [nr],
      ...change,
    }));
  });
}

function diffUnknownNumbers(a: Runner, b: Runner, abi: Arch): DiffEntry[] {
  const byChange = new Map<string, { before: number; after: number; numbers: number[] }>();
  for (const nr of unknownNumbers(abi)) {
    const before = run(a, abi, nr, NO_ARGS);
    const after = run(b, abi, nr, NO_ARGS);
    if (before === after) continue;
    const key = `${before}:${after}`;
    const group = byChange.get(key) ?? { before, after, numbers: [] };
    group.numbers.push(nr);
    byChange.set(key, group);
  }
  return [...byChange.values()].map((group) => ({
    abi,
    subject: 'unknown' as const,
    numbers: group.numbers,
    before: retToAction(group.before),
    after: retToAction(group.after),
  }));
}

/** An ABI neither program accepts: both return their badArchAction, whatever the number. */
function diffBadArch(a: Runner, b: Runner, abi: Arch): DiffEntry[] {
  const nr = abi === 'x32' ? X32_SYSCALL_BIT : 0;
  const before = run(a, abi, nr, NO_ARGS);
  const after = run(b, abi, nr, NO_ARGS);
  if (before === after) return [];
  return [
    { abi, subject: 'bad-arch', numbers: [nr], before: retToAction(before), after: retToAction(after) },
  ];
}

/** The part of an entry that depends on the samples: the change and where in argument space it holds. */
type Change = Pick<DiffEntry, 'before' | 'after' | 'args' | 'omittedRegions' | 'examples'>;

function changeKey(sample: Sample): string {
  return `${sample.before}:${sample.after}`;
}

/**
 * Groups the differing samples of one syscall by (before, after). A change that holds for every sample
 * holds whatever the arguments; otherwise each change lists the argument regions where it was seen.
 */
function summarise(samples: readonly Sample[], shape: ArgShape): Change[] {
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    if (sample.before === sample.after) continue;
    const key = changeKey(sample);
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  return [...groups.entries()].map(([key, group]) => {
    const first = group[0] as Sample;
    const change = { before: retToAction(first.before), after: retToAction(first.after) };
    if (group.length === samples.length) return change;
    const regions = regionsOf(key, samples, shape);
    return {
      ...change,
      ...(shape.exact ? {} : { examples: true }),
      args: regions.slice(0, MAX_REGIONS),
      ...(regions.length > MAX_REGIONS ? { omittedRegions: regions.length - MAX_REGIONS } : {}),
    };
  });
}

/** How the checked arguments of one syscall can be summarised. */
interface ArgShape {
  readonly indexes: readonly number[];
  /** One argument checked by plain comparisons: runs of neighbouring samples are exact ranges. */
  readonly exact: boolean;
  /** Every check is 32-bit, so the policies ignore the upper word (the kernel does, for an int). */
  readonly lowWordOnly: boolean;
}

function argShape(conditions: readonly ArgCondition[], indexes: readonly number[]): ArgShape {
  return {
    indexes,
    exact: indexes.length <= 1 && conditions.every((condition) => condition.op !== 'masked_eq'),
    lowWordOnly: conditions.every((condition) => condition.width === 32),
  };
}

/**
 * Where change `key` holds. With one argument checked by plain comparisons, the samples are points on
 * a line and the change holds on runs of neighbouring samples, given as ranges (exact: such decisions
 * only change at sampled constants). Otherwise each differing sample is listed as an example point.
 */
function regionsOf(key: string, samples: readonly Sample[], shape: ArgShape): ArgRange[][] {
  if (shape.indexes.length !== 1) {
    return samples
      .filter((sample) => changeKey(sample) === key)
      .map((sample) => shape.indexes.map((index) => point(index, sample.args[index] ?? 0n)));
  }
  const index = shape.indexes[0] as number;
  const line = projectLine(samples, index, shape.lowWordOnly);
  if (!shape.exact)
    return line.filter(([, pointKey]) => pointKey === key).map(([value]) => [point(index, value)]);
  return rangesWhere(line, key).map(([from, to]) => [{ index, from, to }]);
}

function point(index: number, value: bigint): ArgRange {
  return { index, from: value, to: value };
}

/**
 * The samples of one argument as (value, change) points in ascending order. When only 32-bit checks
 * look at it and both filters indeed ignored the upper word (every sample with the same low word got
 * the same results), the line is the low word, so `arg0=16` is not repeated for 0x1_00000010.
 */
function projectLine(
  samples: readonly Sample[],
  index: number,
  lowWordOnly: boolean,
): Array<readonly [bigint, string]> {
  const byLow = new Map<bigint, Set<string>>();
  for (const sample of samples) {
    const low = (sample.args[index] ?? 0n) & MASK_32;
    byLow.set(low, (byLow.get(low) ?? new Set()).add(changeKey(sample)));
  }
  const project = lowWordOnly && [...byLow.values()].every((keys) => keys.size === 1);
  const points: Array<readonly [bigint, string]> = project
    ? [...byLow].map(([low, keys]) => [low, [...keys][0] as string] as const)
    : samples.map((sample) => [sample.args[index] ?? 0n, changeKey(sample)] as const);
  return [...new Map(points.map(([value, key]) => [value, key])).entries()].sort(([x], [y]) =>
    x < y ? -1 : x > y ? 1 : 0,
  );
}

/** Maximal runs of consecutive points whose change is `key`, as [first, last] values. */
function rangesWhere(line: ReadonlyArray<readonly [bigint, string]>, key: string): Array<[bigint, bigint]> {
  const ranges: Array<[bigint, bigint]> = [];
  let open: [bigint, bigint] | undefined;
  for (const [value, pointKey] of line) {
    if (pointKey !== key) {
      open = undefined;
      continue;
    }
    if (open === undefined) {
      open = [value, value];
      ranges.push(open);
    } else {
      open[1] = value;
    }
  }
  return ranges;
}

/** Small values in decimal, large ones (flags, masks, high words) in hex. */
function formatArgValue(value: bigint): string {
  return value < 0x10000n ? value.toString() : `0x${value.toString(16)}`;
}

function formatRegion(region: readonly ArgRange[]): string {
  return region
    .map(({ index, from, to }) =>
      from === to
        ? `arg${index}=${formatArgValue(from)}`
        : `arg${index}=${formatArgValue(from)}..${formatArgValue(to)}`,
    )
    .join(',');
}

/** What an entry is about: `socket`, `socket(arg0=16 | arg0=20..30)`, `<unknown nr 335,462>`, `<any syscall>`. */
function formatSubject(entry: DiffEntry): string {
  switch (entry.subject) {
    case 'unknown':
      return `<unknown nr ${entry.numbers.join(',')}>`;
    case 'bad-arch':
      return '<any syscall>';
    case 'syscall': {
      if (entry.args === undefined) return entry.syscall ?? '';
      const more = entry.omittedRegions === undefined ? '' : ` | ... ${entry.omittedRegions} more`;
      const examples = entry.examples === true ? 'e.g. ' : '';
      return `${entry.syscall ?? ''}(${examples}${entry.args.map(formatRegion).join(' | ')}${more})`;
    }
  }
}

/** One line per entry: `x86_64 socket(arg0=16): allow -> errno(EAFNOSUPPORT)`. */
export function formatDiffEntry(entry: DiffEntry): string {
  return `${entry.abi} ${formatSubject(entry)}: ${formatAction(entry.before, errnoName)} -> ${formatAction(entry.after, errnoName)}`;
}
