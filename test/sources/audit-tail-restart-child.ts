/**
 * The monitor's ingest loop at the tail's level, for the restart test: tails LOG into the SQLite store DB,
 * committing each batch's events with the checkpoint after them in one transaction, resuming from the
 * stored checkpoint. Usage: node --import tsx audit-tail-restart-child.ts LOG DB follow|no-follow
 */
import { alertToStoredRow, eventToStoredRow } from '../../src/monitor/outputs/store-rows.js';
import { AuditParser } from '../../src/sources/audit.js';
import { AuditTail, parseTailCheckpoint, tailCheckpointName } from '../../src/sources/audit-tail.js';
import { emptySourceStats } from '../../src/sources/event.js';
import { EventStore } from '../../src/store/event-store.js';

const [log, db, mode] = process.argv.slice(2);
if (log === undefined || db === undefined || (mode !== 'follow' && mode !== 'no-follow')) {
  throw new Error('usage: audit-tail-restart-child.ts LOG DB follow|no-follow');
}
void alertToStoredRow; // alerts are not raised here; the import keeps both mappings in one place

const store = EventStore.open(db);
const name = tailCheckpointName(log);
const stats = emptySourceStats();
const tail = new AuditTail({
  path: log,
  stats,
  consumer: new AuditParser(stats, { file: log }),
  checkpoint: parseTailCheckpoint(store.loadCheckpoint(name), `${db}: ${name}`),
  follow: mode === 'follow',
  fromStart: true,
  pollMs: 20,
  idleFlushMs: 50,
  maxBatchEvents: 500,
});
for await (const batch of tail.batches()) {
  store.commitBatch({
    events: batch.events.map(eventToStoredRow),
    checkpoint: { name, value: batch.checkpoint },
  });
}
store.close();
process.stdout.write(`${JSON.stringify({ stats, tail: tail.stats })}\n`);
