/**
 * Reading `bpftrace -f json` output strictly: every line must be a JSON record bpftrace writes; maps
 * are checked key by key (arity, numbers), and anything else is a counted problem, never a guess.
 * Then the recording program's maps (ebpf-program.ts) become SyscallEvents with counts.
 */
import { resolve } from 'node:path';
import { recordProblem, withSyscallName, type SourceStats, type SyscallEvent } from './event.js';
import { syscallNumber, X32_SYSCALL_BIT, type Arch } from '../syscalls/arch.js';
import { learnedArgumentsOf } from '../syscalls/learned-args.js';
import {
  ARGUMENT_MAP_PREFIX,
  CALLS_MAP,
  COMPAT_KEY_OFFSET,
  IMAGE_COMM_MAP,
  IMAGE_PATH_MAP,
  IMAGE_PID_MAP,
} from './ebpf-program.js';

/** One line of bpftrace's JSON output, as far as sysfence uses it. */
export type BpftraceRecord =
  | { readonly type: 'map'; readonly name: string; readonly entries: ReadonlyMap<string, unknown> }
  | { readonly type: 'printf'; readonly text: string }
  | { readonly type: 'lost'; readonly count: number }
  | { readonly type: 'other' };

type JsonObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** bpftrace's own text for dropped perf events ("Lost 12 events"), also seen outside JSON mode. */
const LOST_LINE = /^Lost (\d+) events$/;

/** Parses one output line; a line that is not a bpftrace record is a problem and gives undefined. */
export function parseBpftraceLine(
  line: string,
  where: string,
  stats: SourceStats,
): BpftraceRecord | undefined {
  if (line.trim() === '') return { type: 'other' };
  const lost = LOST_LINE.exec(line.trim());
  if (lost !== null) return { type: 'lost', count: Number(lost[1]) };
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch {
    recordProblem(stats, { where, reason: `not a bpftrace JSON record: ${line.slice(0, 80)}` });
    return undefined;
  }
  if (!isObject(document) || typeof document['type'] !== 'string') {
    recordProblem(stats, { where, reason: 'a bpftrace record must be an object with a "type"' });
    return undefined;
  }
  return recordOf(document['type'], document['data'], where, stats);
}

function recordOf(
  type: string,
  data: unknown,
  where: string,
  stats: SourceStats,
): BpftraceRecord | undefined {
  if (type === 'printf') {
    if (typeof data === 'string') return { type: 'printf', text: data };
  } else if (type === 'lost_events') {
    if (isObject(data) && Number.isSafeInteger(data['events']))
      return { type: 'lost', count: data['events'] as number };
  } else if (type === 'map') {
    const entries = isObject(data) ? Object.entries(data) : [];
    const [first] = entries;
    if (entries.length === 1 && first !== undefined && isObject(first[1])) {
      return { type: 'map', name: first[0], entries: new Map(Object.entries(first[1])) };
    }
  } else {
    return { type: 'other' }; // attached_probes, time, stats ...: nothing to read
  }
  recordProblem(stats, { where, reason: `malformed bpftrace "${type}" record` });
  return undefined;
}

/** The maps of one bpftrace run, by name. */
export type BpftraceMaps = Map<string, ReadonlyMap<string, unknown>>;

/** Where the recording's events come from and what labels them. */
export interface EbpfEventContext {
  readonly arch: Arch;
  readonly host: string;
  readonly time: number;
  /** Executables of processes running at the start (their pid is their image id) or read at the end (image 0). */
  readonly exeOfPid: ReadonlyMap<number, string>;
  readonly containerId?: string;
  /**
   * The recorded command's stub pid and working directory: the path of its first exec (COMMAND as given,
   * maybe relative) is made absolute against that directory, the only process whose cwd is known.
   */
  readonly launched?: { readonly pid: number; readonly cwd: string };
}

/** A map key split into unsigned integers, or undefined when it is not `arity` of them. */
function keyNumbers(key: string, arity: number): bigint[] | undefined {
  const parts = key.split(',');
  if (parts.length !== arity || !parts.every((part) => /^\d{1,20}$/.test(part))) return undefined;
  return parts.map((part) => BigInt(part));
}

