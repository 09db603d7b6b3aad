/**
 * Tails auditd's log across rotation and truncation, with a checkpoint that lets a restarted monitor
 * resume with nothing lost and nothing counted twice.
 *
 *   const stats = emptySourceStats();
 *   const tail = new AuditTail({ path, consumer: new AuditParser(stats, { file: path }),
 *                                checkpoint: parseTailCheckpoint(store.loadCheckpoint(name)) });
 *   for await (const { events, checkpoint } of tail.batches()) {
 *     store.commitBatch({ events: rows(events), checkpoint: { name, value: checkpoint } }); // ONE transaction
 *   }
 *
 * Exactly-once: lines are handed to the parser one audit event (one serial's records) at a time and the
 * parser is flushed after each, so every checkpoint sits on an event boundary: {inode, offset} is the byte
 * just after the last line of the last event in the batch. Nothing before it is pending anywhere and
 * nothing after it was emitted. The checkpoint is only data: it takes effect when the consumer stores it
 * together with the batch's events (EventStore.commitBatch does both in one SQLite transaction); a crash
 * before that replays the batch, a crash after it resumes after it.
 *
 * Rotation (auditd renames audit.log → audit.log.1 and creates a new audit.log) is seen as a change of
 * the inode at `path`; the open file is read to its end before the tail moves on. On resume the
 * checkpoint's inode is looked up in path, path.1 … path.N: a file rotated while the monitor was down is
 * finished first, then every newer one in order. Truncation (same inode, smaller size) restarts at 0.
 *
 * What the tail counts (TailStats), beside the parser's SourceStats (records, malformed, and `lost`: the
 * kernel's own lost counter and drop messages, see audit-loss.ts):
 *  - rotations: files finished because a newer one took their place;
 *  - truncations: times a file shrank under the tail (what was written and cut before we read it is lost,
 *    uncountable);
 *  - serialResets: kernel records whose serial is lower than the previous record's by more than
 *    SERIAL_REORDER_WINDOW (a reboot or an audit reset; small steps back are interleaved events).
 *    Serial *gaps* are not counted: every record type, including ones rules filter out, takes a serial,
 *    so a gap proves nothing;
 *  - checkpointMissing: the checkpoint's file no longer exists (rotated out while the monitor was down):
 *    the tail restarts at the oldest file still there, and events in between may be lost;
 *  - oversizedLines: lines longer than MAX_LINE_BYTES, skipped (also recorded as malformed).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { recordProblem, type SourceStats, type SyscallEvent } from './event.js';

/** What the tail feeds: AuditParser implements it. `flush` completes whatever the parser still holds. */
export interface AuditLineConsumer {
  push(line: string, lineNumber: number): SyscallEvent[];
  flush(): SyscallEvent[];
}

/** Where to resume: the file (by inode), the byte after the last stored event, and its line number. */
export interface TailCheckpoint {
  /** Decimal inode number (a string: 64-bit inodes do not fit a double). */
  readonly inode: string;
  readonly offset: number;
  /** Lines before `offset`, so problem locations keep their line numbers after a restart. */
  readonly line: number;
  /** Serial of the last event before `offset` (informational: resuming is by offset). */
  readonly serial?: number;
}

/** One step of the tail: events to store, and the checkpoint to store with them. */
export interface TailBatch {
  readonly events: SyscallEvent[];
  readonly checkpoint: TailCheckpoint;
}

export interface TailStats {
  rotations: number;
  truncations: number;
  serialResets: number;
  checkpointMissing: number;
  oversizedLines: number;
  bytesRead: number;
}

