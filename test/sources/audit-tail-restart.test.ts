import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../../src/store/sqlite.js';
import { auditText } from './audit-tail-lines.js';

const CHILD = new URL('./audit-tail-restart-child.ts', import.meta.url).pathname;

function startChild(log: string, db: string, mode: 'follow' | 'no-follow'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, log, db, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Stored rows and distinct serials, read beside the writer (WAL lets a reader in). */
function storedCounts(db: string): { rows: number; serials: number } {
  try {
    const connection = openSqlite(db);
    try {
      const row = connection
        .prepare('SELECT count(*) AS rows, count(DISTINCT serial) AS serials FROM events')
        .get();
      return row as { rows: number; serials: number };
    } finally {
      connection.close();
    }
  } catch {
    return { rows: 0, serials: 0 }; // not created yet
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Appends events first … first+count-1 in small writes, as auditd does. */
async function writeSlowly(log: string, first: number, count: number): Promise<void> {
  for (let serial = first; serial < first + count; serial += 250) {
    appendFileSync(log, auditText(serial, Math.min(250, first + count - serial)));
    await sleep(2);
  }
}

/** SIGKILLs the child once it has stored at least `rows` events (mid-stream: the writer is still going). */
async function killAfter(child: ChildProcess, db: string, rows: number): Promise<void> {
  while (storedCounts(db).rows < rows) await sleep(5);
  child.kill('SIGKILL');
  assert.equal((await exited(child)).signal, 'SIGKILL');
}

test(
  'SIGKILLed twice mid-stream, rotated while down: stored counts equal the true counts',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sysfence-restart-'));
    const log = join(dir, 'audit.log');
    const db = join(dir, 'monitor.db');
    try {
      writeFileSync(log, '');
      // Run 1: follows while events arrive; killed mid-stream.
      const first = startChild(log, db, 'follow');
      const writing = writeSlowly(log, 1, 10_000);
      await killAfter(first, db, 2_000);
      await writing;
      const afterFirst = storedCounts(db).rows;
      // While down: more events, then auditd rotates audit.log → audit.log.1 and starts a new file.
      appendFileSync(log, auditText(10_001, 3_000));
      renameSync(log, `${log}.1`);
      writeFileSync(log, auditText(13_001, 4_000));
      // Run 2: resumes in audit.log.1, then the new file, while more arrives; killed mid-stream again.
      const second = startChild(log, db, 'follow');
      const moreWriting = writeSlowly(log, 17_001, 8_000);
      await killAfter(second, db, afterFirst + 5_000);
      await moreWriting;
      // Run 3: --no-follow reads to the end and stops.
      const last = startChild(log, db, 'no-follow');
      let output = '';
      last.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      assert.deepEqual(await exited(last), { code: 0, signal: null });
      const report = JSON.parse(output) as {
        stats: { malformed: number };
        tail: { checkpointMissing: number };
      };
      assert.equal(report.tail.checkpointMissing, 0);
      assert.equal(report.stats.malformed, 0);
      assert.deepEqual(storedCounts(db), { rows: 25_000, serials: 25_000 }, 'no loss, no duplicates');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
