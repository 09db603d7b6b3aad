/** The pipeline's accounting: drops, losses and late events are counted and reported, never hidden. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { Alert } from '../../src/monitor/alert.js';
import { EventQueue } from '../../src/monitor/event-queue.js';
import { fileInput } from '../../src/monitor/json-input.js';
import { MonitorPipeline, type EventInput } from '../../src/monitor/pipeline.js';
import { ProcessIdentities } from '../../src/monitor/process-identity.js';
import { ReorderBuffer } from '../../src/monitor/reorder.js';
import { parseMonitorConfig } from '../../src/monitor/rules/config.js';
import { emptySourceStats, eventToJson, type SyscallEvent } from '../../src/sources/event.js';
import { FIXTURE_DIR } from '../fixtures/monitor/make-traces.js';
import { POLICY_PATH, readTrace, syscallEvent } from './support.js';

const T0 = Date.UTC(2026, 0, 15, 12);

/** A live input that hands over `events` in one synchronous burst per chunk (faster than any consumer). */
function burstInput(events: readonly SyscallEvent[], lostAfter?: number): EventInput {
  const stats = emptySourceStats();
  return {
    name: 'burst',
    live: true,
    stats,
    events: () => ({
      [Symbol.asyncIterator]: () => {
        let index = 0;
        return {
          next: () => {
            const event = events[index++];
            if (lostAfter !== undefined && index === lostAfter) stats.lost += 7;
            return Promise.resolve(
              event === undefined ? { done: true, value: undefined } : { done: false, value: event },
            );
          },
        };
      },
    }),
  };
}

function pipelineFor(config = parseMonitorConfig('', 'r.yaml'), alerts: Alert[] = []): MonitorPipeline {
  return new MonitorPipeline({
    config,
    identities: new ProcessIdentities(() => undefined),
    sinks: [{ emit: (alert) => void alerts.push(alert), close: () => Promise.resolve() }],
  });
}

test('EventQueue: bounded; offer refuses when full, put waits for room', async () => {
  const queue = new EventQueue(2);
  const event = syscallEvent({ pid: 1, syscall: 'read', time: T0 });
  assert.equal(queue.offer(event), true);
  assert.equal(queue.offer(event), true);
  assert.equal(queue.offer(event), false);
  let stored = false;
  const waiting = queue.put(event).then(() => (stored = true));
  await sleep(5);
  assert.equal(stored, false);
  queue.take();
  await waiting;
  assert.equal(queue.length, 2);
});

test('ReorderBuffer: releases in time order, counts events older than one already released', () => {
  const buffer = new ReorderBuffer(1000, 3);
  const released: number[] = [];
  const at = (time: number) => syscallEvent({ pid: 1, syscall: 'read', time });
  for (const time of [T0 + 500, T0, T0 + 300, T0 + 2000, T0 + 100])
    buffer.push(at(time), (e) => released.push(e.time - T0));
  buffer.flush((e) => released.push(e.time - T0));
  assert.deepEqual(released, [0, 300, 500, 100, 2000]);
  assert.equal(buffer.late, 1);
});

test('a live input outpacing a slow sink: drops are counted, the summary adds up, alerts say incomplete', async () => {
  const config = parseMonitorConfig(
    'pipeline: { queueCapacity: 4 }\nrules:\n  rate-breaker: { threshold: 1 }\n',
    'r.yaml',
  );
  const alerts: Alert[] = [];
  const pipeline = new MonitorPipeline({
    config,
    identities: new ProcessIdentities(() => undefined),
    // A sink as slow as a webhook: while the rules wait for it, the source keeps producing.
    sinks: [
      { emit: async (alert) => void alerts.push(await sleep(2, alert)), close: () => Promise.resolve() },
    ],
  });
  const events = readTrace('attack-rate');
  const stats = emptySourceStats();
  // Bursts of 20 events, 20 ms apart: each burst overflows the queue while the sink is busy.
  const bursty: EventInput = {
    name: 'bursty',
    live: true,
    stats,
    async *events() {
      for (let index = 0; index < events.length; index++) {
        if (index % 20 === 0) await sleep(20);
        yield events[index] as SyscallEvent;
      }
    },
  };
  const summary = await pipeline.run([bursty]);
  assert.equal(summary.eventsIn, events.length);
  assert.ok(summary.dropped > 0, 'the burst overflowed the 4-event queue');
  assert.equal(summary.processed + summary.dropped, summary.eventsIn);
  assert.ok(
    alerts.some((alert) => !alert.complete),
    'alerts raised after drops in their window are incomplete',
  );
  assert.equal(alerts[0]?.complete, true, 'the first alert came before any drop');
});