function countValue(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** What an image (one exec) was: pid, task name, path as exec was given it. */
interface Image {
  readonly comm?: string;
  readonly path?: string;
}

function readImages(maps: BpftraceMaps, launched: EbpfEventContext['launched']): Map<string, Image> {
  const images = new Map<string, Image>();
  const paths = maps.get(IMAGE_PATH_MAP) ?? new Map<string, unknown>();
  const comms = maps.get(IMAGE_COMM_MAP) ?? new Map<string, unknown>();
  const launchImage = launched === undefined ? undefined : firstImageOf(maps, launched.pid);
  for (const key of maps.get(IMAGE_PID_MAP)?.keys() ?? []) {
    const given = paths.get(key);
    const path =
      typeof given === 'string' && key === launchImage && launched !== undefined
        ? resolve(launched.cwd, given)
        : given;
    const comm = comms.get(key);
    images.set(key, {
      ...(typeof path === 'string' && path !== '' ? { path } : {}),
      ...(typeof comm === 'string' && comm !== '' ? { comm } : {}),
    });
  }
  return images;
}

/** The image of a pid's first exec (image ids are exec timestamps). */
function firstImageOf(maps: BpftraceMaps, pid: number): string | undefined {
  const images = [...(maps.get(IMAGE_PID_MAP) ?? [])]
    .filter(([key, value]) => value === pid && /^\d+$/.test(key))
    .map(([key]) => BigInt(key));
  if (images.length === 0) return undefined;
  return images.reduce((first, image) => (image < first ? image : first)).toString();
}

/** The ABI and table number of a counted id (see COMPAT_KEY_OFFSET). */
function abiOfId(id: bigint, arch: Arch): { arch: Arch; nr: number } {
  if (arch === 'x86_64' && id >= BigInt(COMPAT_KEY_OFFSET))
    return { arch: 'i386', nr: Number(id - BigInt(COMPAT_KEY_OFFSET)) };
  const nr = Number(id);
  if (arch === 'x86_64' && (nr & X32_SYSCALL_BIT) !== 0) return { arch: 'x32', nr };
  return { arch, nr };
}

interface Counted {
  readonly pid: number;
  readonly image: string;
  readonly arch: Arch;
  readonly nr: number;
  readonly args?: bigint[];
  readonly count: number;
}

function readCalls(maps: BpftraceMaps, arch: Arch, stats: SourceStats): Counted[] {
  const calls: Counted[] = [];
  for (const [key, value] of maps.get(CALLS_MAP) ?? []) {
    const numbers = keyNumbers(key, 3);
    const count = countValue(value);
    if (numbers === undefined || count === undefined) {
      recordProblem(stats, { where: `${CALLS_MAP}[${key}]`, reason: 'expected [pid, image, id] = count' });
      continue;
    }
    const [pid, image, id] = numbers as [bigint, bigint, bigint];
    calls.push({ pid: Number(pid), image: image.toString(), ...abiOfId(id, arch), count });
  }
  return calls;
}

/** Argument counts: the native calls of learned syscalls, counted here instead of in @calls. */
function readArgumentCounts(maps: BpftraceMaps, arch: Arch, stats: SourceStats): Counted[] {
  const counted: Counted[] = [];
  for (const [name, entries] of maps) {
    if (!name.startsWith(ARGUMENT_MAP_PREFIX)) continue;
    const syscall = name.slice(ARGUMENT_MAP_PREFIX.length);
    const learned = learnedArgumentsOf(syscall, arch);
    const nr = syscallNumber(arch, syscall);
    if (learned.length === 0 || nr === undefined) {
      recordProblem(stats, { where: name, reason: `not a learned syscall of ${arch}` });
      continue;
    }
    for (const [key, value] of entries) {
      const numbers = keyNumbers(key, 2 + learned.length);
      const count = countValue(value);
      if (numbers === undefined || count === undefined) {
        recordProblem(stats, {
          where: `${name}[${key}]`,
          reason: `expected [pid, image, ${learned.length} value(s)] = count`,
        });
        continue;
      }
      const [pid, image, ...values] = numbers as [bigint, bigint, ...bigint[]];
      // Only the learned registers are known; the list ends at the last of them (lower ones unknown, 0).
      const args = new Array<bigint>(Math.max(...learned.map((argument) => argument.index)) + 1).fill(0n);
      learned.forEach((argument, index) => (args[argument.index] = values[index] ?? 0n));
      counted.push({ pid: Number(pid), image: image.toString(), arch, nr, args, count });
    }
  }
  return counted;
}

/** Turns the recording program's maps into events: one per (pid, image, syscall, learned values). */
export function eventsFromMaps(
  maps: BpftraceMaps,
  context: EbpfEventContext,
  stats: SourceStats,
): SyscallEvent[] {
  const images = readImages(maps, context.launched);
  const all = [...readArgumentCounts(maps, context.arch, stats), ...readCalls(maps, context.arch, stats)];
  const events = all.map((counted) => toEvent(counted, images.get(counted.image), context));
  stats.events += events.length;
  return events;
}

function toEvent(counted: Counted, image: Image | undefined, context: EbpfEventContext): SyscallEvent {
  const exe =
    image !== undefined
      ? image.path
      : context.exeOfPid.get(counted.image === '0' ? counted.pid : Number(counted.image));
  return withSyscallName({
    source: 'ebpf',
    host: context.host,
    time: context.time,
    pid: counted.pid,
    arch: counted.arch,
    nr: counted.nr,
    count: counted.count,
    ...(exe !== undefined ? { exe } : {}),
    ...(image?.comm !== undefined ? { comm: image.comm } : {}),
    ...(counted.args !== undefined ? { args: counted.args } : {}),
    ...(context.containerId !== undefined ? { containerId: context.containerId } : {}),
  });
}
