/**
 * Bounded state for the monitor: every per-process or per-executable table has a size cap, so an attacker
 * spawning millions of pids cannot grow the monitor's memory without limit. Evictions are counted.
 */

/** A Map that forgets its least recently written entry when it would exceed `capacity`. */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** Entries forgotten because the map was full. */
  evicted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Stores the value as the most recent entry, evicting the oldest when full. */
  set(key: K, value: V): void {
    // Re-inserting moves the key to the end of the Map's insertion order, which is our recency order.
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
      this.evicted += 1;
    }
  }

  /** The stored value, or a new one from `create` (stored) when absent. */
  getOrCreate(key: K, create: () => V): V {
    const found = this.entries.get(key);
    if (found !== undefined) return found;
    const value = create();
    this.set(key, value);
    return value;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }
}

/**
 * A count over a sliding time window: samples (time, weight) older than `windowMs` before the newest
 * sample fall out. Samples must arrive in time order (the reorder buffer sees to that); a late sample is
 * kept, and falls out with the others.
 */
export class SlidingCount {
  private times: number[] = [];
  private weights: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(private readonly windowMs: number) {}

  /** Adds a sample and returns the window's total after dropping samples older than the window. */
  add(time: number, weight: number): number {
    this.times.push(time);
    this.weights.push(weight);
    this.sum += weight;
    this.expire(time);
    return this.sum;
  }

  get total(): number {
    return this.sum;
  }

  /** Forgets every sample (after an alert, so the next one needs a fresh burst). */
  clear(): void {
    this.times = [];
    this.weights = [];
    this.head = 0;
    this.sum = 0;
  }

  private expire(now: number): void {
    const oldest = now - this.windowMs;
    while (this.head < this.times.length && (this.times[this.head] as number) <= oldest) {
      this.sum -= this.weights[this.head] as number;
      this.head += 1;
    }
    // Compact occasionally so the arrays do not grow with the stream.
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.weights = this.weights.slice(this.head);
      this.head = 0;
    }
  }
}