test("a source's lost events make alerts within the rule's window incomplete, and only those", async () => {
  const alerts: Alert[] = [];
  const clock = readTrace('attack-clock');
  const late = clock.map((event) => ({ ...event, time: event.time + 600_000 }));
  // 7 events lost just after the first clock trace: its alerts are complete, the later ones are not.
  const summary = await pipelineFor(undefined, alerts).run([
    burstInput([...clock, ...late], clock.length + 1),
  ]);
  assert.equal(summary.lost, 7);
  assert.deepEqual(
    alerts.map((alert) => alert.complete),
    [true, true, false, false],
  );
});

test('jsonl file input: malformed lines are counted with their place; follow reads appended lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-monitor-'));
  const path = join(dir, 'events.jsonl');
  const [first, second] = readTrace('attack-clock');
  writeFileSync(path, `${eventToJson(first as SyscallEvent)}\nnot json\n{"source":"audit"}\n`);
  const finite = fileInput(path, false);
  const read: SyscallEvent[] = [];
  for await (const event of finite.events()) read.push(event);
  assert.equal(read.length, 1);
  assert.equal(finite.stats.malformed, 2);
  assert.match(finite.stats.problems[0]?.where ?? '', /events\.jsonl:2$/);

  const abort = new AbortController();
  const following = fileInput(path, true, abort.signal);
  const seen: SyscallEvent[] = [];
  const reading = (async () => {
    for await (const event of following.events()) seen.push(event);
  })();
  await sleep(100);
  appendFileSync(path, `${eventToJson(second as SyscallEvent)}\n`);
  const deadline = Date.now() + 3000;
  while (seen.length < 2 && Date.now() < deadline) await sleep(50);
  abort.abort();
  await reading;
  assert.deepEqual(seen, [first, second]);
});

test('sysfence monitor replays a file with --no-follow: alerts on stdout, summary on stderr, exit 1', async () => {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (text: string) => void (stdout += text),
    stderr: (text: string) => void (stderr += text),
  };
  const trace = join(FIXTURE_DIR, 'attack-clock.jsonl');
  const status = await main(
    ['monitor', '--policy', POLICY_PATH, '--source', `jsonl:${trace}`, '--no-follow'],
    io,
  );
  assert.equal(status, 1, stderr);
  const alerts = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Alert);
  assert.deepEqual(
    alerts.map((alert) => [alert.rule, alert.pid]),
    [
      ['time-tamper', 6000],
      ['time-tamper', 6001],
    ],
  );
  assert.match(stderr, /5 events in, 5 processed, 0 dropped, 0 lost, 0 malformed, 0 late/);
  assert.match(stderr, /2 alerts \(time-tamper 2\)/);

  stdout = '';
  const normal = join(FIXTURE_DIR, 'normal-cron-tz.jsonl');
  const output = join(mkdtempSync(join(tmpdir(), 'sysfence-monitor-')), 'alerts.jsonl');
  assert.equal(
    await main(
      ['monitor', '--policy', POLICY_PATH, '--source', `jsonl:${normal}`, '--no-follow', '--output', output],
      io,
    ),
    0,
  );
  assert.equal(stdout, '');
  assert.equal(readFileSync(output, 'utf8'), '');
});

test('sysfence monitor: bad usage and a bad rules file exit 2 with the place of the mistake', async () => {
  let stderr = '';
  const io = { stdout: () => undefined, stderr: (text: string) => void (stderr += text) };
  assert.equal(await main(['monitor', '--policy', POLICY_PATH], io), 2);
  assert.match(stderr, /missing --source/);
  const rules = join(mkdtempSync(join(tmpdir(), 'sysfence-monitor-')), 'rules.yaml');
  writeFileSync(rules, 'rules:\n  rate-breaker: { threshold: -1 }\n');
  stderr = '';
  assert.equal(
    await main(['monitor', '--policy', POLICY_PATH, '--rules', rules, '--source', 'stdin'], io),
    2,
  );
  assert.match(stderr, /rules\.yaml:2:30: error: threshold must be an integer/);
  stderr = '';
  assert.equal(await main(['monitor', '--policy', POLICY_PATH, '--source', 'kafka:x'], io), 2);
  assert.match(stderr, /unknown --source 'kafka:x'/);
});
