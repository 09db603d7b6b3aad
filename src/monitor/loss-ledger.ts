/**
 * When events went missing: queue drops, the kernel's or transport's lost counts, unreadable records.
 * Kept as per-second counts over the longest rule window, so an alert can say whether its evidence is
 * complete: `complete: false` when anything was lost during the rule's window.
 */

export class LossLedger {
  private readonly seconds = new Map<number, number>();
  private newest = -Infinity;

  /** @param horizonMs how long marks are kept behind the newest one (the longest rule window). */
  constructor(private readonly horizonMs: number) {}

  /** Records `count` events missing at (about) `time`. */
  record(time: number, count: number): void {
    if (count <= 0) return;
    const second = Math.floor(time / 1000);
    this.seconds.set(second, (this.seconds.get(second) ?? 0) + count);
    if (time > this.newest) {
      this.newest = time;
      this.prune();
    }
  }

  /** True when anything was lost between the two times (inclusive, at one-second granularity). */
  lostBetween(from: number, to: number): boolean {
    if (this.seconds.size === 0) return false;
    const first = Math.floor(from / 1000);
    const last = Math.floor(to / 1000);
    for (const second of this.seconds.keys()) {
      if (second >= first && second <= last) return true;
    }
    return false;
  }

  private prune(): void {
    const oldest = Math.floor((this.newest - this.horizonMs) / 1000) - 1;
    for (const second of this.seconds.keys()) {
      if (second < oldest) this.seconds.delete(second);
    }
  }
}