export interface AuditTailOptions {
  readonly path: string;
  readonly consumer: AuditLineConsumer;
  /** The parser's statistics: the tail records its own read problems there too. */
  readonly stats: SourceStats;
  /** Resume position from the store; without it the tail starts at the beginning or the end (fromStart). */
  readonly checkpoint?: TailCheckpoint;
  /** Keep waiting for new lines (default true); false reads to the end of the newest file and stops. */
  readonly follow?: boolean;
  /** Without a checkpoint: read the current file from its start (default: only when not following). */
  readonly fromStart?: boolean;
  /** How often to look for new data, rotation and truncation while following (default 250 ms). */
  readonly pollMs?: number;
  /**
   * How long an event whose records may not be complete (no EOE yet, nothing after it) waits before it
   * is flushed anyway while following (default 500 ms); auditd writes an event's records together.
   */
  readonly idleFlushMs?: number;
  /** Rotated files searched on resume: path.1 … path.N (default 9, auditd's num_logs range). */
  readonly rotatedFiles?: number;
  /** Largest batch, in events (default 10 000): bounds memory and transaction size. */
  readonly maxBatchEvents?: number;
  /** Stops following (the generator returns after the current batch). */
  readonly signal?: AbortSignal;
}

/** Fresh, zeroed tail statistics. */
export function emptyTailStats(): TailStats {
  return {
    rotations: 0,
    truncations: 0,
    serialResets: 0,
    checkpointMissing: 0,
    oversizedLines: 0,
    bytesRead: 0,
  };
}

/** Audit lines are bounded by the kernel (8 KiB messages) plus auditd's enrichment; more is garbage. */
export const MAX_LINE_BYTES = 64 * 1024;
/** A serial may step back this much when concurrent events interleave; a larger drop is a reset. */
export const SERIAL_REORDER_WINDOW = 1000;

const CHUNK_BYTES = 1 << 20;

/** The name a tail's checkpoint is stored under. */
export function tailCheckpointName(path: string): string {
  return `audit-tail:${path}`;
}

/** Validates a stored checkpoint (fail closed: a corrupt one is an error, not a silent restart). */
export function parseTailCheckpoint(value: unknown, where = 'checkpoint'): TailCheckpoint | undefined {
  if (value === undefined || value === null) return undefined;
  const object = value as Partial<Record<keyof TailCheckpoint, unknown>>;
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (typeof value !== 'object' || typeof object.inode !== 'string' || !/^\d+$/.test(object.inode)) {
    throw new Error(`${where}: "inode" must be a decimal string`);
  }
  if (!isCount(object.offset) || !isCount(object.line)) {
    throw new Error(`${where}: "offset" and "line" must be non-negative integers`);
  }
  if (object.serial !== undefined && !isCount(object.serial)) {
    throw new Error(`${where}: "serial" must be a non-negative integer`);
  }
  return { inode: object.inode, offset: object.offset, line: object.line, serial: object.serial };
}

/** type= and serial of an audit line, read without a regex on the hot path. */
function auditHeader(line: string): { type: string; serial: number | undefined } {
  // `node=NAME type=...` when auditd is configured to name the node (name_format).
  const typeStart = line.startsWith('type=') ? 0 : line.indexOf(' type=') + 1;
  const typeEnd = typeStart > 0 || line.startsWith('type=') ? line.indexOf(' ', typeStart + 5) : -1;
  const type = typeEnd > 0 ? line.slice(typeStart + 5, typeEnd) : '';
  const open = line.indexOf('msg=audit(');
  const colon = open < 0 ? -1 : line.indexOf(':', open + 10);
  const close = colon < 0 ? -1 : line.indexOf(')', colon);
  if (close < 0 || close - colon > 16) return { type, serial: undefined };
  const serial = Number(line.slice(colon + 1, close));
  return { type, serial: Number.isSafeInteger(serial) && close > colon + 1 ? serial : undefined };
}

async function inodeOf(path: string): Promise<{ inode: string; size: number } | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    return { inode: info.ino.toString(), size: Number(info.size) };
  } catch {
    return undefined;
  }
}

/** The file being read. `position` is where the next read starts. */
interface OpenFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly inode: string;
  position: number;
  /** Bytes read after the last newline (a line still being written). */
  partial: string;
  /** Skipping the rest of an oversized line. */
  skippingLine: boolean;
  /** Lines completed in this file. */
  line: number;
}

