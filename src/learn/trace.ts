/**
 * Traces: what a workload was seen to call, aggregated from events and mergeable across runs, replicas
 * and days. An entry is one (executable, ABI, syscall, learned argument values); `runs` says how many of
 * the merged recordings saw it, which is how confident a learned rule built on it can be.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Action, ActionKind } from '../policy/action.js';
import { eventCount, eventSyscallLabel, type SyscallEvent } from '../sources/event.js';
import { parseArch, type Arch } from '../syscalls/arch.js';
import { learnedArgumentsOf } from '../syscalls/learned-args.js';

export const TRACE_FORMAT = 'sysfence-trace/1';

/** A learned argument value, masked as LEARNED_ARGUMENTS says. */
export interface TraceArg {
  readonly index: number;
  /** 0x-prefixed lower-case hex. */
  readonly value: string;
}

/** What the kernel did with the calls of an entry: `observed` when the source saw no filter decision. */
export type TraceDecision = ActionKind | 'observed';

export interface TraceEntry {
  /** Executable path; the task name in brackets (`[comm]`) when the source had no path; '' if neither. */
  readonly exe: string;
  readonly abi: Arch;
  /** Syscall name, or `nr:N` for a number the ABI's table does not know. */
  readonly syscall: string;
  readonly nr: number;
  /** Learned argument values; empty when the syscall's arguments are not learned or were not seen. */
  readonly args: readonly TraceArg[];
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** How many recordings (runs, replicas, days) saw this entry. */
  runs: number;
  decisions: Partial<Record<TraceDecision, number>>;
  /** Container ids seen making the call (bounded). */
  containers: string[];
  /** Calls per UTC day (YYYY-MM-DD), for use-over-time charts. */
  perDay: Record<string, number>;
}

export interface Trace {
  readonly format: typeof TRACE_FORMAT;
  /** How many recordings were merged into this trace. */
  runs: number;
  hosts: string[];
  sources: string[];
  /** Earliest and latest event time (ms since epoch); 0 when empty. */
  start: number;
  end: number;
  entries: TraceEntry[];
}

/** Containers kept per entry: enough to name who calls, bounded so hostile input cannot grow a trace. */
export const MAX_CONTAINERS_PER_ENTRY = 64;

/** An empty trace of one recording. */
export function emptyTrace(): Trace {
  return { format: TRACE_FORMAT, runs: 1, hosts: [], sources: [], start: 0, end: 0, entries: [] };
}

/** The executable an event is attributed to. */
export function eventExecutable(event: SyscallEvent): string {
  if (event.exe !== undefined && event.exe !== '') return event.exe;
  if (event.comm !== undefined && event.comm !== '') return `[${event.comm}]`;
  return '';
}

/** The learned argument values an event of ABI `arch` carries, masked; empty if it has no arguments. */
export function learnedValuesOf(
  syscall: string,
  args: readonly bigint[] | undefined,
  arch?: Arch,
): TraceArg[] {
  if (args === undefined) return [];
  const values: TraceArg[] = [];
  for (const learned of learnedArgumentsOf(syscall, arch)) {
    const raw = args[learned.index];
    if (raw === undefined) return [];
    const value = BigInt.asUintN(64, raw) & learned.mask;
    values.push({ index: learned.index, value: `0x${value.toString(16)}` });
  }
  return values;
}

function entryKey(exe: string, abi: Arch, syscall: string, args: readonly TraceArg[]): string {
  return JSON.stringify([exe, abi, syscall, args.map((arg) => [arg.index, arg.value])]);
}

function keyOf(entry: TraceEntry): string {
  return entryKey(entry.exe, entry.abi, entry.syscall, entry.args);
}

function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function decisionOf(action: Action | undefined): TraceDecision {
  return action === undefined ? 'observed' : action.kind;
}

function addUnique(list: string[], value: string | undefined, limit: number): void {
  if (value === undefined || value === '' || list.includes(value) || list.length >= limit) return;
  list.push(value);
}

function addCount<K extends string>(counts: Partial<Record<K, number>>, key: K, amount: number): void {
  counts[key] = (counts[key] ?? 0) + amount;
}

function newEntry(event: SyscallEvent, exe: string, syscall: string, args: TraceArg[]): TraceEntry {
  return {
    exe,
    abi: event.arch,
    syscall,
    nr: event.nr,
    args,
    count: 0,
    firstSeen: event.time,
    lastSeen: event.time,
    runs: 1,
    decisions: {},
    containers: [],
    perDay: {},
  };
}

