/**
 * JSON-lines event inputs (`--source stdin`, `--source jsonl:PATH`): one `eventToJson` line per event.
 * A file is read to its end and, when following, polled for appended lines (a file truncated or replaced
 * by rotation is read again from its start). Unreadable lines are counted with their line number.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  emptySourceStats,
  EventFormatError,
  parseEventJson,
  recordProblem,
  type SourceStats,
  type SyscallEvent,
} from '../sources/event.js';
import type { EventInput } from './pipeline.js';

/** An input that yields single events (never batches). */
export type SingleEventInput = Omit<EventInput, 'events'> & { events(): AsyncIterable<SyscallEvent> };

const CHUNK_BYTES = 1 << 16;
const POLL_MS = 250;
/** A line longer than this is malformed input, not an event: it is skipped rather than buffered forever. */
const MAX_LINE_BYTES = 1 << 20;

/** Parses one line into the stats' counts; undefined for blank or malformed lines. */
export function parseEventLine(line: string, where: string, stats: SourceStats): SyscallEvent | undefined {
  if (line.trim() === '') return undefined;
  stats.records += 1;
  try {
    const event = parseEventJson(line, where);
    stats.events += 1;
    return event;
  } catch (error) {
    if (!(error instanceof EventFormatError)) throw error;
    recordProblem(stats, { where, reason: error.detail });
    return undefined;
  }
}

/** Events from a stream of JSON lines (stdin); live: the writer is not slowed down. */
export function streamInput(name: string, stream: Readable): SingleEventInput {
  const stats = emptySourceStats();
  return {
    name,
    live: true,
    stats,
    async *events() {
      let lineNumber = 0;
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        lineNumber += 1;
        const event = parseEventLine(line, `${name}:${lineNumber}`, stats);
        if (event !== undefined) yield event;
      }
    },
  };
}

/** Events from a JSON-lines file; `follow` keeps reading appended lines until `signal` aborts. */
export function fileInput(path: string, follow: boolean, signal?: AbortSignal): SingleEventInput {
  const stats = emptySourceStats();
  const name = `jsonl:${path}`;
  return {
    name,
    live: follow,
    stats,
    async *events() {
      let lineNumber = 0;
      for await (const line of fileLines(path, follow, signal)) {
        lineNumber += 1;
        const event = parseEventLine(line, `${path}:${lineNumber}`, stats);
        if (event !== undefined) yield event;
      }
    },
  };
}

/** The file's lines; when following, waits for more, reopening after truncation or replacement. */
async function* fileLines(path: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<string> {
  let handle: FileHandle = await open(path, 'r');
  let inode = (await handle.stat()).ino;
  let offset = 0;
  let partial = '';
  const buffer = Buffer.alloc(CHUNK_BYTES);
  // A multi-byte character may straddle two reads: the decoder holds its first bytes back.
  let decoder = new StringDecoder('utf8');
  try {
    while (signal?.aborted !== true) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > MAX_LINE_BYTES) partial = '';
        yield* lines;
        continue;
      }
      if (!follow) break;
      await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
      const current = await stat(path).catch(() => undefined);
      if (current !== undefined && (current.ino !== inode || current.size < offset)) {
        await handle.close();
        handle = await open(path, 'r');
        inode = (await handle.stat()).ino;
        offset = 0;
        partial = '';
        decoder = new StringDecoder('utf8');
      }
    }
    if (partial !== '') yield partial;
  } finally {
    await handle.close();
  }
}
