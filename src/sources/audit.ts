/**
 * The audit source: Linux audit text → SyscallEvents. Reads auditd's log (/var/log/audit/audit.log, raw or
 * ENRICHED) and the kernel's printk form of the same records (dmesg, /dev/kmsg, syslog). A type=SECCOMP
 * record is one event by itself (with the filter's action); a type=SYSCALL record is grouped with the
 * other records of its serial (EXECVE, CWD, PATH, PROCTITLE, ... up to EOE) and becomes one event when the
 * group completes. Bad lines are counted with their file:line, never fatal. See docs/sources.md.
 */
import {
  LOSS_FIELDS,
  RecordFields,
  recordLossCounter,
  SECCOMP_FIELDS,
  seccompEvent,
  SYSCALL_FIELDS,
  syscallRecordEvent,
} from './audit-event.js';
import { lineBatches, MAX_LINE_CHARS, openLogStream } from './audit-lines.js';
import { AuditLossCounter } from './audit-loss.js';
import { isAuditdForm, readAuditLine, type AuditRecordLine } from './audit-record.js';
import { emptySourceStats, recordProblem, type SourceStats, type SyscallEvent } from './event.js';

export interface AuditParserOptions {
  /** The host name for events whose record has no `node=`; default ''. */
  readonly host?: string;
  /** file name used in problem locations */
  readonly file?: string;
  /**
   * Also read the kernel's printk form and syslog-forwarded records (dmesg, /dev/kmsg, syslog exports).
   * Off by default: any local user can write syslog text (`logger`), so records from it are taken only
   * where a person reviews the result (learn, review), never where events can freeze or kill (monitor).
   * Off, such lines count as malformed.
   */
  readonly unauthenticatedForms?: boolean;
}

/**
 * A SYSCALL group still open this many lines after its last record is complete: auditd interleaves the
 * records of a few concurrent events, never of events this far apart, and a group without EOE (the
 * kernel omits it for single-record events) must still end.
 */
export const AUDIT_GROUP_WINDOW = 64;

/**
 * The last SECCOMP events remembered to match a SYSCALL record of the same call (both are written, with
 * one serial, when syscall auditing is on): the SECCOMP event already stands for that call, so the
 * SYSCALL one is not repeated. The SYSCALL record follows within a group window.
 */
const RECENT_SECCOMP_SLOTS = AUDIT_GROUP_WINDOW;

/** A fixed ring of the last SECCOMP events' (serial, pid, nr, host). */
class RecentSeccomp {
  private readonly serials = new Float64Array(RECENT_SECCOMP_SLOTS).fill(-1);
  private readonly pids = new Float64Array(RECENT_SECCOMP_SLOTS);
  private readonly numbers = new Float64Array(RECENT_SECCOMP_SLOTS);
  private readonly hosts = new Array<string>(RECENT_SECCOMP_SLOTS).fill('');
  private next = 0;

  add(event: SyscallEvent): void {
    this.serials[this.next] = event.serial ?? -1;
    this.pids[this.next] = event.pid;
    this.numbers[this.next] = event.nr;
    this.hosts[this.next] = event.host;
    this.next = (this.next + 1) % RECENT_SECCOMP_SLOTS;
  }

  /** True if a SECCOMP event already stands for this call. */
  covers(event: SyscallEvent): boolean {
    for (let slot = 0; slot < RECENT_SECCOMP_SLOTS; slot++) {
      if (
        this.serials[slot] === event.serial &&
        this.pids[slot] === event.pid &&
        this.numbers[slot] === event.nr &&
        this.hosts[slot] === event.host
      ) {
        return true;
      }
    }
    return false;
  }
}

/**
 * What identifies a group: the serial, and the node when auditd names one — a log aggregated from many
 * hosts holds each host's own serial sequence, and those can meet.
 */
type GroupKey = number | string;

function groupKey(record: AuditRecordLine): GroupKey {
  return record.node === undefined ? record.serial : `${record.node} ${record.serial}`;
}

/** A SYSCALL record waiting for the rest of its group. */
interface OpenGroup {
  readonly event: SyscallEvent;
  lastLine: number;
}

/** Incremental parser: feed lines in order; returns the events each line completes. */
export class AuditParser {
  private readonly fields = new RecordFields();
  private readonly loss: AuditLossCounter;
  /** Open groups, least recently touched first (a touched group moves to the end). */
  private readonly open = new Map<GroupKey, OpenGroup>();
  private lastTouched: GroupKey | undefined;
  private readonly recentSeccomp = new RecentSeccomp();
  private lineCount = 0;
  /** No open group can be stale before this line count (saves walking the map on every line). */
  private nextStaleCheck = 0;
  private completedSerial: number | undefined;

  constructor(
    private readonly stats: SourceStats,
    private readonly options: AuditParserOptions = {},
  ) {
    this.loss = new AuditLossCounter(stats);
  }

  /** serial of the last completed event, for checkpoints */
  get lastSerial(): number | undefined {
    return this.completedSerial;
  }

  /** Reads one line (without its trailing newline); returns the events it completes. */
  push(line: string, lineNumber: number): SyscallEvent[] {
    const completed: SyscallEvent[] = [];
    this.pushInto(line, lineNumber, completed);
    return completed;
  }

