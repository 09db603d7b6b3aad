/**
 * `sysfence monitor` end to end with the outputs helpers built: the audit source with a SQLite state
 * (a second run resumes after what the first stored), the host identity for events that carry none,
 * and the Prometheus endpoint.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { runMonitor } from '../../src/monitor/runtime.js';
import type { Alert } from '../../src/monitor/alert.js';
import { EventStore } from '../../src/store/event-store.js';
import { auditText, AUDIT_TRACES, FIXTURE_DIR, TRACE_START } from '../fixtures/monitor/make-traces.js';
import { POLICY_PATH } from './support.js';

interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

async function monitor(args: readonly string[]): Promise<Captured> {
  const captured = { status: 0, stdout: '', stderr: '' };
  captured.status = await main(['monitor', '--policy', POLICY_PATH, ...args], {
    stdout: (text) => void (captured.stdout += text),
    stderr: (text) => void (captured.stderr += text),
  });
  return captured;
}

function alertsOf(stdout: string): Alert[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Alert);
}

test('the committed audit fixtures are what make-traces.ts generates', () => {
  for (const name of AUDIT_TRACES) {
    assert.equal(readFileSync(join(FIXTURE_DIR, `${name}.audit.log`), 'utf8'), auditText(name));
  }
});

test('audit source with --state-db: alerts once; a second run resumes after the stored events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-monitor-cli-'));
  const log = join(dir, 'audit.log');
  copyFileSync(join(FIXTURE_DIR, 'attack-clock.audit.log'), log);
  const db = join(dir, 'state.db');
  const first = await monitor(['--source', `audit:${log}`, '--no-follow', '--state-db', db]);
  assert.equal(first.status, 1, first.stderr);
  assert.deepEqual(
    alertsOf(first.stdout).map((alert) => [alert.rule, alert.pid, alert.exe]),
    [
      ['time-tamper', 6000, '/usr/bin/date'],
      ['time-tamper', 6001, '/dev/shm/chronyd'],
    ],
  );
  assert.match(first.stderr, /5 events in, 5 processed, 0 dropped, 0 lost, 0 malformed/);
  const second = await monitor(['--source', `audit:${log}`, '--no-follow', '--state-db', db]);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, '');
  assert.match(second.stderr, /0 events in/);
});

test('--retention: the state database deletes events and alerts older than the windows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-monitor-retention-'));
  const log = join(dir, 'audit.log');
  copyFileSync(join(FIXTURE_DIR, 'attack-clock.audit.log'), log);
  const db = join(dir, 'state.db');
  // The fixture's events happened in January 2026: older than a week, younger than ten years.
  const ageDays = (Date.now() - TRACE_START) / 86_400_000;
  assert.ok(ageDays > 7 && ageDays < 3650, 'fixture age fits the windows below');
  await monitor(['--source', `audit:${log}`, '--no-follow', '--state-db', db, '--retention', '3650,3650']);
  const counts = (): [number, number] => {
    const store = EventStore.open(db);
    try {
      return [store.countEvents(), store.countAlerts()];
    } finally {
      store.close();
    }
  };
  assert.deepEqual(counts(), [5, 2], 'within ten years: kept');
  await monitor(['--source', `audit:${log}`, '--no-follow', '--state-db', db, '--retention', '7,3650']);
  assert.deepEqual(counts(), [0, 2], 'events older than a week deleted at start; alerts kept');
  const bad = await monitor(['--source', `audit:${log}`, '--state-db', db, '--retention', '7']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--retention takes EVENTS_DAYS,ALERTS_DAYS/);
});

test('a normal audit log (cron at a time zone change) gives no alert', async () => {
  const result = await monitor([
    '--source',
    `audit:${join(FIXTURE_DIR, 'normal-cron-tz.audit.log')}`,
    '--no-follow',
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, '');
});

test('stdin source: events without a host get the static host identity', async () => {
  const events = readFileSync(join(FIXTURE_DIR, 'attack-ptrace.jsonl'), 'utf8').replaceAll(
    '"host":"web-1"',
    '"host":""',
  );
  // The installed binary runs dist/ (which tests must not build): main() gets the stream as process.stdin.
  const stdin = Readable.from([events]);
  const original = Object.getOwnPropertyDescriptor(process, 'stdin');
  Object.defineProperty(process, 'stdin', { value: stdin, configurable: true });
  try {
    const result = await monitor([
      '--source',
      'stdin',
      '--host-identity',
      'static:web-9,eu-west-1,eu-west-1a',
    ]);
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(
      alertsOf(result.stdout).map((alert) => [alert.rule, alert.pid, alert.host]),
      [['ptrace-inject', 5000, 'web-9']],
    );
  } finally {
    if (original !== undefined) Object.defineProperty(process, 'stdin', original);
  }
});

test('--metrics-port serves Prometheus counters while following a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-monitor-cli-'));
  const trace = join(dir, 'events.jsonl');
  copyFileSync(join(FIXTURE_DIR, 'attack-clock.jsonl'), trace);
  const port = 20_000 + (process.pid % 20_000);
  const abort = new AbortController();
  const alerts: string[] = [];
  const running = runMonitor({
    policyPath: POLICY_PATH,
    sources: [{ kind: 'jsonl', path: trace }],
    follow: true,
    metricsPort: port,
    writeAlert: (line) => void alerts.push(line),
    log: () => undefined,
    signal: abort.signal,
  });
  try {
    // The reorder buffer releases the tail of a followed file 2 s of event time later, so the two
    // alerts wait for newer events; the counters of events read do not.
    let text = '';
    for (let attempt = 0; attempt < 60 && !/^sysfence_events_total 5$/m.test(text); attempt++) {
      await sleep(100);
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (response) => response.text(),
        () => '',
      );
    }
    assert.match(text, /^sysfence_events_total 5$/m);
    assert.match(text, /^sysfence_events_dropped_total 0$/m);
  } finally {
    abort.abort();
  }
  const summary = await running;
  assert.equal(summary.alerts, 2);
  assert.equal(alerts.length, 2);
});
