/**
 * Observed calls: trace entries folded across executables and ABIs into one record per (syscall,
 * learned argument values), which is the unit a learned rule allows. Also the narrowing of a trace to
 * one executable or container, which both `learn` and the log-mode rollout apply before anything else.
 */
import { ARCHES, syscallNumber, type Arch } from '../syscalls/arch.js';
import { learnedArgumentsOf } from '../syscalls/learned-args.js';
import type { Trace, TraceArg, TraceEntry } from './trace.js';

/** How often, how widely and when some calls were seen: shared by one call and by a whole syscall. */
export interface CallSpread {
  readonly count: number;
  /** Recordings that saw it: the most any of its parts reports (entries of one run never add up). */
  readonly runs: number;
  /** ABIs it was seen on, in ARCHES order. */
  readonly abis: readonly Arch[];
  readonly exes: readonly string[];
  readonly containers: readonly string[];
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** One syscall with one set of learned argument values, as every matching trace entry saw it. */
export interface ObservedCall extends CallSpread {
  readonly syscall: string;
  /** Learned argument values; empty when the syscall has none or the source did not record them. */
  readonly args: readonly TraceArg[];
}

/** Which entries to keep: only those of one executable and/or one container. */
export interface Narrowing {
  /** Executable path as the trace names it (`[comm]` for a task known by name only). */
  readonly exe?: string;
  /** Container id; a prefix of at least 12 characters (the short id `docker ps` prints) also matches. */
  readonly container?: string;
}

/** Short container ids are 12 hex digits; a shorter prefix could match another container. */
const MIN_CONTAINER_PREFIX = 12;

/** True when `id` is the container `wanted` names (full id, or an unambiguous-length prefix). */
export function containerMatches(id: string, wanted: string): boolean {
  return id === wanted || (wanted.length >= MIN_CONTAINER_PREFIX && id.startsWith(wanted));
}

/** The entries a narrowing keeps. */
export function narrowEntries(entries: readonly TraceEntry[], narrowing: Narrowing): TraceEntry[] {
  const { exe, container } = narrowing;
  return entries.filter(
    (entry) =>
      (exe === undefined || entry.exe === exe) &&
      (container === undefined || entry.containers.some((id) => containerMatches(id, container))),
  );
}

function callKey(syscall: string, args: readonly TraceArg[]): string {
  return JSON.stringify([syscall, args.map((arg) => [arg.index, arg.value])]);
}

/** By syscall name, then by argument values as numbers (AF_INET 0x2 before AF_NETLINK 0x10). */
function compareCalls(a: ObservedCall, b: ObservedCall): number {
  if (a.syscall !== b.syscall) return a.syscall < b.syscall ? -1 : 1;
  for (let i = 0; i < Math.max(a.args.length, b.args.length); i++) {
    const left = a.args[i];
    const right = b.args[i];
    if (left === undefined || right === undefined) return left === undefined ? -1 : 1;
    if (left.index !== right.index) return left.index - right.index;
    const difference = BigInt(left.value) - BigInt(right.value);
    if (difference !== 0n) return difference < 0n ? -1 : 1;
  }
  return 0;
}

/** One trace entry's spread ('' is an executable the source did not name: not listed). */
function entrySpread(entry: TraceEntry): CallSpread {
  return {
    count: entry.count,
    runs: entry.runs,
    abis: [entry.abi],
    exes: entry.exe === '' ? [] : [entry.exe],
    containers: entry.containers,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
  };
}

function union<T>(lists: readonly (readonly T[])[]): T[] {
  return [...new Set(lists.flat())];
}

/** The spread of several parts together: counts add up, runs do not (the most any part saw). */
function combinedSpread(parts: readonly CallSpread[]): CallSpread {
  const abis = new Set(parts.flatMap((part) => part.abis));
  return {
    count: parts.reduce((sum, part) => sum + part.count, 0),
    runs: parts.reduce((most, part) => Math.max(most, part.runs), 0),
    abis: ARCHES.filter((abi) => abis.has(abi)),
    exes: union(parts.map((part) => part.exes)).sort(),
    containers: union(parts.map((part) => part.containers)).sort(),
    firstSeen: parts.reduce((first, part) => Math.min(first, part.firstSeen), Number.POSITIVE_INFINITY),
    lastSeen: parts.reduce((last, part) => Math.max(last, part.lastSeen), 0),
  };
}

/** Folds entries into observed calls, sorted by syscall name and then argument values. */
export function observedCalls(entries: readonly TraceEntry[]): ObservedCall[] {
  const groups = new Map<string, { syscall: string; args: readonly TraceArg[]; parts: CallSpread[] }>();
  for (const entry of entries) {
    const key = callKey(entry.syscall, entry.args);
    let group = groups.get(key);
    if (group === undefined) {
      group = { syscall: entry.syscall, args: entry.args, parts: [] };
      groups.set(key, group);
    }
    group.parts.push(entrySpread(entry));
  }
  return [...groups.values()]
    .map(({ syscall, args, parts }) => ({ syscall, args, ...combinedSpread(parts) }))
    .sort(compareCalls);
}

/** The ABIs a trace's entries were seen on, in ARCHES order. */
export function abisOf(entries: readonly TraceEntry[]): Arch[] {
  const seen = new Set(entries.map((entry) => entry.abi));
  return ARCHES.filter((abi) => seen.has(abi));
}

/** `seen 1234× in 3/3 runs`, the confidence note every generated rule carries. */
export function seenText(count: number, runs: number, trace: Pick<Trace, 'runs'>): string {
  return `seen ${count}× in ${runs}/${trace.runs} run${trace.runs === 1 ? '' : 's'}`;
}

/** All observed calls of one syscall name, and whether a rule can narrow them by argument. */
export interface SyscallUsage extends CallSpread {
  readonly name: string;
  readonly calls: readonly ObservedCall[];
  /**
   * True when the syscall's arguments are learned and every call recorded them, so rules can allow
   * exactly the values seen. False when they are not learned, or some call came from a source that
   * did not see them: then only an unconditional rule is sure not to break the workload.
   */
  readonly narrowable: boolean;
  /** Learned arguments exist but were missing on some call. */
  readonly argumentsMissing: boolean;
}

function usageOfCalls(name: string, calls: readonly ObservedCall[]): SyscallUsage {
  const learned = learnedArgumentsOf(name).length > 0;
  const recorded = calls.every((call) => call.args.length > 0);
  return {
    name,
    ...combinedSpread(calls),
    calls,
    narrowable: learned && recorded,
    argumentsMissing: learned && !recorded,
  };
}

/** Observed calls grouped per syscall name, sorted by name. */
export function syscallUsages(calls: readonly ObservedCall[]): SyscallUsage[] {
  const byName = new Map<string, ObservedCall[]>();
  for (const call of calls) byName.set(call.syscall, [...(byName.get(call.syscall) ?? []), call]);
  return [...byName]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, group]) => usageOfCalls(name, group));
}

/**
 * True when a policy can name the entry's syscall: the ABI's table has that name for that number.
 * Numbers the table does not know (`nr:N`), and names a hand-edited trace made up, cannot be allowed by
 * name; unknownAction decides them.
 */
export function isNameable(entry: Pick<TraceEntry, 'abi' | 'syscall' | 'nr'>): boolean {
  return syscallNumber(entry.abi, entry.syscall) === entry.nr;
}

/** `nr:335 on x86_64`, for the list of what a learned policy could not name. */
export function unnameableText(entry: Pick<TraceEntry, 'abi' | 'syscall'>): string {
  return `${entry.syscall} on ${entry.abi}`;
}