/** The records of one serial, not yet handed to the consumer. */
interface PendingGroup {
  serial: number | undefined;
  readonly lines: { text: string; number: number }[];
  /** Offset and line number just after its last line. */
  end: number;
  endLine: number;
  since: number;
}

export class AuditTail {
  readonly stats: TailStats = emptyTailStats();
  private file: OpenFile | undefined;
  private readonly group: PendingGroup = { serial: undefined, lines: [], end: 0, endLine: 0, since: 0 };
  /** The event boundary the next batch's checkpoint names. */
  private boundary: TailCheckpoint | undefined;
  private events: SyscallEvent[] = [];
  private readonly ready: TailBatch[] = [];
  private previousSerial: number | undefined;
  private lastEventSerial: number | undefined;
  /** The checkpoint of the last batch handed out. */
  private emitted: TailCheckpoint | undefined;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(private readonly options: AuditTailOptions) {}

  private get follow(): boolean {
    return this.options.follow ?? true;
  }

  /** Batches of events with the checkpoint after them, until the end (no-follow) or the signal. */
  async *batches(): AsyncGenerator<TailBatch> {
    try {
      if (!(await this.openInitial())) return;
      while (!this.options.signal?.aborted) {
        const grew = await this.readChunk();
        yield* this.takeReady();
        if (grew) continue;
        if (await this.switchIfRotatedOrTruncated()) {
          yield* this.takeReady();
          continue;
        }
        if (!this.follow) break;
        if (
          this.group.lines.length > 0 &&
          Date.now() - this.group.since >= (this.options.idleFlushMs ?? 500)
        ) {
          this.flushGroup();
          this.closeBatch();
          yield* this.takeReady();
        }
        await this.sleep(this.options.pollMs ?? 250);
      }
      this.finishInput();
      yield* this.takeReady();
    } finally {
      await this.file?.handle.close();
      this.file = undefined;
    }
  }

  // ---- opening and switching files -----------------------------------------------------------------

  /** Candidate files, newest first: path, path.1, …, path.N (missing ones left out). */
  private async chain(): Promise<{ path: string; inode: string; size: number }[]> {
    const paths = [this.options.path];
    for (let n = 1; n <= (this.options.rotatedFiles ?? 9); n += 1) paths.push(`${this.options.path}.${n}`);
    const found = await Promise.all(paths.map(async (path) => ({ path, info: await inodeOf(path) })));
    return found.flatMap(({ path, info }) => (info === undefined ? [] : [{ path, ...info }]));
  }

  /** Opens where the checkpoint says (or the start/end of the current file); false when there is nothing. */
  private async openInitial(): Promise<boolean> {
    const checkpoint = this.options.checkpoint;
    for (;;) {
      const chain = await this.chain();
      if (checkpoint !== undefined && chain.length > 0) {
        const index = chain.findIndex((file) => file.inode === checkpoint.inode);
        if (index >= 0) return this.openAt(chain[index]!.path, checkpoint.offset, checkpoint.line);
        this.stats.checkpointMissing += 1;
        recordProblem(this.options.stats, {
          where: this.options.path,
          reason: `checkpoint file (inode ${checkpoint.inode}) is gone; resuming at the oldest file, events in between may be lost`,
        });
        return this.openAt(chain[chain.length - 1]!.path, 0, 0);
      }
      const current = chain.find((file) => file.path === this.options.path);
      if (current !== undefined) {
        const fromStart = this.options.fromStart ?? !this.follow;
        return this.openAt(current.path, fromStart ? 0 : current.size, 0);
      }
      if (!this.follow) throw new Error(`${this.options.path}: no such audit log`);
      if (this.options.signal?.aborted) return false;
      await this.sleep(this.options.pollMs ?? 250); // auditd not started yet: wait for its log
    }
  }

