/**
 * One line of audit text → what it is: a record (with its type, `audit(SECONDS.MILLIS:SERIAL)` stamp and
 * field range), one of the kernel's loss signals, a line to ignore, or a malformed line. Reads both the
 * auditd log form (`[node=H ]type=SECCOMP msg=audit(...): ...`, raw or ENRICHED) and the kernel's
 * printk form (`audit: type=1326 audit(...): ...`) as dmesg, /dev/kmsg and syslog carry it.
 */
import { decimalAt, detachedCopy } from './audit-fields.js';

/** The record types the parser acts on; every other type is `other`. */
export type AuditRecordKind = 'syscall' | 'seccomp' | 'eoe' | 'loss-record' | 'other';

/** auditd's log file, or the kernel's printk lines (dmesg, /dev/kmsg, syslog, journal). */
export type AuditLineForm = 'audit' | 'kmsg';

export interface AuditRecordLine {
  readonly kind: 'record';
  readonly form: AuditLineForm;
  readonly record: AuditRecordKind;
  /** Milliseconds since the epoch, from the stamp. */
  readonly time: number;
  readonly serial: number;
  /** The `node=` prefix auditd writes when name_format is set. */
  readonly node: string | undefined;
  /** The record's own fields: from after the stamp to the ENRICHED separator (or the end). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
}

/** The kernel saying it dropped records (see audit-loss.ts for how they are counted). */
export interface AuditLossLine {
  readonly kind: 'loss';
  /** The cumulative `audit_lost=` counter, when the line carries it. */
  readonly counter?: number;
  /** Drops the line reports by itself ("backlog limit exceeded": 1; "N callbacks suppressed": N). */
  readonly drops?: number;
}

export type AuditLine =
  | AuditRecordLine
  | AuditLossLine
  /** Empty, a kernel/syslog line that is not audit's, or an audit message that is not a record. */
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly reason: string };

const IGNORED: AuditLine = { kind: 'ignored' };

/** The separator auditd's ENRICHED format puts between the raw record and its interpreted fields. */
const ENRICHED_SEPARATOR = '\x1d';
const KMSG_MARKER = 'audit: ';
const TYPE_PREFIX = 'type=';
const NODE_PREFIX = 'node=';

/** Type names (auditd), numbers (printk) and auditd's name for types it does not know, by kind. */
const RECORD_KINDS: ReadonlyMap<string, AuditRecordKind> = new Map(
  (
    [
      ['SYSCALL', 1300, 'syscall'],
      ['SECCOMP', 1326, 'seccomp'],
      ['EOE', 1320, 'eoe'],
      ['CONFIG_CHANGE', 1305, 'loss-record'],
    ] as const
  ).flatMap(([name, number, kind]) => [
    [name, kind],
    [String(number), kind],
    [`UNKNOWN[${number}]`, kind],
  ]),
);

/** auditd's own records (DAEMON_START=1200 ... DAEMON_ERR=1209) can carry loss counts too. */
const DAEMON_TYPE_PREFIX = 'DAEMON_';
const DAEMON_TYPE_FIRST = 1200;
const DAEMON_TYPE_LAST = 1209;

/** The commonest types by the length of their name, compared in place before any substring is made. */
const COMMON_TYPES: ReadonlyMap<number, readonly (readonly [name: string, kind: AuditRecordKind])[]> =
  new Map([
    [
      7,
      [
        ['SYSCALL', 'syscall'],
        ['SECCOMP', 'seccomp'],
      ],
    ],
    [
      3,
      [
        ['EOE', 'eoe'],
        ['CWD', 'other'],
      ],
    ],
    [
      4,
      [
        ['PATH', 'other'],
        ['1326', 'seccomp'],
        ['1300', 'syscall'],
        ['1320', 'eoe'],
      ],
    ],
    [9, [['PROCTITLE', 'other']]],
    [6, [['EXECVE', 'other']]],
  ]);

function recordKind(line: string, start: number, end: number): AuditRecordKind {
  const common = COMMON_TYPES.get(end - start);
  if (common !== undefined) {
    for (const [name, kind] of common) if (line.startsWith(name, start)) return kind;
  }
  const typeName = line.slice(start, end);
  const known = RECORD_KINDS.get(typeName);
  if (known !== undefined) return known;
  if (typeName.startsWith(DAEMON_TYPE_PREFIX)) return 'loss-record';
  const number = Number(typeName);
  return number >= DAEMON_TYPE_FIRST && number <= DAEMON_TYPE_LAST ? 'loss-record' : 'other';
}

