/**
 * The one event model every source produces and every consumer (learn, monitor, review) reads:
 * "process P on host H made syscall S (ABI A, arguments) and the kernel did D". Sources are adapters
 * that turn bytes into these records; nothing downstream parses a source's own format.
 */
import { actionToRet, retToAction, type Action } from '../policy/action.js';
import { parseArch, syscallName, type Arch } from '../syscalls/arch.js';

/** Where an event came from. `stdin` is a JSON-lines replay of events written by `eventToJson`. */
export type EventSourceKind = 'ebpf' | 'strace' | 'audit' | 'kmsg' | 'stdin';

export const EVENT_SOURCE_KINDS: readonly EventSourceKind[] = ['ebpf', 'strace', 'audit', 'kmsg', 'stdin'];

export interface SyscallEvent {
  readonly source: EventSourceKind;
  /** Host name or cloud instance id; '' when the source does not say. */
  readonly host: string;
  /** Milliseconds since the epoch (audit gives millisecond resolution). */
  readonly time: number;
  /** The audit serial, or the source's own sequence number, when there is one. */
  readonly serial?: number;
  readonly pid: number;
  readonly tid?: number;
  readonly ppid?: number;
  /** The kernel's task name: attacker-controlled, up to 15 bytes, may hold any byte. */
  readonly comm?: string;
  readonly exe?: string;
  readonly uid?: number;
  readonly containerId?: string;
  /** The ABI of the call (x32 is told apart from x86_64 by the number's x32 bit). */
  readonly arch: Arch;
  /** The number as the ABI's table has it (x32: with the x32 bit). */
  readonly nr: number;
  /** The name for `nr` on `arch`, when the table knows it. */
  readonly syscall?: string;
  /** Raw argument registers, when the source saw them (audit gives a0..a3, eBPF all six). */
  readonly args?: readonly bigint[];
  /** The call's return value (negative errno on failure), when known. */
  readonly ret?: bigint;
  /** The seccomp filter's decision, when the source saw it (type=SECCOMP records carry it). */
  readonly action?: Action;
  /** How many identical calls this record stands for: eBPF counts in kernel maps; default 1. */
  readonly count?: number;
}

/** A line or record a source could not read: counted and reported, never fatal to the reader. */
export interface SourceProblem {
  /** "file:line" or another place the operator can find. */
  readonly where: string;
  readonly reason: string;
}

/** What a source read: the totals that prove nothing was silently lost. */
export interface SourceStats {
  /** Lines (or records) read. */
  records: number;
  /** Events produced. */
  events: number;
  /** Lines or records that could not be read. */
  malformed: number;
  /** The first problems, for the report (bounded; `malformed` has the full count). */
  readonly problems: SourceProblem[];
  /** Events the kernel or the transport says it dropped (audit's lost counter, serial gaps, eBPF). */
  lost: number;
}

/** How many problems a SourceStats keeps for reporting; the count goes on. */
export const MAX_REPORTED_PROBLEMS = 20;

/** Fresh, empty statistics. */
export function emptySourceStats(): SourceStats {
  return { records: 0, events: 0, malformed: 0, problems: [], lost: 0 };
}

/** Counts a malformed record and keeps its description while there is room. */
export function recordProblem(stats: SourceStats, problem: SourceProblem): void {
  stats.malformed += 1;
  if (stats.problems.length < MAX_REPORTED_PROBLEMS) stats.problems.push(problem);
}

/** The syscall's name for display: the table's name, or `nr:N` for a number the table does not know. */
export function eventSyscallLabel(event: SyscallEvent): string {
  return event.syscall ?? `nr:${event.nr}`;
}

/** How many calls the event stands for. */
export function eventCount(event: SyscallEvent): number {
  return event.count ?? 1;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Process facts an enricher found elsewhere (/proc): used only where the event itself has none. */
export type ProcessFill = Partial<Pick<SyscallEvent, 'ppid' | 'comm' | 'exe' | 'containerId'>>;

/**
 * An event from its fields (and `fill` where it lacks process facts), leaving out optional ones that
 * are undefined (so built events compare and serialise like hand-written ones) and adding the rest in
 * one fixed order, one named store each: events built here share one object shape, which keeps every
 * consumer's property reads on V8's fast path.
 */
export function buildEvent(fields: SyscallEvent, fill: ProcessFill = {}): SyscallEvent {
  const event: Mutable<SyscallEvent> = {
    source: fields.source,
    host: fields.host,
    time: fields.time,
    pid: fields.pid,
    arch: fields.arch,
    nr: fields.nr,
  };
  if (fields.serial !== undefined) event.serial = fields.serial;
  if (fields.tid !== undefined) event.tid = fields.tid;
  const ppid = fields.ppid ?? fill.ppid;
  if (ppid !== undefined) event.ppid = ppid;
  const comm = fields.comm ?? fill.comm;
  if (comm !== undefined) event.comm = comm;
  const exe = fields.exe ?? fill.exe;
  if (exe !== undefined) event.exe = exe;
  if (fields.uid !== undefined) event.uid = fields.uid;
  const containerId = fields.containerId ?? fill.containerId;
  if (containerId !== undefined) event.containerId = containerId;
  if (fields.syscall !== undefined) event.syscall = fields.syscall;
  if (fields.args !== undefined) event.args = fields.args;
  if (fields.ret !== undefined) event.ret = fields.ret;
  if (fields.action !== undefined) event.action = fields.action;
  if (fields.count !== undefined) event.count = fields.count;
  return event;
}

/** Fills in `syscall` from the ABI's table, so every source names calls the same way. */
export function withSyscallName<T extends { arch: Arch; nr: number; syscall?: string }>(event: T): T {
  if (event.syscall !== undefined) return event;
  const name = syscallName(event.arch, event.nr);
  return name === undefined ? event : { ...event, syscall: name };
}

// ---- JSON lines: the `stdin` source and the monitor's replays ---------------------------------------

/** The JSON shape of an event: bigints as 0x-hex strings, the action as a SECCOMP_RET value. */
interface EventJson {
  source: EventSourceKind;
  host: string;
  time: number;
  serial?: number;
  pid: number;
  tid?: number;
  ppid?: number;
  comm?: string;
  exe?: string;
  uid?: number;
  containerId?: string;
  arch: Arch;
  nr: number;
  syscall?: string;
  args?: string[];
  ret?: string;
  /** SECCOMP_RET_* value, as audit's `code=` field writes it. */
  action?: string;
  count?: number;
}

function hex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** One JSON line for an event (no newline); `parseEventJson` reads it back exactly. */
export function eventToJson(event: SyscallEvent): string {
  const json: EventJson = {
    source: event.source,
    host: event.host,
    time: event.time,
    pid: event.pid,
    arch: event.arch,
    nr: event.nr,
  };
  if (event.serial !== undefined) json.serial = event.serial;
  if (event.tid !== undefined) json.tid = event.tid;
  if (event.ppid !== undefined) json.ppid = event.ppid;
  if (event.comm !== undefined) json.comm = event.comm;
  if (event.exe !== undefined) json.exe = event.exe;
  if (event.uid !== undefined) json.uid = event.uid;
  if (event.containerId !== undefined) json.containerId = event.containerId;
  if (event.syscall !== undefined) json.syscall = event.syscall;
  if (event.args !== undefined) json.args = event.args.map(hex);
  if (event.ret !== undefined) json.ret = hex(event.ret);
  if (event.action !== undefined) json.action = hex(BigInt(actionToRet(event.action)));
  if (event.count !== undefined) json.count = event.count;
  return JSON.stringify(json);
}

/** Raised for a JSON event line that is not an event; `where` names the line. */
export class EventFormatError extends Error {
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'EventFormatError';
  }
}

