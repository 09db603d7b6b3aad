/**
 * Replays of recorded normal and attack traces (test/fixtures/monitor, made by make-traces.ts) through
 * the whole pipeline: each gives exactly the expected alerts (rule ids and pids), normal traces none,
 * and events shuffled within the reorder window give the same alerts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXPECTED_ALERTS, FIXTURE_DIR, traceText, TRACES } from '../fixtures/monitor/make-traces.js';
import { alertKeys, readTrace, replay, shuffleLocally } from './support.js';

const EXPECTED = Object.entries(EXPECTED_ALERTS);

test('the committed fixtures are what make-traces.ts generates', () => {
  for (const name of Object.keys(TRACES)) {
    const committed = readFileSync(join(FIXTURE_DIR, `${name}.jsonl`), 'utf8');
    assert.equal(committed, traceText(name), `${name}.jsonl is stale: run make-traces.ts`);
  }
});

for (const [name, expected] of EXPECTED) {
  test(`${name}: exactly ${expected.length === 0 ? 'no alerts' : expected.map(([rule, pid]) => `${rule}@${pid}`).join(', ')}`, async () => {
    const { alerts, summary } = await replay(readTrace(name));
    assert.deepEqual(
      alertKeys(alerts),
      [...expected].map(([rule, pid]) => [rule, pid]),
    );
    assert.equal(summary.dropped, 0);
    assert.equal(summary.late, 0);
    assert.equal(summary.processed, summary.eventsIn);
    for (const alert of alerts) {
      assert.equal(alert.complete, true);
      assert.equal(alert.response, 'alert');
      assert.equal(alert.host, 'web-1');
    }
  });
}

test('events out of order within the reorder window are put back in order and still detected', async () => {
  for (const [name, expected] of EXPECTED) {
    const original = readTrace(name);
    const shuffled = shuffleLocally(original, 1000);
    assert.notDeepEqual(shuffled, original, `${name}: the shuffle must change the order`);
    const { alerts } = await replay(shuffled);
    assert.deepEqual(
      alertKeys(alerts),
      [...expected].map(([rule, pid]) => [rule, pid]),
      name,
    );
  }
});

test('alert fields name the process, the rule and the evidence', async () => {
  const { alerts } = await replay(readTrace('attack-log4shell'));
  const [alert] = alerts;
  assert.ok(alert !== undefined);
  assert.equal(alert.exe, '/usr/bin/bash');
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.details['spawnerPid'], 3000);
  assert.equal(alert.details['spawner'], '/usr/lib/jvm/java-17-openjdk-amd64/bin/java');
  const rate = (await replay(readTrace('attack-rate'))).alerts[0];
  assert.equal(rate?.details['count'], 51);
  assert.deepEqual(rate?.details['syscalls'], ['keyctl']);
  const burst = (await replay(readTrace('attack-miner'))).alerts[0];
  assert.equal(burst?.exe, '/usr/bin/bash');
});