/** Lines of kernel or syslog text that are not audit's: skipped, not malformed, in a kmsg/syslog file. */
const KERNEL_LOG_LINE = new RegExp(
  [
    /^\[\s*\d+\.\d+\]/.source, // dmesg: [ 123.456789]
    /^\d+,\d+,\d+,/.source, // /dev/kmsg: 6,1234,5827798643,-;
    /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /.source, // syslog: Dec  4 20:00:00 host
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.source, // RFC 3339 syslog / journalctl -o short-iso
    /^ {8}/.source, // dmesg's indented continuation of a multi-line kernel message
  ].join('|'),
);

/** printk's rate limiter dropping kauditd's record prints: "kauditd_printk_skb: 15 callbacks suppressed". */
const SUPPRESSED_PRINTS = /kauditd_printk_skb: (\d+) callbacks suppressed/;

/** kernel/audit.c audit_log_lost() messages: each stands for one dropped record. */
const LOSS_MESSAGES: readonly string[] = [
  'backlog limit exceeded',
  'rate limit exceeded',
  'printk limit exceeded',
  'kauditd hold queue overflow',
  'kauditd retry queue overflow',
  'out of memory in audit_log_start',
];

/** True for a line in auditd's own log form (`type=...` or `node=... type=...`). */
export function isAuditdForm(line: string): boolean {
  return line.startsWith(TYPE_PREFIX) || line.startsWith(NODE_PREFIX);
}

/** Classifies one line (without its newline). */
export function readAuditLine(line: string): AuditLine {
  if (line.length === 0) return IGNORED;
  if (isAuditdForm(line)) return readAuditdLine(line, 0);
  return readKernelLine(line);
}

/** Node names seen, as copies: an event's host must not keep the whole line it came from alive. */
const NODE_NAMES = new Map<string, string>();
/** Past this many distinct names the cache starts over (bounded memory on hostile input). */
const NODE_NAMES_LIMIT = 1024;

function nodeName(text: string): string {
  const known = NODE_NAMES.get(text);
  if (known !== undefined) return known;
  if (NODE_NAMES.size >= NODE_NAMES_LIMIT) NODE_NAMES.clear();
  const copy = detachedCopy(text);
  NODE_NAMES.set(copy, copy);
  return copy;
}

/** auditd's form from `start`: `[node=NAME ]type=TYPE msg=audit(...): ...`. */
function readAuditdLine(line: string, start: number): AuditLine {
  let at = start;
  let node: string | undefined;
  if (line.startsWith(NODE_PREFIX, at)) {
    const space = line.indexOf(' ', at + NODE_PREFIX.length);
    if (space < 0) return { kind: 'malformed', reason: 'node= prefix without a record' };
    node = nodeName(line.slice(at + NODE_PREFIX.length, space));
    at = space + 1;
  }
  if (!line.startsWith(TYPE_PREFIX, at))
    return { kind: 'malformed', reason: 'node= prefix not followed by type=' };
  return readRecord(line, at + TYPE_PREFIX.length, 'audit', node);
}

/**
 * Where an auditd record forwarded through syslog starts (audisp-syslog / the syslog plugin writes
 * `Dec  4 20:00:00 host audisp-syslog: node=web-1 type=SECCOMP msg=audit(...): ...`), or -1.
 */
function forwardedRecordStart(line: string): number {
  const type = line.indexOf(': type=');
  const node = line.indexOf(': node=');
  const first = type < 0 ? node : node < 0 ? type : Math.min(type, node);
  return first < 0 ? -1 : first + 2;
}

/**
 * A line that is not in auditd's form: the kernel's printk form, an auditd record forwarded by syslog,
 * another kernel or syslog line, or garbage.
 */
function readKernelLine(line: string): AuditLine {
  const marker = line.indexOf(KMSG_MARKER);
  if (marker < 0) {
    const forwarded = forwardedRecordStart(line);
    if (forwarded >= 0) return readAuditdLine(line, forwarded);
    const suppressed = SUPPRESSED_PRINTS.exec(line);
    if (suppressed !== null) return { kind: 'loss', drops: Number(suppressed[1]) };
    if (KERNEL_LOG_LINE.test(line)) return IGNORED;
    return { kind: 'malformed', reason: 'not an audit record' };
  }
  const rest = marker + KMSG_MARKER.length;
  if (line.startsWith(TYPE_PREFIX, rest))
    return readRecord(line, rest + TYPE_PREFIX.length, 'kmsg', undefined);
  return readKernelMessage(line, rest);
}