  /** Opens `path` at `offset` (restarting at 0, counted, when the file is now shorter). */
  private async openAt(path: string, offset: number, line: number): Promise<boolean> {
    const handle = await open(path, 'r');
    const info = await handle.stat({ bigint: true });
    const size = Number(info.size);
    const truncated = size < offset;
    if (truncated) this.stats.truncations += 1;
    this.file = {
      path,
      handle,
      inode: info.ino.toString(),
      position: truncated ? 0 : offset,
      partial: '',
      skippingLine: false,
      line: truncated ? 0 : line,
    };
    this.boundary = { inode: this.file.inode, offset: this.file.position, line: this.file.line };
    return true;
  }

  /**
   * At the end of the open file: moves to the next file when this one was rotated away, or to offset 0
   * when it was truncated. True when it switched.
   */
  private async switchIfRotatedOrTruncated(): Promise<boolean> {
    const file = this.file!;
    const current = await inodeOf(this.options.path);
    if (current === undefined) return false; // between auditd's rename and create: keep the old one
    if (current.inode === file.inode) {
      if (current.size >= file.position) return false;
      this.stats.truncations += 1;
      this.finishFile();
      file.position = 0;
      file.line = 0;
      this.boundary = { inode: file.inode, offset: 0, line: 0 };
      this.closeBatch();
      return true;
    }
    if (await this.readChunk()) return true; // the rotated file got a last write: read it first
    this.finishFile();
    this.stats.rotations += 1;
    const next = await this.successorOf(file.inode);
    await file.handle.close();
    this.file = undefined;
    await this.openAt(next, 0, 0);
    this.closeBatch(); // the checkpoint moves to the new file even when the old one ended without events
    return true;
  }

  /** The file written after the one with `inode`: the next newer in the chain, or the oldest left. */
  private async successorOf(inode: string): Promise<string> {
    const chain = await this.chain();
    const index = chain.findIndex((file) => file.inode === inode);
    if (index > 0) return chain[index - 1]!.path;
    // The finished file left the chain (deleted or rotated out): every file still there is newer.
    return chain[chain.length - 1]?.path ?? this.options.path;
  }

  // ---- reading lines -----------------------------------------------------------------------------

  /**
   * Reads the next chunk of the open file; true when there was one. One chunk at a time, so a large
   * backlog is handed out batch by batch instead of being held in memory.
   */
  private async readChunk(): Promise<boolean> {
    const file = this.file!;
    const { bytesRead } = await file.handle.read(this.buffer, 0, CHUNK_BYTES, file.position);
    if (bytesRead === 0) return false;
    this.stats.bytesRead += bytesRead;
    // latin1: one char per byte, so string indexes are byte offsets (the parser reads latin1 too).
    this.readLines(file, this.buffer.toString('latin1', 0, bytesRead));
    this.closeBatch();
    return true;
  }

