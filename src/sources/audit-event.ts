/**
 * The fields of a type=SYSCALL or type=SECCOMP record → a SyscallEvent. Field layouts follow the kernel:
 * audit_seccomp() (kernel/auditsc.c) writes `... pid= comm= exe= sig= arch= syscall= compat= ip= code=`
 * with `code=` last; audit_log_exit() writes `arch= syscall= success= exit= a0..a3 items= ppid= pid= ...
 * comm= exe= [subj=] key=` with `key=` last. A record whose last field is missing was cut short and is
 * malformed: its fields cannot be trusted to be whole.
 */
import { retToAction, SECCOMP_RET_DATA, type Action } from '../policy/action.js';
import { archForAudit, type Arch } from '../syscalls/arch.js';
import {
  bigDecimalAt,
  decimalAt,
  detachedCopy,
  hex32At,
  hex64At,
  signedDecimalAt,
  untrustedStringAt,
  type UntrustedString,
} from './audit-fields.js';
import type { AuditRecordLine } from './audit-record.js';
import { withSyscallName, type SyscallEvent } from './event.js';

/** The keys this parser reads; every other field is skipped. */
const FIELD_KEYS = [
  'arch',
  'syscall',
  'pid',
  'ppid',
  'uid',
  'comm',
  'exe',
  'a0',
  'a1',
  'a2',
  'a3',
  'exit',
  'code',
  'sig',
  'key',
  'lost',
  'audit_lost',
] as const;
type FieldKey = (typeof FIELD_KEYS)[number];

const FIELD_INDEX = Object.fromEntries(FIELD_KEYS.map((key, index) => [key, index])) as Record<
  FieldKey,
  number
>;
const ARG_KEYS = ['a0', 'a1', 'a2', 'a3'] as const;

/** ` key=`: a field's key is searched with the space before it, so `pid=` never matches `ppid=`. */
const NEEDLES = Object.fromEntries(FIELD_KEYS.map((key) => [key, ` ${key}=`])) as Record<FieldKey, string>;

/** The fields of each record type, in the order the kernel writes them (the search follows it). */
export const SECCOMP_FIELDS: readonly FieldKey[] = [
  'uid',
  'pid',
  'comm',
  'exe',
  'sig',
  'arch',
  'syscall',
  'code',
];
export const SYSCALL_FIELDS: readonly FieldKey[] = [
  'arch',
  'syscall',
  'exit',
  'a0',
  'a1',
  'a2',
  'a3',
  'ppid',
  'pid',
  'uid',
  'comm',
  'exe',
  'key',
];
export const LOSS_FIELDS: readonly FieldKey[] = ['audit_lost', 'lost'];

/** Distinct names kept decoded; past this the cache starts over (bounded memory on hostile input). */
const DECODED_CACHE_LIMIT = 4096;

/**
 * Where each wanted field's value lies in the current line. One instance is reused for every record:
 * finding fields allocates nothing.
 *
 * Fields are found by searching for ` key=` rather than by splitting on spaces: in SYSCALL and SECCOMP
 * records the kernel writes no value with a space in it (untrusted strings go hex when they hold one),
 * except an LSM label such as AppArmor's `subj=/usr/bin/x (enforce)`, which splitting would misread.
 * Searching in the kernel's order makes it one pass over the line; a field out of order is still found.
 */
export class RecordFields {
  private line = '';
  private readonly decoded = new Map<string, UntrustedString>();
  private readonly starts = new Int32Array(FIELD_KEYS.length).fill(-1);
  private readonly ends = new Int32Array(FIELD_KEYS.length);

  /** Finds `keys` in [start, end) of the line (start at the space before the first field). */
  find(line: string, start: number, end: number, keys: readonly FieldKey[]): void {
    this.line = line;
    this.starts.fill(-1);
    let cursor = start;
    for (const key of keys) {
      const needle = NEEDLES[key];
      let at = line.indexOf(needle, cursor);
      if (at < 0 || at + needle.length > end) at = line.indexOf(needle, start);
      if (at < 0 || at + needle.length > end) continue;
      const valueStart = at + needle.length;
      const space = line.indexOf(' ', valueStart);
      const valueEnd = space < 0 || space > end ? end : space;
      const index = FIELD_INDEX[key];
      this.starts[index] = valueStart;
      this.ends[index] = valueEnd;
      cursor = valueEnd;
    }
  }

