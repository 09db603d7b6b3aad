/**
 * EventStore: the monitor's SQLite persistence (events, alerts, per-executable baselines, source
 * checkpoints).
 *
 * API (for the pipeline and reviewers):
 *   const store = EventStore.open(file)                // ':memory:' for tests; WAL mode for files
 *   store.commitBatch({ events, alerts, checkpoint })  // ONE transaction: rows + the source's new position
 *   store.loadCheckpoint(name)                         // the last committed position (JSON value) or undefined
 *   store.countEvents() / store.countAlerts() / store.alertCountsByRule()
 *   store.saveBaseline(exe, json) / store.loadBaselines()
 *   store.prune(now, { eventsDays, alertsDays })       // retention
 *   store.close()
 *
 * The store is the lowest room: it knows nothing of SyscallEvent or Alert. Callers map their records to
 * the row shapes below (src/monitor/outputs/store-rows.ts does it for the monitor). Committing the
 * checkpoint in the same transaction as the rows is what makes a restart lose nothing and store nothing
 * twice: either both the events and the position after them are durable, or neither is.
 */
import { openSqlite, type SqliteDatabase, type Statement } from './sqlite.js';

/** One event row; `json` is the full record (the caller's lossless serialisation). */
export interface StoredEvent {
  readonly time: number;
  readonly host: string;
  readonly source: string;
  readonly serial?: number;
  readonly pid: number;
  readonly exe?: string;
  readonly container?: string;
  /** Syscall name, or `nr:N` when unknown. */
  readonly syscall: string;
  /** How many calls the row stands for (eBPF aggregates); 1 for audit. */
  readonly count: number;
  readonly json: string;
}

/** One alert row; `json` is the full alert. */
export interface StoredAlert {
  readonly time: number;
  readonly rule: string;
  readonly severity: string;
  readonly host: string;
  readonly pid: number;
  readonly exe: string;
  readonly container: string;
  readonly response: string;
  readonly json: string;
}

/** A source's resume position; `value` is opaque to the store (the source parses and validates it). */
export interface StoredCheckpoint {
  readonly name: string;
  readonly value: unknown;
}

/** What one transaction writes. */
export interface StoreBatch {
  readonly events?: readonly StoredEvent[];
  readonly alerts?: readonly StoredAlert[];
  readonly checkpoint?: StoredCheckpoint;
}

/** Retention windows, in days; a window of 0 or less keeps everything of that kind. */
export interface RetentionPolicy {
  readonly eventsDays: number;
  readonly alertsDays: number;
}

/** How many rows a prune removed. */
export interface PruneResult {
  readonly events: number;
  readonly alerts: number;
}

/** The schema version this code writes; an older file is migrated, a newer one refused. */
const SCHEMA_VERSION = 1;

const DAY_MS = 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  host TEXT NOT NULL,
  source TEXT NOT NULL,
  serial INTEGER,
  pid INTEGER NOT NULL,
  exe TEXT,
  container TEXT,
  syscall TEXT NOT NULL,
  count INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  exe TEXT NOT NULL,
  container TEXT NOT NULL,
  response TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule);
