import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditParser } from '../../src/sources/audit.js';
import {
  AuditTail,
  MAX_LINE_BYTES,
  parseTailCheckpoint,
  type AuditTailOptions,
  type TailCheckpoint,
} from '../../src/sources/audit-tail.js';
import { emptySourceStats, type SourceStats } from '../../src/sources/event.js';
import { auditText } from './audit-tail-lines.js';

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

async function withLogDir(body: (log: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-tail-'));
  try {
    await body(join(dir, 'audit.log'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Run {
  serials: number[];
  checkpoint: TailCheckpoint | undefined;
  tail: AuditTail;
  stats: SourceStats;
}

/** Reads with --no-follow from `checkpoint`, collecting event serials (pids) and the last checkpoint. */
async function readOnce(
  log: string,
  checkpoint?: TailCheckpoint,
  extra: Partial<AuditTailOptions> = {},
): Promise<Run> {
  const stats = emptySourceStats();
  const tail = new AuditTail({
    path: log,
    stats,
    consumer: new AuditParser(stats, { file: log }),
    checkpoint,
    follow: false,
    ...extra,
  });
  const run: Run = { serials: [], checkpoint, tail, stats };
  for await (const batch of tail.batches()) {
    run.serials.push(...batch.events.map((event) => event.pid));
    run.checkpoint = batch.checkpoint;
  }
  return run;
}

test('--no-follow reads every event of the file, single- and multi-record, and checkpoints its end', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 50));
    const run = await readOnce(log);
    assert.deepEqual(run.serials, range(1, 50));
    assert.equal(run.checkpoint?.offset, statSync(log).size);
    assert.equal(run.checkpoint?.inode, String(statSync(log).ino));
    assert.equal(run.checkpoint?.serial, 50);
    assert.equal(run.checkpoint?.line, 25 + 25 * 3);
    assert.equal(run.stats.malformed, 0);
  });
});

test('resuming from a checkpoint reads only what came after it, even when it ended mid-event', async () => {
  await withLogDir(async (log) => {
    const full = auditText(1, 40) + auditText(41, 1);
    const cut = full.length - 20; // the last event's EOE line is not yet written
    writeFileSync(log, full.slice(0, cut).replace(/[^\n]*$/, '')); // only whole lines
    const first = await readOnce(log);
    appendFileSync(log, full.slice(statSync(log).size) + auditText(42, 9));
    const second = await readOnce(log, first.checkpoint);
    assert.deepEqual([...first.serials, ...second.serials], range(1, 50), 'no loss, no duplicate');
  });
});

test('an unterminated last line is left for the next run and reported', async () => {
  await withLogDir(async (log) => {
    const text = auditText(1, 4); // event 4 is one SECCOMP line
    writeFileSync(log, text.slice(0, -30));
    const first = await readOnce(log);
    assert.deepEqual(first.serials, [1, 2, 3]);
    assert.match(first.stats.problems[0]?.reason ?? '', /no newline/);
    appendFileSync(log, text.slice(-30));
    assert.deepEqual((await readOnce(log, first.checkpoint)).serials, [4]);
  });
});

test('a file rotated while the tail was down is finished first, then the new one is read', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 10));
    const first = await readOnce(log);
    appendFileSync(log, auditText(11, 5)); // written after the checkpoint, before rotation
    renameSync(log, `${log}.1`);
    writeFileSync(log, auditText(16, 5));
    const second = await readOnce(log, first.checkpoint);
    assert.deepEqual(second.serials, range(11, 10));
    assert.equal(second.tail.stats.rotations, 1);
    assert.equal(second.checkpoint?.inode, String(statSync(log).ino));
  });
});

test('two rotations while down: .2 then .1 then the current file', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 4));
    const first = await readOnce(log);
    appendFileSync(log, auditText(5, 2));
    renameSync(log, `${log}.1`);
    writeFileSync(log, auditText(7, 2));
    renameSync(`${log}.1`, `${log}.2`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, auditText(9, 2));
    const second = await readOnce(log, first.checkpoint);
    assert.deepEqual(second.serials, range(5, 6));
    assert.equal(second.tail.stats.rotations, 2);
  });
});

test('a checkpoint whose file is gone restarts at the oldest file and says so', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 3));
    const run = await readOnce(log, { inode: '999999999', offset: 10, line: 1 });
    assert.deepEqual(run.serials, [1, 2, 3]);
    assert.equal(run.tail.stats.checkpointMissing, 1);
    assert.match(run.stats.problems[0]?.reason ?? '', /checkpoint file/);
  });
});

