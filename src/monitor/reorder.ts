/**
 * The reorder buffer: sources deliver events slightly out of order (per-CPU eBPF buffers, audit records
 * of concurrent calls, merged inputs), and sequence rules need them in time order. Events are held,
 * sorted by time (equal times keep their arrival order), until the newest event seen is `windowMs` later
 * than them, or the buffer holds `maxEvents`; then released oldest first. An event older than one
 * already released is released at once and counted as late: the rules tolerate it, and the count shows
 * how wide the window should be. Time never runs ahead of the wall clock plus the window: a future-stamped
 * event waits (or leaves at flush) instead of flushing everything before it.
 *
 * A sorted array rather than a heap: streams are nearly in order, so almost every event is appended in
 * O(1) and released from the front in O(1); the rare late one is inserted by binary search.
 */
import type { SyscallEvent } from '../sources/event.js';

/**
 * How far ahead of the wall clock (beyond the window) an event may move time: clocks of merged hosts
 * disagree by seconds, not minutes. A forged or tampered stamp further ahead moves time only this far,
 * so ordering is lost for at most this long instead of for good.
 */
const FUTURE_TOLERANCE_MS = 60_000;

/** Released slots are compacted away once this many have piled up at the front. */
const COMPACT_AFTER = 4096;

export class ReorderBuffer {
  private buffer: SyscallEvent[] = [];
  /** Index of the oldest held event; everything before it was released. */
  private head = 0;
  private newest = -Infinity;
  private lastReleased = -Infinity;
  /** Events that arrived after a later event had already been released. */
  late = 0;

  /** Events stamped more than the window plus a minute ahead of the wall clock: they cannot move time further. */
  ahead = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEvents: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get length(): number {
    return this.buffer.length - this.head;
  }

  /** Adds an event and passes every event now due, in time order, to `release`. */
  push(event: SyscallEvent, release: (event: SyscallEvent) => void): void {
    if (event.time < this.lastReleased) this.late += 1;
    this.insert(event);
    // One event stamped far in the future (a forged line, a clock set forward) must not release every
    // later event at once and end time ordering for good: time advances at most to the clock + window.
    const ceiling = this.clock() + this.windowMs + FUTURE_TOLERANCE_MS;
    if (event.time > ceiling) this.ahead += 1;
    const time = Math.min(event.time, ceiling);
    if (time > this.newest) this.newest = time;
    const due = this.newest - this.windowMs;
    while (this.head < this.buffer.length) {
      const oldest = this.buffer[this.head] as SyscallEvent;
      if (oldest.time > due && this.length <= this.maxEvents) break;
      this.releaseOldest(release);
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }

  /** Releases everything held, in time order (end of input). */
  flush(release: (event: SyscallEvent) => void): void {
    while (this.head < this.buffer.length) this.releaseOldest(release);
    this.buffer = [];
    this.head = 0;
  }

  private insert(event: SyscallEvent): void {
    const last = this.buffer[this.buffer.length - 1];
    if (this.head === this.buffer.length || last === undefined || last.time <= event.time) {
      this.buffer.push(event);
      return;
    }
    // After every held event with time <= event.time: equal times stay in arrival order.
    let low = this.head;
    let high = this.buffer.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.buffer[middle] as SyscallEvent).time <= event.time) low = middle + 1;
      else high = middle;
    }
    this.buffer.splice(low, 0, event);
  }

  private releaseOldest(release: (event: SyscallEvent) => void): void {
    const event = this.buffer[this.head] as SyscallEvent;
    this.head += 1;
    if (event.time > this.lastReleased) this.lastReleased = event.time;
    release(event);
  }
}