  has(key: FieldKey): boolean {
    return this.starts[FIELD_INDEX[key]]! >= 0;
  }

  private range(key: FieldKey): [start: number, end: number] | undefined {
    const index = FIELD_INDEX[key];
    const start = this.starts[index]!;
    return start < 0 ? undefined : [start, this.ends[index]!];
  }

  decimal(key: FieldKey): number | undefined {
    const range = this.range(key);
    return range && decimalAt(this.line, range[0], range[1]);
  }

  signedDecimal(key: FieldKey): number | undefined {
    const range = this.range(key);
    return range && signedDecimalAt(this.line, range[0], range[1]);
  }

  bigDecimal(key: FieldKey): bigint | undefined {
    const range = this.range(key);
    return range && bigDecimalAt(this.line, range[0], range[1]);
  }

  /** A bare hex field (`arch=c000003e`) of at most 32 bits. */
  hex32(key: FieldKey): number | undefined {
    const range = this.range(key);
    return range && hex32At(this.line, range[0], range[1]);
  }

  /** A `0x`-prefixed hex field (`code=0x7ffc0000`) of at most 32 bits. */
  prefixedHex32(key: FieldKey): number | undefined {
    const range = this.range(key);
    if (range === undefined || !this.line.startsWith('0x', range[0])) return undefined;
    return hex32At(this.line, range[0] + 2, range[1]);
  }

  hex64(key: FieldKey): bigint | undefined {
    const range = this.range(key);
    return range && hex64At(this.line, range[0], range[1]);
  }

  /**
   * An untrusted string field, decoded once per distinct raw text: programs repeat their names on every
   * record. Cached strings are copied out of the line, so an event never keeps a whole read chunk alive.
   */
  untrusted(key: FieldKey): UntrustedString | undefined {
    const range = this.range(key);
    if (range === undefined) return undefined;
    const raw = this.line.slice(range[0], range[1]);
    const cached = this.decoded.get(raw);
    if (cached !== undefined) return cached;
    const decoded = untrustedStringAt(detachedCopy(raw), 0, raw.length);
    if (this.decoded.size >= DECODED_CACHE_LIMIT) this.decoded.clear();
    this.decoded.set(detachedCopy(raw), decoded);
    return decoded;
  }
}

/** What building an event from a record gave. */
export type RecordEvent =
  { readonly ok: true; readonly event: SyscallEvent } | { readonly ok: false; readonly reason: string };

function fail(reason: string): RecordEvent {
  return { ok: false, reason };
}

/**
 * `code=` as an action, or undefined when it cannot be what the kernel logged. The kernel logs the action
 * alone (SECCOMP_RET_ACTION_FULL, no data bits; an unknown action as is, treated as kill_process) and a
 * signal exactly when the action kills (kernel/seccomp.c: SIGSYS for a filter's kill, SIGKILL in strict
 * mode; sig=0 otherwise). Data bits, or a kill that disagrees with `sig=`, mean the number was cut short
 * (0x7ffc0000 → 0x7ffc0, 0x7fc00000 → 0x7fc0000) or forged: rejected, not guessed at.
 */
function loggedAction(code: number, sig: number | undefined): Action | undefined {
  if ((code & SECCOMP_RET_DATA) !== 0) return undefined;
  const action = retToAction(code);
  const kills = action.kind === 'kill_process' || action.kind === 'kill_thread';
  if (sig !== undefined && kills !== (sig !== 0)) return undefined;
  return action;
}

/** An event under construction: optional fields are set only when known (no keys holding undefined). */
type EventDraft = { -readonly [K in keyof SyscallEvent]: SyscallEvent[K] };

