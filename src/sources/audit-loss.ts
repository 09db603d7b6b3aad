/**
 * Audit's own loss signals → SourceStats.lost. Two kinds describe the same drops, so they are not added:
 *  - the kernel's cumulative counter (`audit: audit_lost=N ...` in kmsg, `lost=`/`audit_lost=` fields of
 *    CONFIG_CHANGE and DAEMON_* records): each rise counts; the first value seen counts in full (the
 *    drops happened before we could tell when — over-reporting a loss is safer than hiding one); a value
 *    below the last one means a reboot reset it, and counts in full again.
 *  - drop messages ("audit: backlog limit exceeded", "rate limit exceeded", "kauditd hold queue
 *    overflow", ...: one each; "kauditd_printk_skb: N callbacks suppressed": N), which the kernel prints
 *    beside the counter, rate-limited, so either kind can be missing.
 * stats.lost grows by the larger of the two totals. Serial gaps are not counted: every record type (and
 * records the rules filter out) takes a serial, so a gap is normal.
 */
import type { SourceStats } from './event.js';

export class AuditLossCounter {
  private lastCounter: number | undefined;
  private counterDrops = 0;
  private messageDrops = 0;
  private reported = 0;

  constructor(private readonly stats: SourceStats) {}

  /** A reading of the kernel's cumulative lost counter. */
  counter(total: number): void {
    const previous = this.lastCounter;
    this.counterDrops += previous === undefined || total < previous ? total : total - previous;
    this.lastCounter = total;
    this.report();
  }

  /** A message saying `drops` records were dropped. */
  messages(drops: number): void {
    this.messageDrops += drops;
    this.report();
  }

  private report(): void {
    const lost = Math.max(this.counterDrops, this.messageDrops);
    this.stats.lost += lost - this.reported;
    this.reported = lost;
  }
}
