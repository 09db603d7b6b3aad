/**
 * The bounded queue between the sources and the rules. A live source must never be slowed down (the
 * kernel would drop instead, silently): when the queue is full its events are dropped and counted by the
 * caller. A finite file may instead wait for room, losing nothing.
 */
import type { SyscallEvent } from '../sources/event.js';

export class EventQueue {
  private readonly ring: (SyscallEvent | undefined)[];
  private head = 0;
  private size = 0;
  private closed = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducers: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError('queue capacity must be at least 1');
    this.ring = new Array<SyscallEvent | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Adds the event if there is room; false (the caller counts a drop) when full. */
  offer(event: SyscallEvent): boolean {
    if (this.size === this.capacity) return false;
    this.ring[(this.head + this.size) % this.capacity] = event;
    this.size += 1;
    this.wake();
    return true;
  }

  /** Adds the event, waiting for room first (lossless; for finite inputs only). */
  async put(event: SyscallEvent): Promise<void> {
    while (!this.offer(event)) {
      await new Promise<void>((resolve) => this.wakeProducers.push(resolve));
    }
  }

  /** The oldest event, or undefined when empty. */
  take(): SyscallEvent | undefined {
    if (this.size === 0) return undefined;
    const event = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
    if (this.wakeProducers.length > 0) {
      const waiting = this.wakeProducers;
      this.wakeProducers = [];
      for (const resolve of waiting) resolve();
    }
    return event;
  }

  /** No more events will come; a waiting consumer wakes up to finish. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** True once closed and drained. */
  get finished(): boolean {
    return this.closed && this.size === 0;
  }

  /** Resolves when an event is available or the queue is closed. */
  waitForEvents(): Promise<void> {
    if (this.size > 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wakeConsumer = resolve;
    });
  }

  private wake(): void {
    const resolve = this.wakeConsumer;
    this.wakeConsumer = undefined;
    resolve?.();
  }
}