CREATE TABLE IF NOT EXISTS baselines (
  exe TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  name TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  updated INTEGER NOT NULL
);
`;

/** Raised when a database file cannot be used (newer schema, not a sysfence store). */
export class StoreError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'StoreError';
  }
}

interface Statements {
  readonly insertEvent: Statement;
  readonly insertAlert: Statement;
  readonly upsertCheckpoint: Statement;
  readonly selectCheckpoint: Statement;
  readonly upsertBaseline: Statement;
  readonly selectBaselines: Statement;
  readonly countEvents: Statement;
  readonly countAlerts: Statement;
  readonly alertsByRule: Statement;
  readonly pruneEvents: Statement;
  readonly pruneAlerts: Statement;
}

function prepareStatements(db: SqliteDatabase): Statements {
  return {
    insertEvent: db.prepare(
      'INSERT INTO events (time, host, source, serial, pid, exe, container, syscall, count, json) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertAlert: db.prepare(
      'INSERT INTO alerts (time, rule, severity, host, pid, exe, container, response, json) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    upsertCheckpoint: db.prepare(
      'INSERT INTO checkpoints (name, json, updated) VALUES (?, ?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET json = excluded.json, updated = excluded.updated',
    ),
    selectCheckpoint: db.prepare('SELECT json FROM checkpoints WHERE name = ?'),
    upsertBaseline: db.prepare(
      'INSERT INTO baselines (exe, json, updated) VALUES (?, ?, ?) ' +
        'ON CONFLICT (exe) DO UPDATE SET json = excluded.json, updated = excluded.updated',
    ),
    selectBaselines: db.prepare('SELECT exe, json FROM baselines ORDER BY exe'),
    countEvents: db.prepare('SELECT count(*) AS n FROM events'),
    countAlerts: db.prepare('SELECT count(*) AS n FROM alerts'),
    alertsByRule: db.prepare('SELECT rule, count(*) AS n FROM alerts GROUP BY rule ORDER BY rule'),
    pruneEvents: db.prepare('DELETE FROM events WHERE time < ?'),
    pruneAlerts: db.prepare('DELETE FROM alerts WHERE time < ?'),
  };
}

/** Reads `SELECT count(*) AS n` results without trusting the driver's row type. */
function countOf(row: unknown): number {
  const n = (row as { n?: unknown } | undefined)?.n;
  return typeof n === 'number' ? n : 0;
}

/** Creates or checks the schema; refuses a file written by a newer sysfence (fail closed). */
function migrate(db: SqliteDatabase, file: string): void {
  const version = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new StoreError(file, 'cannot read the schema version');
  if (version > SCHEMA_VERSION) {
    throw new StoreError(file, `schema version ${version} is newer than this sysfence (${SCHEMA_VERSION})`);
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/** SQLite persistence for the monitor. One instance per process; not shared across threads. */
export class EventStore {
  private readonly statements: Statements;
  private readonly writeBatch: (batch: StoreBatch, now: number) => void;

  private constructor(
    private readonly db: SqliteDatabase,
    readonly file: string,
  ) {
    migrate(db, file);
    this.statements = prepareStatements(db);
    this.writeBatch = db.transaction((batch: StoreBatch, now: number) => this.writeRows(batch, now));
  }

  /** Opens (creating) the store at `file`; files use WAL so readers do not block the writer. */
  static open(file: string): EventStore {
    const db = openSqlite(file);
    try {
      if (file !== ':memory:') {
        db.pragma('journal_mode = WAL');
        // NORMAL in WAL mode is durable across process crashes (the case the checkpoint guards);
        // only a power loss can roll back the last transactions, never corrupt the file.
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('busy_timeout = 5000');
      return new EventStore(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Writes events, alerts and the checkpoint after them in one transaction: all or nothing. */
  commitBatch(batch: StoreBatch, now: number = Date.now()): void {
    this.writeBatch(batch, now);
  }

  private writeRows(batch: StoreBatch, now: number): void {
    const { insertEvent, insertAlert, upsertCheckpoint } = this.statements;
    for (const e of batch.events ?? []) {
      insertEvent.run(
        e.time,
        e.host,
        e.source,
        e.serial ?? null,
        e.pid,
        e.exe ?? null,
        e.container ?? null,
        e.syscall,
        e.count,
        e.json,
      );
    }
    for (const a of batch.alerts ?? []) {
      insertAlert.run(a.time, a.rule, a.severity, a.host, a.pid, a.exe, a.container, a.response, a.json);
    }
    if (batch.checkpoint !== undefined) {
      upsertCheckpoint.run(batch.checkpoint.name, JSON.stringify(batch.checkpoint.value), now);
    }
  }

  /** The last committed checkpoint of the named source, as the JSON value it was saved with. */
  loadCheckpoint(name: string): unknown {
    const row = this.statements.selectCheckpoint.get(name) as { json: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as unknown);
  }

  /** Stores (replacing) the baseline of one executable. */
  saveBaseline(exe: string, json: string, now: number = Date.now()): void {
    this.statements.upsertBaseline.run(exe, json, now);
  }

  /** Every stored baseline: executable path → its JSON blob. */
  loadBaselines(): Map<string, string> {
    const rows = this.statements.selectBaselines.all() as { exe: string; json: string }[];
    return new Map(rows.map((row) => [row.exe, row.json]));
  }

  /** Number of stored event rows. */
  countEvents(): number {
    return countOf(this.statements.countEvents.get());
  }

  /** Number of stored alerts. */
  countAlerts(): number {
    return countOf(this.statements.countAlerts.get());
  }

  /** Alerts per rule id, sorted by rule. */
  alertCountsByRule(): Map<string, number> {
    const rows = this.statements.alertsByRule.all() as { rule: string; n: number }[];
    return new Map(rows.map((row) => [row.rule, row.n]));
  }

  /** Deletes events and alerts older than the retention windows, counted back from `now` (ms). */
  prune(now: number, retention: RetentionPolicy): PruneResult {
    const cut = (days: number, statement: Statement): number =>
      days > 0 ? statement.run(now - days * DAY_MS).changes : 0;
    return this.db.transaction(() => ({
      events: cut(retention.eventsDays, this.statements.pruneEvents),
      alerts: cut(retention.alertsDays, this.statements.pruneAlerts),
    }))();
  }

  /** Closes the connection (checkpointing the WAL). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