/** Aggregates events into a trace of one recording. Pure; the caller reads the events. */
export class TraceBuilder {
  private readonly entries = new Map<string, TraceEntry>();
  private readonly trace: Trace = emptyTrace();

  /** Adds one event (which may stand for many calls). */
  add(event: SyscallEvent): void {
    const exe = eventExecutable(event);
    const syscall = eventSyscallLabel(event);
    const args = learnedValuesOf(syscall, event.args, event.arch);
    const key = entryKey(exe, event.arch, syscall, args);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = newEntry(event, exe, syscall, args);
      this.entries.set(key, entry);
    }
    const count = eventCount(event);
    entry.count += count;
    entry.firstSeen = Math.min(entry.firstSeen, event.time);
    entry.lastSeen = Math.max(entry.lastSeen, event.time);
    addCount(entry.decisions, decisionOf(event.action), count);
    addUnique(entry.containers, event.containerId, MAX_CONTAINERS_PER_ENTRY);
    addCount(entry.perDay, utcDay(event.time), count);
    this.noteSource(event);
  }

  private noteSource(event: SyscallEvent): void {
    addUnique(this.trace.hosts, event.host, Number.MAX_SAFE_INTEGER);
    addUnique(this.trace.sources, event.source, Number.MAX_SAFE_INTEGER);
    this.trace.start = this.trace.start === 0 ? event.time : Math.min(this.trace.start, event.time);
    this.trace.end = Math.max(this.trace.end, event.time);
  }

  /** The trace so far, entries in a stable order (executable, ABI, syscall, arguments). */
  build(): Trace {
    const entries = [...this.entries.values()].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    return { ...this.trace, hosts: [...this.trace.hosts], sources: [...this.trace.sources], entries };
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds a one-recording trace from events. */
export function traceFromEvents(events: Iterable<SyscallEvent>): Trace {
  const builder = new TraceBuilder();
  for (const event of events) builder.add(event);
  return builder.build();
}

function cloneEntry(entry: TraceEntry): TraceEntry {
  return {
    ...entry,
    decisions: { ...entry.decisions },
    containers: [...entry.containers],
    perDay: { ...entry.perDay },
  };
}

function mergeEntryInto(target: TraceEntry, source: TraceEntry): void {
  target.count += source.count;
  target.firstSeen = Math.min(target.firstSeen, source.firstSeen);
  target.lastSeen = Math.max(target.lastSeen, source.lastSeen);
  target.runs += source.runs;
  for (const [decision, count] of Object.entries(source.decisions) as [TraceDecision, number][]) {
    addCount(target.decisions, decision, count);
  }
  for (const container of source.containers)
    addUnique(target.containers, container, MAX_CONTAINERS_PER_ENTRY);
  for (const [day, count] of Object.entries(source.perDay)) addCount(target.perDay, day, count);
}

function mergedWindow(traces: readonly Trace[]): { start: number; end: number } {
  const nonEmpty = traces.filter((trace) => trace.entries.length > 0 || trace.end > 0);
  if (nonEmpty.length === 0) return { start: 0, end: 0 };
  return {
    start: Math.min(...nonEmpty.map((trace) => trace.start)),
    end: Math.max(...nonEmpty.map((trace) => trace.end)),
  };
}

/**
 * Merges recordings: counts add up, first/last seen widen, and `runs` counts the recordings that saw
 * each entry, so `confidence` = entry.runs / trace.runs.
 */
export function mergeTraces(traces: readonly Trace[]): Trace {
  const entries = new Map<string, TraceEntry>();
  const merged: Trace = { ...emptyTrace(), runs: 0, ...mergedWindow(traces) };
  for (const trace of traces) {
    merged.runs += trace.runs;
    for (const host of trace.hosts) addUnique(merged.hosts, host, Number.MAX_SAFE_INTEGER);
    for (const source of trace.sources) addUnique(merged.sources, source, Number.MAX_SAFE_INTEGER);
    for (const entry of trace.entries) {
      const existing = entries.get(keyOf(entry));
      if (existing === undefined) entries.set(keyOf(entry), cloneEntry(entry));
      else mergeEntryInto(existing, entry);
    }
  }
  merged.entries = [...entries.values()].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  return merged;
}

/** The share of merged recordings that saw an entry, 0..1. */
export function confidence(entry: TraceEntry, trace: Trace): number {
  return trace.runs === 0 ? 0 : Math.min(1, entry.runs / trace.runs);
}

// ---- files -----------------------------------------------------------------------------------------

/** Raised for a trace file that is not a sysfence trace; names the file and the place. */
export class TraceFormatError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'TraceFormatError';
  }
}

