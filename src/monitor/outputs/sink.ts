/**
 * AlertSink: what every alert output implements (JSON lines, webhook, syslog; the store has its own
 * batch API). The pipeline calls `emit` for each alert, in order, and `close` once at shutdown; `close`
 * flushes what is queued (bounded by the sink's own timeouts) and releases sockets and files.
 *
 * An `emit` never throws for a transport failure: sinks count failures and drops in their `stats()`
 * so that a dead webhook cannot stop the monitor (drops are counted, never hidden).
 */
import type { Alert } from '../alert.js';

export interface AlertSink {
  /** Hands one alert to the output; may resolve once it is written (stdout, file) or only queued. */
  emit(alert: Alert): void | Promise<void>;
  /** Flushes and releases the output. */
  close(): Promise<void>;
}

/** Delivery counters every network sink reports. */
export interface SinkStats {
  /** Alerts delivered. */
  sent: number;
  /** Alerts given up on: queue full, or every retry failed. */
  dropped: number;
  /** Failed attempts (each retry counts). */
  failures: number;
}

/** Fresh, zeroed sink counters. */
export function emptySinkStats(): SinkStats {
  return { sent: 0, dropped: 0, failures: 0 };
}
