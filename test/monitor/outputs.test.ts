import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../../src/monitor/alert.js';
import { JsonLinesSink } from '../../src/monitor/outputs/json-lines.js';
import { MetricsRegistry, MonitorMetrics, serveMetrics } from '../../src/monitor/outputs/metrics.js';
import { alertToStoredRow, eventToStoredRow } from '../../src/monitor/outputs/store-rows.js';
import { formatSyslogMessage, SyslogSink } from '../../src/monitor/outputs/syslog.js';
import { backoffDelay, WebhookSink } from '../../src/monitor/outputs/webhook.js';
import { parseEventJson } from '../../src/sources/event.js';

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    time: Date.UTC(2026, 11, 4, 21, 0, 0, 123),
    rule: 'dropper-exec',
    severity: 'high',
    host: 'i-0abc',
    pid: 4242,
    exe: '/tmp/.x/payload',
    container: '',
    response: 'freeze',
    complete: true,
    message: 'payload executed a file written seconds before',
    dryRun: false,
    details: { writtenMs: 1200 },
    ...overrides,
  };
}

test('JSON lines: one parseable line per alert, appended to a 0600 file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sysfence-out-'));
  try {
    const path = join(dir, 'alerts.jsonl');
    const sink = await JsonLinesSink.toFile(path);
    await sink.emit(alert());
    await sink.emit(alert({ rule: 'spawn-burst', message: 'line one\nline two' }));
    await sink.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[0]!), alert());
    assert.equal((JSON.parse(lines[1]!) as Alert).message, 'line one\nline two');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An HTTP receiver answering with the given statuses in turn (then 200); keeps the bodies it got. */
async function receiver(
  statuses: number[],
): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  let call = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const status = statuses[call++] ?? 200;
      if (status === 200) bodies.push(body);
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('webhook: retried with backoff after two failures, then delivered once', async () => {
  const hook = await receiver([500, 503]);
  try {
    const sink = new WebhookSink({ url: hook.url, baseDelayMs: 10, random: () => 0.99 });
    sink.emit(alert());
    await sink.close();
    assert.deepEqual(sink.stats, { sent: 1, dropped: 0, failures: 2 });
    assert.deepEqual(
      hook.bodies.map((body) => JSON.parse(body) as Alert),
      [alert()],
    );
  } finally {
    await hook.close();
  }
});

test('webhook: a client error is not retried; exhausted retries and a full queue are dropped, counted', async () => {
  const hook = await receiver([400, 500, 500]);
  try {
    const sink = new WebhookSink({ url: hook.url, baseDelayMs: 1, maxAttempts: 2, maxQueue: 2 });
    sink.emit(alert({ pid: 1 })); // 400: given up at once
    sink.emit(alert({ pid: 2 })); // 500, 500: out of attempts
    sink.emit(alert({ pid: 3 })); // queue holds 2: dropped
    await sink.close();
    assert.deepEqual(sink.stats, { sent: 0, dropped: 3, failures: 3 });
  } finally {
    await hook.close();
  }
});

test('webhook: close gives up on a dead receiver after its timeout, counting what is left', async () => {
  const sink = new WebhookSink({ url: 'http://127.0.0.1:9/', baseDelayMs: 50, closeTimeoutMs: 100 });
  sink.emit(alert());
  sink.emit(alert());
  const started = Date.now();
  await sink.close();
  assert.ok(Date.now() - started < 1000);
  assert.equal(sink.stats.dropped, 2);
  assert.equal(sink.stats.sent, 0);
});

test('backoff grows exponentially, is capped, and jitter stays below the cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((retry) => backoffDelay(retry, 100, 1000, () => 0.999999)),
    [99, 199, 399, 799, 999],
  );
  assert.equal(
    backoffDelay(5, 100, 1000, () => 0),
    0,
  );
});