/** Syscall names per ABI, looked up once per number through withSyscallName, the common naming rule. */
const NAME_CACHE = new Map<Arch, Map<number, string | undefined>>();

function syscallLabel(arch: Arch, nr: number): string | undefined {
  let names = NAME_CACHE.get(arch);
  if (names === undefined) NAME_CACHE.set(arch, (names = new Map()));
  if (names.has(nr)) return names.get(nr);
  const named: { arch: Arch; nr: number; syscall?: string } = withSyscallName({ arch, nr });
  const name = named.syscall;
  names.set(nr, name);
  return name;
}

/** arch, syscall, pid, uid, comm, exe into a new event; a string names the first bad field. */
function readCall(fields: RecordFields, header: AuditRecordLine, host: string): EventDraft | string {
  const auditArch = fields.hex32('arch');
  if (auditArch === undefined) return 'missing or bad arch=';
  const signedNr = fields.signedDecimal('syscall');
  if (signedNr === undefined) return 'missing or bad syscall=';
  // The kernel prints the register as a signed long: syscall(-1) appears as syscall=-1.
  const nr = signedNr >>> 0;
  const arch = archForAudit(auditArch, nr);
  if (arch === undefined) return `unknown arch=${auditArch.toString(16)}`;
  const pid = fields.decimal('pid');
  if (pid === undefined) return 'missing or bad pid=';
  const uid = fields.decimal('uid');
  if (fields.has('uid') && uid === undefined) return 'bad uid=';
  const comm = fields.untrusted('comm');
  if (comm?.kind === 'invalid') return 'comm= is neither quoted nor hex';
  const exe = fields.untrusted('exe');
  if (exe?.kind === 'invalid') return 'exe= is neither quoted nor hex';
  const event: EventDraft = {
    source: header.form,
    host,
    time: header.time,
    serial: header.serial,
    pid,
    arch,
    nr,
  };
  const name = syscallLabel(arch, nr);
  if (name !== undefined) event.syscall = name;
  if (uid !== undefined) event.uid = uid;
  if (comm?.kind === 'value') event.comm = comm.text;
  if (exe?.kind === 'value') event.exe = exe.text;
  return event;
}

/** A type=SECCOMP record (already scanned into `fields`) as an event with the filter's action. */
export function seccompEvent(fields: RecordFields, header: AuditRecordLine, host: string): RecordEvent {
  if (!fields.has('code')) return fail('SECCOMP record without code= (cut short?)');
  const code = fields.prefixedHex32('code');
  const action = code === undefined ? undefined : loggedAction(code, fields.decimal('sig'));
  if (action === undefined) return fail('SECCOMP code= is not an action the kernel logs (cut short?)');
  const event = readCall(fields, header, host);
  if (typeof event === 'string') return fail(event);
  event.action = action;
  return { ok: true, event };
}

/** A type=SYSCALL record as an event: arguments a0..a3, the return value; the filter's decision unknown. */
export function syscallRecordEvent(fields: RecordFields, header: AuditRecordLine, host: string): RecordEvent {
  if (!fields.has('key')) return fail('SYSCALL record without key= (cut short?)');
  const args: bigint[] = [];
  for (const key of ARG_KEYS) {
    const value = fields.hex64(key);
    if (value === undefined) return fail(`missing or bad ${key}=`);
    args.push(value);
  }
  const ret = fields.bigDecimal('exit');
  if (fields.has('exit') && ret === undefined) return fail('bad exit=');
  const ppid = fields.decimal('ppid');
  if (fields.has('ppid') && ppid === undefined) return fail('bad ppid=');
  const event = readCall(fields, header, host);
  if (typeof event === 'string') return fail(event);
  if (ppid !== undefined) event.ppid = ppid;
  event.args = args;
  if (ret !== undefined) event.ret = ret;
  return { ok: true, event };
}

/** The cumulative loss counter a CONFIG_CHANGE or DAEMON_* record carries (`lost=` / `audit_lost=`). */
export function recordLossCounter(fields: RecordFields): number | undefined {
  return fields.decimal('audit_lost') ?? fields.decimal('lost');
}