  /** push() appending to the caller's array: no array per line for a reader of millions of lines. */
  pushInto(line: string, lineNumber: number, completed: SyscallEvent[]): void {
    this.stats.records += 1;
    this.lineCount += 1;
    this.closeStaleGroups(completed);
    if (line.length > MAX_LINE_CHARS) {
      this.problem(lineNumber, `line longer than ${MAX_LINE_CHARS} characters: not an audit record`);
      return;
    }
    if (this.options.unauthenticatedForms !== true && line.length > 0 && !isAuditdForm(line)) {
      this.problem(lineNumber, "not in auditd's own log form (kmsg/syslog text is not authenticated)");
      return;
    }
    const reading = readAuditLine(line);
    switch (reading.kind) {
      case 'record':
        this.readRecord(line, reading, lineNumber, completed);
        break;
      case 'loss':
        if (reading.counter !== undefined) this.loss.counter(reading.counter);
        if (reading.drops !== undefined) this.loss.messages(reading.drops);
        break;
      case 'malformed':
        this.problem(lineNumber, reading.reason);
        break;
      case 'ignored':
        break;
    }
  }

  /** end of input: emit groups still open */
  flush(): SyscallEvent[] {
    const completed: SyscallEvent[] = [];
    for (const key of [...this.open.keys()]) this.complete(key, completed);
    return completed;
  }

  private readRecord(line: string, record: AuditRecordLine, lineNumber: number, out: SyscallEvent[]): void {
    switch (record.record) {
      case 'seccomp':
      case 'syscall':
        this.readCallRecord(line, record, lineNumber, out);
        return;
      case 'eoe':
        this.complete(groupKey(record), out);
        return;
      case 'loss-record':
        this.readLossRecord(line, record);
        this.touch(groupKey(record));
        return;
      case 'other':
        this.touch(groupKey(record));
        return;
    }
  }

  private readCallRecord(
    line: string,
    record: AuditRecordLine,
    lineNumber: number,
    out: SyscallEvent[],
  ): void {
    const seccomp = record.record === 'seccomp';
    this.fields.find(line, record.bodyStart, record.bodyEnd, seccomp ? SECCOMP_FIELDS : SYSCALL_FIELDS);
    const host = record.node ?? this.options.host ?? '';
    const built = seccomp
      ? seccompEvent(this.fields, record, host)
      : syscallRecordEvent(this.fields, record, host);
    if (!built.ok) {
      this.problem(lineNumber, built.reason);
    } else if (seccomp) {
      this.recentSeccomp.add(built.event);
      this.emit(built.event, out);
    } else if (!this.recentSeccomp.covers(built.event)) {
      this.openGroup(built.event, groupKey(record), lineNumber);
    }
  }

  private readLossRecord(line: string, record: AuditRecordLine): void {
    this.fields.find(line, record.bodyStart, record.bodyEnd, LOSS_FIELDS);
    const counter = recordLossCounter(this.fields);
    if (counter !== undefined) this.loss.counter(counter);
  }

  private openGroup(event: SyscallEvent, key: GroupKey, lineNumber: number): void {
    if (this.open.has(key)) {
      this.problem(lineNumber, `second SYSCALL record for serial ${event.serial}`);
      return;
    }
    this.open.set(key, { event, lastLine: this.lineCount });
    this.lastTouched = key;
  }

  /** A record of the group arrived: the group (if open) is not stale. */
  private touch(key: GroupKey): void {
    const group = this.open.get(key);
    if (group === undefined) return;
    group.lastLine = this.lineCount;
    if (key === this.lastTouched) return;
    // Re-inserting keeps the map ordered by last touch, so stale groups are always at its front.
    this.open.delete(key);
    this.open.set(key, group);
    this.lastTouched = key;
  }

  private closeStaleGroups(out: SyscallEvent[]): void {
    if (this.open.size === 0 || this.lineCount < this.nextStaleCheck) return;
    for (const [key, group] of this.open) {
      if (this.lineCount - group.lastLine <= AUDIT_GROUP_WINDOW) {
        // The front group is the least recently touched and last-line numbers only grow: no group can
        // go stale before this one could.
        this.nextStaleCheck = group.lastLine + AUDIT_GROUP_WINDOW + 1;
        return;
      }
      this.complete(key, out);
    }
  }

  private complete(key: GroupKey, out: SyscallEvent[]): void {
    const group = this.open.get(key);
    if (group === undefined) return;
    this.open.delete(key);
    if (key === this.lastTouched) this.lastTouched = undefined;
    this.emit(group.event, out);
  }

  private emit(event: SyscallEvent, out: SyscallEvent[]): void {
    this.stats.events += 1;
    this.completedSerial = event.serial;
    out.push(event);
  }

  private problem(lineNumber: number, reason: string): void {
    recordProblem(this.stats, { where: `${this.options.file ?? '<audit>'}:${lineNumber}`, reason });
  }
}

/** Streams a whole file (or '-' for stdin) through AuditParser. */
export async function* readAuditFile(
  path: string,
  stats: SourceStats,
  options?: AuditParserOptions,
): AsyncGenerator<SyscallEvent> {
  const parser = new AuditParser(stats, {
    ...options,
    file: options?.file ?? (path === '-' ? '<stdin>' : path),
  });
  let lineNumber = 0;
  for await (const lines of lineBatches(openLogStream(path))) {
    const events: SyscallEvent[] = [];
    for (const line of lines) parser.pushInto(line, ++lineNumber, events);
    // One `yield` per event: `yield*` over an array adds an await per element in an async generator.
    for (const event of events) yield event;
  }
  for (const event of parser.flush()) yield event;
}

/** Reads a whole file into events + stats (convenience for learn/review). */
export async function readAuditLog(
  path: string,
  options?: AuditParserOptions,
): Promise<{ events: SyscallEvent[]; stats: SourceStats }> {
  const stats = emptySourceStats();
  const events: SyscallEvent[] = [];
  for await (const event of readAuditFile(path, stats, options)) events.push(event);
  return { events, stats };
}