test('a checkpoint past the end of its file (truncated while down) restarts at 0', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 10));
    const first = await readOnce(log);
    writeFileSync(log, auditText(11, 2)); // same inode, shorter
    const second = await readOnce(log, first.checkpoint);
    assert.deepEqual(second.serials, [11, 12]);
    assert.equal(second.tail.stats.truncations, 1);
  });
});

/** Follows `log` until `expected` events arrived (or 5 s), calling `onBatch` as the events come in. */
async function follow(
  log: string,
  expected: number,
  onBatch: (seen: number) => void,
  idleFlushMs = 20,
): Promise<Run> {
  const stats = emptySourceStats();
  const stop = new AbortController();
  const tail = new AuditTail({
    path: log,
    stats,
    consumer: new AuditParser(stats, { file: log }),
    follow: true,
    fromStart: true,
    pollMs: 10,
    idleFlushMs,
    signal: stop.signal,
  });
  const run: Run = { serials: [], checkpoint: undefined, tail, stats };
  const timer = setTimeout(() => stop.abort(), 5000);
  for await (const batch of tail.batches()) {
    run.serials.push(...batch.events.map((event) => event.pid));
    run.checkpoint = batch.checkpoint;
    if (run.serials.length >= expected) stop.abort();
    else onBatch(run.serials.length);
  }
  clearTimeout(timer);
  return run;
}

test('following: rotation is detected by inode and the old file is read to its end first', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 5));
    let rotated = false;
    const run = await follow(log, 15, (seen) => {
      if (seen >= 5 && !rotated) {
        rotated = true;
        appendFileSync(log, auditText(6, 5)); // a last write the tail has not read yet
        renameSync(log, `${log}.1`);
        writeFileSync(log, auditText(11, 5));
      }
    });
    assert.deepEqual(run.serials, range(1, 15));
    assert.equal(run.tail.stats.rotations, 1);
    assert.equal(run.checkpoint?.inode, String(statSync(log).ino));
  });
});

test('following: a truncated file is read again from 0 and the truncation counted', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(1, 5));
    let truncated = false;
    const run = await follow(log, 8, (seen) => {
      if (seen >= 5 && !truncated) {
        truncated = true;
        truncateSync(log, 0);
        appendFileSync(log, auditText(6, 3));
      }
    });
    assert.deepEqual(run.serials, range(1, 8));
    assert.equal(run.tail.stats.truncations, 1);
  });
});

test('following: a single-record event at the end is flushed after the idle delay', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, auditText(2, 1)); // a SECCOMP record: no EOE ever follows it
    const run = await follow(log, 1, () => undefined);
    assert.deepEqual(run.serials, [2]);
  });
});

test('following: EOE ends an event at once, also in node= prefixed logs (no idle wait)', async () => {
  await withLogDir(async (log) => {
    const prefixed = auditText(3, 1).replace(/^type=/gm, 'node=web-1 type=');
    writeFileSync(log, prefixed);
    const started = Date.now();
    const run = await follow(log, 1, () => undefined, 60_000);
    assert.deepEqual(run.serials, [3]);
    assert.ok(Date.now() - started < 2000);
  });
});

test('serial resets are counted; small steps back and auditd DAEMON records are not', async () => {
  await withLogDir(async (log) => {
    const daemon = 'type=DAEMON_START msg=audit(1700000000.000:9238): op=start ver=3.0.9 res=success\n';
    writeFileSync(log, auditText(5000, 2) + auditText(4990, 2) + daemon + auditText(3, 2));
    const run = await readOnce(log);
    assert.equal(run.tail.stats.serialResets, 1, 'only 5001 → 3 is a reset');
    assert.deepEqual(run.serials, [5000, 5001, 4990, 4991, 3, 4]);
  });
});

test('an oversized line is skipped, counted, and the events around it are read', async () => {
  await withLogDir(async (log) => {
    writeFileSync(log, `${auditText(1, 1)}${'x'.repeat(MAX_LINE_BYTES * 3)}\n${auditText(2, 1)}`);
    const run = await readOnce(log);
    assert.deepEqual(run.serials, [1, 2]);
    assert.equal(run.tail.stats.oversizedLines, 1);
    assert.equal(run.stats.malformed, 1);
  });
});

test('parseTailCheckpoint accepts what the tail writes and refuses anything else', () => {
  assert.deepEqual(parseTailCheckpoint({ inode: '12', offset: 3, line: 1, serial: 9 }), {
    inode: '12',
    offset: 3,
    line: 1,
    serial: 9,
  });
  assert.equal(parseTailCheckpoint(undefined), undefined);
  assert.throws(() => parseTailCheckpoint({ inode: 12, offset: 3, line: 1 }), /inode/);
  assert.throws(() => parseTailCheckpoint({ inode: '12', offset: -1, line: 1 }), /offset/);
  assert.throws(() => parseTailCheckpoint('x'), /inode/);
});
