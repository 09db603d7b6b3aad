/**
 * The monitor's link to the SQLite store: events are written in batches (one transaction per batch, the
 * only way SQLite keeps up with an event stream), alerts as soon as they are raised (with the events
 * batched so far, so an alert is never stored before the events behind it).
 */
import type { EventStore, StoredAlert, StoredEvent } from '../store/event-store.js';
import type { SyscallEvent } from '../sources/event.js';
import type { Alert } from './alert.js';
import { alertToStoredRow, eventToStoredRow } from './outputs/store-rows.js';
import type { AlertSink } from './outputs/sink.js';
import type { EventRecorder } from './pipeline.js';

const DEFAULT_BATCH = 2000;

export class StoreRecorder implements EventRecorder, AlertSink {
  private events: StoredEvent[] = [];
  private alerts: StoredAlert[] = [];
  /** Rows committed so far. */
  committedEvents = 0;

  constructor(
    private readonly store: EventStore,
    private readonly batchSize = DEFAULT_BATCH,
  ) {}

  record(event: SyscallEvent): void {
    this.events.push(eventToStoredRow(event));
    if (this.events.length >= this.batchSize) this.flush();
  }

  emit(alert: Alert): void {
    this.alerts.push(alertToStoredRow(alert));
    this.flush();
  }

  /** Commits what is batched, in one transaction. */
  flush(): void {
    if (this.events.length === 0 && this.alerts.length === 0) return;
    this.store.commitBatch({ events: this.events, alerts: this.alerts });
    this.committedEvents += this.events.length;
    this.events = [];
    this.alerts = [];
  }

  /** Commits the rest; the store itself is closed by its owner. */
  close(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}