test('syslog: RFC 5424 datagrams on a local UDP listener, with escaped structured data', async () => {
  const listener = createSocket('udp4');
  await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
  const received = new Promise<string>((resolve) =>
    listener.once('message', (data) => resolve(data.toString())),
  );
  const sink = await SyslogSink.open({ port: listener.address().port, hostname: 'web-1' });
  try {
    await sink.emit(alert({ exe: '/tmp/a"]\nb', message: 'two\nlines' }));
    const message = await received;
    assert.equal(
      message,
      `<83>1 2026-12-04T21:00:00.123Z web-1 sysfence ${process.pid} dropper-exec ` +
        '[sysfence@32473 rule="dropper-exec" severity="high" host="i-0abc" pid="4242" exe="/tmp/a\\"\\] b" ' +
        'container="" response="freeze" complete="true" dryRun="false"] two lines',
    );
    assert.deepEqual(sink.stats, { sent: 1, dropped: 0, failures: 0 });
    const short = await SyslogSink.open({ port: listener.address().port, maxBytes: 301 });
    const cut = new Promise<Buffer>((resolve) => listener.once('message', resolve));
    await short.emit(alert({ message: 'é'.repeat(200) }));
    await short.close();
    const datagram = await cut;
    assert.ok(datagram.length <= 301 && datagram.length >= 300, `${datagram.length} bytes`);
    assert.ok(!datagram.toString('utf8').includes('\ufffd'), 'no character split');
  } finally {
    await sink.close();
    listener.close();
  }
});

test('syslog: severities map to RFC 5424 levels', () => {
  const priority = (severity: Alert['severity']): string =>
    formatSyslogMessage(alert({ severity }), { facility: 16 }).split(' ')[0]!;
  assert.deepEqual((['critical', 'high', 'warning', 'info'] as const).map(priority), [
    '<130>1',
    '<131>1',
    '<132>1',
    '<134>1',
  ]);
});

test('metrics: /metrics serves the text exposition format the pipeline updates', async () => {
  const metrics = new MonitorMetrics();
  metrics.events.inc(41);
  metrics.events.inc();
  metrics.eventsDropped.inc(3);
  metrics.alerts.inc(1, { rule: 'dropper-exec' });
  metrics.alerts.inc(2, { rule: 'rate "x"\\' });
  metrics.setBreakerState('open');
  metrics.sourceLost.setTotal(7);
  metrics.sourceLost.setTotal(5); // a smaller mirror value never makes a counter go down
  const server = await serveMetrics(metrics.registry, { port: 0 });
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    for (const expected of [
      'sysfence_events_total 42',
      'sysfence_events_dropped_total 3',
      'sysfence_alerts_total{rule="dropper-exec"} 1',
      'sysfence_alerts_total{rule="rate \\"x\\"\\\\"} 2',
      'sysfence_breaker_state{state="open"} 1',
      'sysfence_breaker_state{state="closed"} 0',
      'sysfence_source_lost_total 7',
    ]) {
      assert.ok(samples.includes(expected), `missing ${expected} in\n${text}`);
    }
    assert.match(text, /^# TYPE sysfence_breaker_state gauge$/m);
    assert.match(text, /^# HELP sysfence_events_total /m);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test('metrics registry refuses bad names and a name registered twice as different types', () => {
  const registry = new MetricsRegistry();
  registry.counter('a_total', 'x');
  assert.equal(registry.counter('a_total', 'x'), registry.counter('a_total', 'y'));
  assert.throws(() => registry.gauge('a_total', 'x'), /already registered/);
  assert.throws(() => registry.counter('bad-name', 'x'), /invalid metric name/);
  assert.throws(() => registry.counter('b_total', 'x').inc(-1), /cannot add/);
  assert.throws(() => registry.counter('c_total', 'x').inc(1, { 'bad-label': 'v' }), /invalid label/);
});

test('store rows keep events and alerts losslessly in their json column', () => {
  const event = {
    source: 'audit' as const,
    host: 'h',
    time: 5,
    serial: 9,
    pid: 3,
    arch: 'x86_64' as const,
    nr: 257,
    syscall: 'openat',
    args: [1n, 2n],
    ret: -13n,
  };
  const row = eventToStoredRow(event);
  assert.deepEqual(parseEventJson(row.json, 'row'), event);
  assert.equal(row.syscall, 'openat');
  assert.equal(row.count, 1);
  assert.deepEqual(JSON.parse(alertToStoredRow(alert()).json), alert());
});
