/**
 * The audit log as a monitor input: auditd's log tailed across rotation (AuditTail) and parsed
 * (AuditParser), in batches. With a store, each batch's events are stored together with the tail's
 * checkpoint in one transaction before the rules see them, so a restarted monitor resumes exactly after
 * the last stored event: nothing lost, nothing stored twice.
 */
import { AuditParser } from '../sources/audit.js';
import { AuditTail, parseTailCheckpoint, tailCheckpointName, type TailStats } from '../sources/audit-tail.js';
import { emptySourceStats } from '../sources/event.js';
import type { EventStore } from '../store/event-store.js';
import { eventToStoredRow } from './outputs/store-rows.js';
import type { EventInput } from './pipeline.js';

export interface AuditInputOptions {
  readonly path: string;
  /** Keep reading what auditd appends (and follow rotations) until `signal` aborts. */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  /** Stores events with the tail's checkpoint; resumes from the stored checkpoint. */
  readonly store?: EventStore;
  /** Host for records without `node=`. */
  readonly host?: string;
}

/** An EventInput reading auditd's log; `tailStats` counts rotations, truncations and serial resets. */
export function auditInput(options: AuditInputOptions): EventInput & { readonly tailStats: TailStats } {
  const stats = emptySourceStats();
  const name = tailCheckpointName(options.path);
  // The monitor's events can freeze and kill: only auditd's own records (the parser's default).
  const parser = new AuditParser(stats, {
    file: options.path,
    ...(options.host === undefined ? {} : { host: options.host }),
  });
  const checkpoint =
    options.store === undefined ? undefined : parseTailCheckpoint(options.store.loadCheckpoint(name), name);
  const tail = new AuditTail({
    path: options.path,
    consumer: parser,
    stats,
    follow: options.follow,
    ...(checkpoint === undefined ? {} : { checkpoint }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const store = options.store;
  return {
    name: `audit:${options.path}`,
    live: options.follow,
    stats,
    tailStats: tail.stats,
    async *events() {
      for await (const batch of tail.batches()) {
        store?.commitBatch({
          events: batch.events.map(eventToStoredRow),
          checkpoint: { name, value: batch.checkpoint },
        });
        yield batch.events;
      }
    },
  };
}
