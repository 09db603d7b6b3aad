/**
 * Lines of a large log, read in big chunks and split here: readline costs more than parsing an audit
 * line. Text is decoded as latin1 (one char per byte, so a chunk boundary never splits a character and
 * no byte is replaced); every field the audit parser reads is ASCII, as the kernel hex-encodes the rest.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Bytes per read: large enough that per-chunk costs vanish, small enough to stay in cache. */
const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** The stream for a path, or stdin for '-'. */
export function openLogStream(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK_BYTES });
}

/**
 * The longest line kept whole. The kernel's records are under 9 KiB (MAX_AUDIT_MESSAGE_LENGTH); a longer
 * line is not a record, and a file without newlines must not grow one string until memory runs out.
 * Longer lines are cut to this length plus one character, so the reader can still tell they were cut.
 */
export const MAX_LINE_CHARS = 1 << 16;

/** Appends text to a pending line, keeping at most MAX_LINE_CHARS + 1 characters of it. */
function capped(pending: string, text: string): string {
  if (pending.length > MAX_LINE_CHARS) return pending;
  const joined = pending + text;
  return joined.length > MAX_LINE_CHARS ? joined.slice(0, MAX_LINE_CHARS + 1) : joined;
}

/**
 * The stream's lines in order, a chunk's worth at a time (without newlines; a final line without one is
 * included; lines over MAX_LINE_CHARS cut to one character more): batches keep the per-line cost of
 * async iteration away from large files.
 */
export async function* lineBatches(stream: Readable): AsyncGenerator<readonly string[]> {
  let carry = '';
  for await (const data of stream) {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : (data as Buffer);
    // Newlines are found in the bytes and each line decoded on its own: the strings share no memory
    // with the chunk, so an event holding a name does not keep a megabyte alive.
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      const end = Math.min(newline, start + MAX_LINE_CHARS + 1);
      const text = chunk.toString('latin1', start, end);
      lines.push(start === 0 && carry.length > 0 ? capped(carry, text) : text);
      start = newline + 1;
    }
    // The unfinished tail waits for the next chunk (joined to the first line there, or alone at the end).
    const tail = chunk.toString('latin1', start, Math.min(chunk.length, start + MAX_LINE_CHARS + 1));
    carry = start === 0 ? capped(carry, tail) : tail;
    if (lines.length > 0) yield lines;
  }
  if (carry.length > 0) yield [carry];
}