/** `audit: audit_lost=5 audit_rate_limit=0 audit_backlog_limit=64`, `audit: backlog limit exceeded`. */
function readKernelMessage(line: string, start: number): AuditLine {
  if (line.startsWith('audit_lost=', start)) {
    const valueStart = start + 'audit_lost='.length;
    const space = line.indexOf(' ', valueStart);
    const counter = decimalAt(line, valueStart, space < 0 ? line.length : space);
    return counter === undefined
      ? { kind: 'malformed', reason: 'audit_lost= is not a number' }
      : { kind: 'loss', counter };
  }
  for (const message of LOSS_MESSAGES) {
    if (line.startsWith(message, start)) return { kind: 'loss', drops: 1 };
  }
  return IGNORED;
}

/** `TYPE msg=audit(S.MS:SERIAL): body` (auditd) or `TYPE audit(S.MS:SERIAL): body` (printk), from TYPE. */
function readRecord(
  line: string,
  typeStart: number,
  form: AuditLineForm,
  node: string | undefined,
): AuditLine {
  const typeEnd = line.indexOf(' ', typeStart);
  if (typeEnd <= typeStart) return { kind: 'malformed', reason: 'record without a type and stamp' };
  const stampPrefix = form === 'audit' ? ' msg=audit(' : ' audit(';
  if (!line.startsWith(stampPrefix, typeEnd))
    return { kind: 'malformed', reason: 'record without an audit(...) stamp' };
  const stamp = readStamp(line, typeEnd + stampPrefix.length);
  if (stamp === undefined)
    return { kind: 'malformed', reason: 'unreadable audit(SECONDS.MILLIS:SERIAL) stamp' };
  const record = recordKind(line, typeStart, typeEnd);
  // Only records whose fields are read need their end; PATH, CWD, PROCTITLE... are not scanned at all.
  const separator = record === 'other' || record === 'eoe' ? -1 : line.indexOf(ENRICHED_SEPARATOR, stamp.end);
  return {
    kind: 'record',
    form,
    record,
    time: stamp.time,
    serial: stamp.serial,
    node,
    bodyStart: stamp.end,
    bodyEnd: separator < 0 ? line.length : separator,
  };
}

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DOT = 46;
const CHAR_COLON = 58;
const CHAR_CLOSE = 41;
/** Stamps are written with exactly three digits of milliseconds. */
const MILLIS_DIGITS = 3;
/** More digits than this in a number could lose precision in a double. */
const MAX_DIGITS = 15;

/**
 * Reads `SECONDS.MILLIS:SERIAL):` from `start`; `end` is where the record's fields begin. One pass over
 * the characters: this runs for every line of a log.
 */
function readStamp(line: string, start: number): { time: number; serial: number; end: number } | undefined {
  let at = start;
  let seconds = 0;
  let code = line.charCodeAt(at);
  for (; code >= CHAR_0 && code <= CHAR_9 && at - start < MAX_DIGITS; code = line.charCodeAt(++at)) {
    seconds = seconds * 10 + (code - CHAR_0);
  }
  if (at === start || code !== CHAR_DOT) return undefined;
  const millisStart = ++at;
  let millis = 0;
  for (code = line.charCodeAt(at); code >= CHAR_0 && code <= CHAR_9; code = line.charCodeAt(++at)) {
    millis = millis * 10 + (code - CHAR_0);
  }
  if (at - millisStart !== MILLIS_DIGITS || code !== CHAR_COLON) return undefined;
  const serialStart = ++at;
  let serial = 0;
  for (
    code = line.charCodeAt(at);
    code >= CHAR_0 && code <= CHAR_9 && at - serialStart < MAX_DIGITS;
    code = line.charCodeAt(++at)
  ) {
    serial = serial * 10 + (code - CHAR_0);
  }
  if (at === serialStart || code !== CHAR_CLOSE || line.charCodeAt(at + 1) !== CHAR_COLON) return undefined;
  return { time: seconds * 1000 + millis, serial, end: at + 2 };
}
