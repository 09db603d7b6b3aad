/** Each rule's edges, through the pipeline: what trips it and what must not. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAnyPolicy } from '../../src/formats/load.js';
import { parseMonitorConfig } from '../../src/monitor/rules/config.js';
import type { TimexFields } from '../../src/monitor/rules/rule.js';
import { clockChange } from '../../src/monitor/rules/time-tamper.js';
import { EventStore } from '../../src/store/event-store.js';
import { tempDirForTest } from '../helpers/temp.js';
import { alertKeys, POLICY_PATH, replay, syscallEvent } from './support.js';

const T0 = Date.UTC(2026, 0, 15, 12);

test('time-tamper: adjtimex trips only for steps, big slews and tick changes', () => {
  const adjtimex = syscallEvent({ pid: 10, syscall: 'adjtimex', time: T0, args: [0x1000n] });
  const judge = (timex: TimexFields | undefined): string | undefined =>
    clockChange(adjtimex, () => timex, 500);
  assert.equal(judge(undefined), undefined, 'modes unknown: cannot be judged');
  assert.equal(judge({ modes: 0, offsetNs: 0n }), undefined, 'read-only');
  assert.equal(judge({ modes: 0x0001, offsetNs: 100_000_000n }), undefined, 'a 100 ms slew');
  assert.equal(judge({ modes: 0x0002, offsetNs: 0n }), undefined, 'ADJ_FREQUENCY');
  assert.match(judge({ modes: 0x0001, offsetNs: -2_000_000_000n }) ?? '', /ADJ_OFFSET\) slews by 2000 ms/);
  assert.match(judge({ modes: 0x0100, offsetNs: 1n }) ?? '', /ADJ_SETOFFSET/);
  assert.match(judge({ modes: 0x4000, offsetNs: 0n }) ?? '', /ADJ_TICK/);
  const monotonic = syscallEvent({ pid: 10, syscall: 'clock_adjtime', time: T0, args: [1n, 0x1000n] });
  assert.equal(
    clockChange(monotonic, () => ({ modes: 0x0100, offsetNs: 1n }), 500),
    undefined,
  );
});

test('baseline-deviation: nothing before minSamples intervals, then a new syscall alerts once', async () => {
  const config = parseMonitorConfig(
    'rules:\n  baseline-deviation: { intervalSeconds: 1, minSamples: 5 }\n',
    'r.yaml',
  );
  const events = [];
  for (let second = 0; second < 8; second++) {
    const time = T0 + second * 1000;
    events.push(syscallEvent({ pid: 50, exe: '/usr/bin/app', syscall: 'read', time, count: 10 }));
    // A new call while the baseline is still learning (interval 2) is learned, not alerted.
    if (second === 2)
      events.push(syscallEvent({ pid: 50, exe: '/usr/bin/app', syscall: 'getpid', time: time + 1 }));
    if (second === 6)
      events.push(syscallEvent({ pid: 51, exe: '/usr/bin/app', syscall: 'ptrace', time: time + 1 }));
  }
  const { alerts } = await replay(events, config);
  assert.deepEqual(alertKeys(alerts), [['baseline-deviation', 51]]);
  assert.deepEqual(alerts[0]?.details['deviations'], ['ptrace:1 (new)']);
});

test('ptrace-inject: reads, TRACEME and self-tracing do not trip; one alert per tracer and target', async () => {
  const ptrace = (pid: number, request: bigint, target: bigint, time: number) =>
    syscallEvent({ pid, syscall: 'ptrace', time, args: [request, target, 0n, 0n] });
  const { alerts } = await replay([
    ptrace(60, 2n, 61n, T0),
    ptrace(60, 0n, 0n, T0 + 1),
    ptrace(60, 16n, 60n, T0 + 2),
    ptrace(60, 0x4206n, 61n, T0 + 3),
    ptrace(60, 5n, 61n, T0 + 4),
    ptrace(60, 5n, 62n, T0 + 5),
  ]);
  assert.deepEqual(
    alerts.map((alert) => [alert.pid, alert.details['request'], alert.details['targetPid']]),
    [
      [60, 'PTRACE_SEIZE', 61],
      [60, 'PTRACE_POKEDATA', 62],
    ],
  );
});

test('dropper-exec: failed or read-only opens and execs outside world-writable directories do not trip', async () => {
  const AT_FDCWD = 0xffffff9cn;
  const { alerts } = await replay([
    syscallEvent({ pid: 70, syscall: 'openat', time: T0, args: [AT_FDCWD, 1n, 0o101n], ret: -13n }),
    syscallEvent({ pid: 70, syscall: 'openat', time: T0 + 1, args: [AT_FDCWD, 1n, 0n], ret: 3n }),
    syscallEvent({ pid: 70, syscall: 'execve', exe: '/tmp/x', time: T0 + 2, ret: 0n }),
    syscallEvent({ pid: 71, syscall: 'creat', time: T0 + 3, ret: 3n }),
    syscallEvent({ pid: 71, syscall: 'execve', exe: '/usr/bin/x', time: T0 + 4, ret: 0n }),
    syscallEvent({ pid: 71, syscall: 'execve', exe: '/dev/shm/x', time: T0 + 5, ret: -2n }),
    syscallEvent({ pid: 71, syscall: 'execve', exe: '/dev/shm/x', time: T0 + 120_000, ret: 0n }),
    syscallEvent({ pid: 72, syscall: 'creat', time: T0 + 120_001, ret: 3n }),
    syscallEvent({ pid: 72, syscall: 'clone', time: T0 + 120_002, ret: 73n }),
    syscallEvent({ pid: 73, syscall: 'execve', exe: '/var/tmp/y', time: T0 + 120_003, ret: 0n }),
  ]);
  assert.deepEqual(alertKeys(alerts), [['dropper-exec', 73]]);
});

test('rate-breaker: the policy decides what is whitelisted when the event carries no action', async () => {
  const events = Array.from({ length: 60 }, (_, index) =>
    syscallEvent({ pid: 80, syscall: index % 2 === 0 ? 'getppid' : 'read', time: T0 + index * 100 }),
  );
  // The fixture policy allows read but not getppid: 30 non-whitelisted calls, below 50.
  assert.deepEqual((await replay(events)).alerts, []);
  const more = Array.from({ length: 51 }, (_, index) =>
    syscallEvent({ pid: 81, syscall: 'getppid', time: T0 + index * 100 }),
  );
  assert.deepEqual(alertKeys((await replay(more)).alerts), [['rate-breaker', 81]]);
});

test('vfork-exec: a server running a non-interpreter, or a shell running a shell, does not trip', async () => {
  const { alerts } = await replay([
    syscallEvent({ pid: 90, ppid: 1, exe: '/usr/sbin/nginx', syscall: 'clone', time: T0, ret: 91n }),
    syscallEvent({ pid: 91, ppid: 90, exe: '/usr/bin/logrotate', syscall: 'execve', time: T0 + 1, ret: 0n }),
    syscallEvent({ pid: 92, ppid: 1, exe: '/usr/bin/bash', syscall: 'clone', time: T0 + 2, ret: 93n }),
    syscallEvent({ pid: 93, ppid: 92, exe: '/usr/bin/python3.11', syscall: 'execve', time: T0 + 3, ret: 0n }),
    syscallEvent({ pid: 94, ppid: 1, exe: '/usr/sbin/php-fpm8.2', syscall: 'clone', time: T0 + 4, ret: 95n }),
    syscallEvent({
      pid: 95,
      ppid: 94,
      exe: '/usr/bin/dash',
      comm: 'sh',
      syscall: 'execve',
      time: T0 + 5,
      ret: 0n,
    }),
  ]);
  assert.deepEqual(alertKeys(alerts), [['vfork-exec', 95]]);
});

test('baseline-deviation: a baseline saved to the store survives a restart and judges at once', async () => {
  const config = parseMonitorConfig(
    'rules:\n  baseline-deviation: { intervalSeconds: 1, minSamples: 5 }\n',
    'r.yaml',
  );
  const { policy } = await loadAnyPolicy(POLICY_PATH);
  const store = EventStore.open(join(tempDirForTest('sysfence-baseline-'), 'monitor.db'));
  const baselines = {
    load: () => store.loadBaselines(),
    save: (exe: string, json: string) => store.saveBaseline(exe, json),
  };
  const reads = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) =>
      syscallEvent({
        pid: 60,
        exe: '/usr/bin/app',
        syscall: 'read',
        time: T0 + (from + i) * 1000,
        count: 10,
      }),
    );
  const first = await replay(reads(0, 7), config, { context: { policy, baselines } });
  assert.deepEqual(alertKeys(first.alerts), []);
  const saved = JSON.parse(store.loadBaselines().get('/usr/bin/app') ?? '{}') as { samples?: number };
  assert.ok((saved.samples ?? 0) >= 5, 'the first run saved a mature baseline');
  // A new monitor: the very first interval it closes is judged against the saved baseline.
  const ptrace = syscallEvent({ pid: 61, exe: '/usr/bin/app', syscall: 'ptrace', time: T0 + 7001 });
  const second = await replay([...reads(7, 9), ptrace], config, { context: { policy, baselines } });
  assert.deepEqual(alertKeys(second.alerts), [['baseline-deviation', 61]]);
  const fresh = await replay([...reads(7, 9), ptrace], config);
  assert.deepEqual(alertKeys(fresh.alerts), [], 'without the store the baseline relearns and stays silent');
  store.close();
});