/** Writes a trace as indented JSON. */
export async function writeTrace(path: string, trace: Trace): Promise<void> {
  await writeFile(path, `${JSON.stringify(trace, null, 1)}\n`);
}

/** Reads and validates a trace file. */
export async function readTrace(path: string): Promise<Trace> {
  return parseTrace(await readFile(path, 'utf8'), path);
}

type Json = Readonly<Record<string, unknown>>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectNumber(value: unknown, file: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TraceFormatError(file, `${where} must be a non-negative number`);
  }
  return value;
}

function expectStrings(value: unknown, file: string, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TraceFormatError(file, `${where} must be a list of strings`);
  }
  return [...(value as string[])];
}

function expectCounts<K extends string>(
  value: unknown,
  file: string,
  where: string,
): Partial<Record<K, number>> {
  if (!isJson(value)) throw new TraceFormatError(file, `${where} must be an object of counts`);
  const counts: Partial<Record<K, number>> = {};
  for (const [key, count] of Object.entries(value))
    counts[key as K] = expectNumber(count, file, `${where}.${key}`);
  return counts;
}

function parseTraceArgs(value: unknown, file: string, where: string): TraceArg[] {
  if (!Array.isArray(value)) throw new TraceFormatError(file, `${where} must be a list`);
  return value.map((item: unknown, index) => {
    if (!isJson(item) || typeof item['value'] !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(item['value'])) {
      throw new TraceFormatError(file, `${where}[${index}] must be {index, value: "0x..."}`);
    }
    return { index: expectNumber(item['index'], file, `${where}[${index}].index`), value: item['value'] };
  });
}

function parseEntry(value: unknown, file: string, where: string): TraceEntry {
  if (!isJson(value)) throw new TraceFormatError(file, `${where} must be an object`);
  const abi = typeof value['abi'] === 'string' ? parseArch(value['abi']) : undefined;
  if (abi === undefined) throw new TraceFormatError(file, `${where}.abi must name an ABI`);
  if (typeof value['exe'] !== 'string' || typeof value['syscall'] !== 'string') {
    throw new TraceFormatError(file, `${where} needs string "exe" and "syscall"`);
  }
  return {
    exe: value['exe'],
    abi,
    syscall: value['syscall'],
    nr: expectNumber(value['nr'], file, `${where}.nr`),
    args: parseTraceArgs(value['args'] ?? [], file, `${where}.args`),
    count: expectNumber(value['count'], file, `${where}.count`),
    firstSeen: expectNumber(value['firstSeen'], file, `${where}.firstSeen`),
    lastSeen: expectNumber(value['lastSeen'], file, `${where}.lastSeen`),
    runs: expectNumber(value['runs'] ?? 1, file, `${where}.runs`),
    decisions: expectCounts<TraceDecision>(value['decisions'] ?? {}, file, `${where}.decisions`),
    containers: expectStrings(value['containers'] ?? [], file, `${where}.containers`),
    perDay: expectCounts<string>(value['perDay'] ?? {}, file, `${where}.perDay`) as Record<string, number>,
  };
}

/** Parses trace JSON; `file` names it in errors. */
export function parseTrace(text: string, file: string): Trace {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new TraceFormatError(file, `not JSON (${(error as Error).message})`);
  }
  if (!isJson(document) || document['format'] !== TRACE_FORMAT) {
    throw new TraceFormatError(file, `not a sysfence trace (expected "format": "${TRACE_FORMAT}")`);
  }
  const entries = document['entries'];
  if (!Array.isArray(entries)) throw new TraceFormatError(file, '"entries" must be a list');
  return {
    format: TRACE_FORMAT,
    runs: expectNumber(document['runs'] ?? 1, file, 'runs'),
    hosts: expectStrings(document['hosts'] ?? [], file, 'hosts'),
    sources: expectStrings(document['sources'] ?? [], file, 'sources'),
    start: expectNumber(document['start'] ?? 0, file, 'start'),
    end: expectNumber(document['end'] ?? 0, file, 'end'),
    entries: entries.map((entry: unknown, index) => parseEntry(entry, file, `entries[${index}]`)),
  };
}