type JsonObject = Readonly<Record<string, unknown>>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one field with a type check; the error names the field. */
class FieldReader {
  constructor(
    private readonly object: JsonObject,
    private readonly where: string,
  ) {}

  private fail(field: string, expected: string): never {
    throw new EventFormatError(this.where, `field "${field}" must be ${expected}`);
  }

  integer(field: string): number {
    const value = this.object[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.fail(field, 'a non-negative integer');
    }
    return value;
  }

  optionalInteger(field: string): number | undefined {
    return this.object[field] === undefined ? undefined : this.integer(field);
  }

  finiteNumber(field: string): number {
    const value = this.object[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, 'a finite number');
    return value;
  }

  string(field: string): string {
    const value = this.object[field];
    if (typeof value !== 'string') this.fail(field, 'a string');
    return value;
  }

  optionalString(field: string): string | undefined {
    return this.object[field] === undefined ? undefined : this.string(field);
  }

  bigint(field: string, text: unknown): bigint {
    if (typeof text !== 'string' || !/^-?0x[0-9a-fA-F]{1,16}$/.test(text)) {
      this.fail(field, 'a 0x-prefixed hex string of at most 64 bits');
    }
    const negative = text.startsWith('-');
    const magnitude = BigInt(negative ? text.slice(1) : text);
    return negative ? -magnitude : magnitude;
  }

  optionalBigint(field: string): bigint | undefined {
    const value = this.object[field];
    return value === undefined ? undefined : this.bigint(field, value);
  }

  optionalBigintList(field: string, maxLength: number): bigint[] | undefined {
    const value = this.object[field];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length > maxLength)
      this.fail(field, `a list of at most ${maxLength} values`);
    return value.map((item: unknown) => this.bigint(field, item));
  }
}

function parseSourceKind(reader: FieldReader, where: string): EventSourceKind {
  const text = reader.string('source');
  const kind = EVENT_SOURCE_KINDS.find((candidate) => candidate === text);
  if (kind === undefined) throw new EventFormatError(where, `unknown source "${text}"`);
  return kind;
}

function parseEventArch(reader: FieldReader, where: string): Arch {
  const text = reader.string('arch');
  const arch = parseArch(text);
  if (arch === undefined) throw new EventFormatError(where, `unknown arch "${text}"`);
  return arch;
}

/** Parses one JSON line written by `eventToJson` (or by hand, for replays); throws EventFormatError. */
export function parseEventJson(line: string, where: string): SyscallEvent {
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch (error) {
    throw new EventFormatError(where, `not JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(document)) throw new EventFormatError(where, 'an event must be a JSON object');
  const read = new FieldReader(document, where);
  const action = read.optionalBigint('action');
  const count = read.optionalInteger('count');
  if (count === 0) throw new EventFormatError(where, 'field "count" must be at least 1');
  const arch = parseEventArch(read, where);
  const nr = read.integer('nr');
  return buildEvent({
    source: parseSourceKind(read, where),
    host: read.optionalString('host') ?? '',
    time: read.finiteNumber('time'),
    serial: read.optionalInteger('serial'),
    pid: read.integer('pid'),
    tid: read.optionalInteger('tid'),
    ppid: read.optionalInteger('ppid'),
    comm: read.optionalString('comm'),
    exe: read.optionalString('exe'),
    uid: read.optionalInteger('uid'),
    containerId: read.optionalString('containerId'),
    arch,
    nr,
    syscall: read.optionalString('syscall') ?? syscallName(arch, nr),
    args: read.optionalBigintList('args', 6),
    ret: read.optionalBigint('ret'),
    action: action === undefined ? undefined : retToAction(Number(action & 0xffffffffn)),
    count,
  });
}
