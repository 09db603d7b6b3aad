import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore, StoreError, type StoredAlert, type StoredEvent } from '../../src/store/event-store.js';
import { openSqlite } from '../../src/store/sqlite.js';

const DAY = 86_400_000;

function event(time: number, serial: number): StoredEvent {
  return {
    time,
    host: 'h1',
    source: 'audit',
    serial,
    pid: 100 + (serial % 7),
    exe: '/usr/bin/demo',
    syscall: 'openat',
    count: 1,
    json: `{"serial":${serial}}`,
  };
}

function alert(time: number, rule: string): StoredAlert {
  return {
    time,
    rule,
    severity: 'high',
    host: 'h1',
    pid: 1,
    exe: '/x',
    container: '',
    response: 'none',
    json: '{}',
  };
}

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-store-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('commitBatch writes events, alerts and the checkpoint; a reopened file keeps them', () => {
  withTempDir((dir) => {
    const file = join(dir, 'monitor.db');
    const store = EventStore.open(file);
    store.commitBatch({
      events: [event(1, 1), event(2, 2)],
      alerts: [alert(1, 'dropper-exec'), alert(2, 'dropper-exec'), alert(3, 'spawn-burst')],
      checkpoint: { name: 'audit:/var/log/audit/audit.log', value: { inode: '12', offset: 300, serial: 2 } },
    });
    store.close();
    const reopened = EventStore.open(file);
    assert.equal(reopened.countEvents(), 2);
    assert.equal(reopened.countAlerts(), 3);
    assert.deepEqual(
      [...reopened.alertCountsByRule()],
      [
        ['dropper-exec', 2],
        ['spawn-burst', 1],
      ],
    );
    assert.deepEqual(reopened.loadCheckpoint('audit:/var/log/audit/audit.log'), {
      inode: '12',
      offset: 300,
      serial: 2,
    });
    assert.equal(reopened.loadCheckpoint('other'), undefined);
    const journal = openSqlite(file);
    assert.equal(journal.pragma('journal_mode', { simple: true }), 'wal');
    journal.close();
    reopened.close();
  });
});

test('a failing batch leaves neither its rows nor its checkpoint behind', () => {
  const store = EventStore.open(':memory:');
  store.commitBatch({ events: [event(1, 1)], checkpoint: { name: 'src', value: { offset: 10 } } });
  const broken = { ...event(2, 2), pid: null as unknown as number }; // violates NOT NULL mid-batch
  assert.throws(() =>
    store.commitBatch({ events: [event(2, 2), broken], checkpoint: { name: 'src', value: { offset: 99 } } }),
  );
  assert.equal(store.countEvents(), 1);
  assert.deepEqual(store.loadCheckpoint('src'), { offset: 10 });
  store.close();
});

test('baselines are stored per executable and replaced on save', () => {
  const store = EventStore.open(':memory:');
  store.saveBaseline('/usr/bin/a', '{"v":1}');
  store.saveBaseline('/usr/bin/b', '{"v":2}');
  store.saveBaseline('/usr/bin/a', '{"v":3}');
  assert.deepEqual(
    [...store.loadBaselines()],
    [
      ['/usr/bin/a', '{"v":3}'],
      ['/usr/bin/b', '{"v":2}'],
    ],
  );
  store.close();
});

test('prune removes only rows older than each retention window', () => {
  const store = EventStore.open(':memory:');
  const now = 100 * DAY;
  store.commitBatch({
    events: [event(now - 10 * DAY, 1), event(now - 2 * DAY, 2), event(now, 3)],
    alerts: [alert(now - 40 * DAY, 'a'), alert(now - 10 * DAY, 'a')],
  });
  assert.deepEqual(store.prune(now, { eventsDays: 7, alertsDays: 30 }), { events: 1, alerts: 1 });
  assert.equal(store.countEvents(), 2);
  assert.equal(store.countAlerts(), 1);
  assert.deepEqual(
    store.prune(now, { eventsDays: 0, alertsDays: 0 }),
    { events: 0, alerts: 0 },
    '0 keeps all',
  );
  store.close();
});

test('a store written by a newer schema is refused', () => {
  withTempDir((dir) => {
    const file = join(dir, 'future.db');
    const db = openSqlite(file);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => EventStore.open(file), StoreError);
  });
});

test('commitBatch sustains more than 100k events per second on a WAL file', () => {
  withTempDir((dir) => {
    const store = EventStore.open(join(dir, 'bench.db'));
    const batchSize = 5_000;
    const batches = 40;
    const rows = Array.from({ length: batchSize }, (_, i) => event(1_700_000_000_000 + i, i));
    const started = process.hrtime.bigint();
    for (let i = 0; i < batches; i += 1) {
      store.commitBatch({ events: rows, checkpoint: { name: 'bench', value: { offset: i } } });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = (batchSize * batches) / seconds;
    console.log(
      `store: ${Math.round(rate)} events/s (${batchSize * batches} events in ${seconds.toFixed(2)} s)`,
    );
    assert.equal(store.countEvents(), batchSize * batches);
    assert.ok(rate > 100_000, `only ${Math.round(rate)} events/s`);
    store.close();
  });
});