  /** Splits a chunk into lines; the unterminated rest waits for the next read. */
  private readLines(file: OpenFile, chunk: string): void {
    const text = file.partial + chunk;
    const base = file.position - file.partial.length; // file offset of text[0]
    file.position += chunk.length;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      this.readLine(file, text.slice(start, newline), base + newline + 1);
      start = newline + 1;
    }
    file.partial = text.slice(start);
    if (file.partial.length > MAX_LINE_BYTES) {
      if (!file.skippingLine) this.oversized(file);
      file.partial = '';
      file.skippingLine = true;
    }
  }

  private oversized(file: OpenFile): void {
    this.stats.oversizedLines += 1;
    recordProblem(this.options.stats, {
      where: `${file.path}:${file.line + 1}`,
      reason: `line longer than ${MAX_LINE_BYTES} bytes skipped`,
    });
  }

  /** One complete line ending at byte `end`: joins its serial's group or starts a new one. */
  private readLine(file: OpenFile, line: string, end: number): void {
    file.line += 1;
    if (file.skippingLine) {
      file.skippingLine = false; // the tail end of an oversized line
      this.standalone(file, end);
      return;
    }
    if (line.length > MAX_LINE_BYTES) {
      this.oversized(file);
      this.standalone(file, end);
      return;
    }
    const { type, serial } = auditHeader(line);
    if (serial !== this.group.serial || serial === undefined) this.flushGroup();
    if (serial !== undefined && !type.startsWith('DAEMON_')) this.noteSerial(serial); // auditd's own serials
    if (this.group.lines.length === 0) this.group.since = Date.now();
    this.group.serial = serial;
    this.group.lines.push({ text: line, number: file.line });
    this.group.end = end;
    this.group.endLine = file.line;
    // EOE ends a multi-record event; a line without a serial is its own (malformed) group.
    if (type === 'EOE' || serial === undefined) this.flushGroup();
  }

  /** A line that is no event (skipped): the boundary moves past it once the group before it is out. */
  private standalone(file: OpenFile, end: number): void {
    this.flushGroup();
    this.boundary = { inode: file.inode, offset: end, line: file.line, serial: this.lastEventSerial };
  }

  private noteSerial(serial: number): void {
    if (this.previousSerial !== undefined && serial + SERIAL_REORDER_WINDOW < this.previousSerial) {
      this.stats.serialResets += 1;
    }
    this.previousSerial = serial;
  }

  /** Hands the pending group to the consumer and completes it: the boundary moves after it. */
  private flushGroup(): void {
    const group = this.group;
    if (group.lines.length === 0) return;
    const consumer = this.options.consumer;
    for (const line of group.lines) this.events.push(...consumer.push(line.text, line.number));
    this.events.push(...consumer.flush());
    if (group.serial !== undefined) this.lastEventSerial = group.serial;
    this.boundary = {
      inode: this.file!.inode,
      offset: group.end,
      line: group.endLine,
      serial: this.lastEventSerial,
    };
    group.lines.length = 0;
    group.serial = undefined;
    if (this.events.length >= (this.options.maxBatchEvents ?? 10_000)) this.closeBatch();
  }

  /** Queues the events so far with the boundary after them, when there is anything new to store. */
  private closeBatch(): void {
    const boundary = this.boundary;
    if (boundary === undefined) return;
    const last = this.ready[this.ready.length - 1]?.checkpoint ?? this.emitted;
    const moved = last === undefined || last.inode !== boundary.inode || last.offset !== boundary.offset;
    if (this.events.length === 0 && !moved) return;
    this.ready.push({ events: this.events, checkpoint: boundary });
    this.events = [];
  }

  private *takeReady(): Generator<TailBatch> {
    while (this.ready.length > 0) {
      const batch = this.ready.shift()!;
      this.emitted = batch.checkpoint;
      yield batch;
    }
  }

  /** A file that will not grow again: its last unterminated line is a line, its last group complete. */
  private finishFile(): void {
    const file = this.file!;
    if (file.partial.length > 0 && !file.skippingLine) {
      this.readLine(file, file.partial, file.position);
    } else if (file.skippingLine) {
      file.line += 1;
      this.standalone(file, file.position);
    }
    file.partial = '';
    file.skippingLine = false;
    this.flushGroup();
    this.closeBatch();
  }

  /**
   * End of reading. Stopped while following: the pending group stays unread and the checkpoint before
   * it, so the next run reads the event whole. No-follow: the input ends here, so the pending group is
   * complete as far as anyone can tell; a last line without a newline stays unread (it may still be
   * being written) and is reported.
   */
  private finishInput(): void {
    const file = this.file;
    if (file === undefined || this.follow) return;
    if (file.partial.length > 0) {
      recordProblem(this.options.stats, {
        where: `${file.path}:${file.line + 1}`,
        reason:
          'last line has no newline yet (still being written?); not read, the checkpoint stays before it',
      });
    }
    this.flushGroup();
    this.closeBatch();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.options.signal;
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
