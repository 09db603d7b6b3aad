/**
 * The circuit breaker on REAL processes of this machine: a child that keeps making a call the policy
 * only logs is frozen on the first rate-breaker alert, thawed after the configured time, and killed on
 * escalation; a cgroup of its own is frozen through cgroup v2; and a pid whose recorded start time does
 * not match the live process (a reused pid) is never touched.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Alert } from '../../src/monitor/alert.js';
import { Breaker, type BreakerRecord } from '../../src/monitor/breaker.js';
import { cgroupMounts } from '../../src/monitor/cgroup-control.js';
import { MonitorPipeline, type EventInput } from '../../src/monitor/pipeline.js';
import { descendantsOf, LinuxProcessControl } from '../../src/monitor/process-control.js';
import { ProcessIdentities } from '../../src/monitor/process-identity.js';
import { readProcStat } from '../../src/monitor/proc-stat.js';
import { parseMonitorConfig, type RuleSettings } from '../../src/monitor/rules/config.js';
import { retToAction, SECCOMP_RET } from '../../src/policy/action.js';
import { unconditionallyAllowed } from '../../src/monitor/allowed-numbers.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { streamEbpfEvents } from '../../src/sources/ebpf-stream.js';
import { emptySourceStats, type SyscallEvent } from '../../src/sources/event.js';
import { syscallNumber } from '../../src/syscalls/arch.js';

const PYTHON = '/usr/bin/python3';
// Calls getppid in a loop: a syscall our test policy leaves to the kernel's LOG action.
const LOOP = 'import os, time\nwhile True:\n    os.getppid()\n    time.sleep(0.005)\n';

const RULES = `
rules:
  rate-breaker:
    threshold: 50
    windowSeconds: 60
    responses: [freeze, kill]
    thawAfterSeconds: 2
`;

function spawnLooper(): ChildProcess {
  if (!existsSync(PYTHON)) assert.fail(`${PYTHON} is missing: apt-get install python3`);
  const child = spawn(PYTHON, ['-c', LOOP], { stdio: 'ignore' });
  assert.ok(child.pid !== undefined, 'the child did not start');
  return child;
}

/** `count` logged getppid calls by `pid`, timed now (the live process made them). */
function loggedCalls(pid: number, count: number, time = Date.now()): SyscallEvent[] {
  const nr = syscallNumber('x86_64', 'getppid') as number;
  return Array.from({ length: count }, (_, index) => ({
    source: 'ebpf' as const,
    host: 'test',
    time: time + index,
    pid,
    comm: 'python3',
    exe: PYTHON,
    arch: 'x86_64' as const,
    nr,
    syscall: 'getppid',
    action: retToAction(SECCOMP_RET.LOG),
  }));
}

function state(pid: number): string | undefined {
  return readProcStat(pid)?.state;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A rate-breaker breaker for a live `pid` whose first call has been seen (its start time recorded). */
function breakerWatching(pid: number): { breaker: Breaker; settings: RuleSettings } {
  const identities = new ProcessIdentities();
  identities.observe(loggedCalls(pid, 1)[0] as SyscallEvent);
  const settings = parseMonitorConfig(RULES, 'rules.yaml').rules.find(
    (rule) => rule.definition.id === 'rate-breaker',
  ) as RuleSettings;
  return { breaker: new Breaker(new LinuxProcessControl(), identities), settings };
}

/**
 * Runs `body` with looping children placed in a fresh test cgroup under `mountPoint`; afterwards the
 * children are killed and the cgroup removed, whatever the body did.
 */
async function inTestCgroup(
  mountPoint: string,
  name: string,
  children: number,
  body: (dir: string, pids: readonly number[], exits: readonly Promise<unknown[]>[]) => Promise<void>,
): Promise<void> {
  const dir = `${mountPoint}/sysfence-${name}-${process.pid}`;
  mkdirSync(dir);
  const spawned = Array.from({ length: children }, () => spawnLooper());
  try {
    const exits = spawned.map((child) => once(child, 'exit'));
    for (const child of spawned) writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
    await body(
      dir,
      spawned.map((child) => child.pid as number),
      exits,
    );
  } finally {
    for (const child of spawned) child.kill('SIGKILL');
    await waitFor(() => readFileSync(`${dir}/cgroup.procs`, 'utf8').trim() === '', 'the cgroup empties');
    rmdirSync(dir);
  }
}

function mountOf(kind: 'v2' | 'freezer', hint: string): string {
  const mount = cgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'))[kind];
  if (mount === undefined) assert.fail(hint);
  return mount.mountPoint;
}

const V2_HINT = 'no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)';

async function feed(pipeline: MonitorPipeline, events: readonly SyscallEvent[]): Promise<void> {
  for (const event of events) pipeline.accept(event);
  await pipeline.deliver();
}

test('a real process bursting logged calls is frozen (SIGSTOP), thawed after 2 s, then killed on escalation', async () => {
  const child = spawnLooper();
  const pid = child.pid as number;
  const exited = once(child, 'exit');
  try {
    await waitFor(() => readProcStat(pid) !== undefined, 'the child appears in /proc');
    const alerts: Alert[] = [];
    const log: BreakerRecord[] = [];
    const pipeline = new MonitorPipeline({
      config: parseMonitorConfig(RULES, 'rules.yaml'),
      sinks: [{ emit: (alert) => void alerts.push(alert), close: () => Promise.resolve() }],
      onResponse: (record) => log.push(record),
    });
    // The reorder buffer holds events for 2 s of event time: later events push the burst through.
    await feed(pipeline, loggedCalls(pid, 51));
    await feed(pipeline, loggedCalls(pid, 1, Date.now() + 3000));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.response, 'freeze');
    assert.equal(alerts[0]?.rule, 'rate-breaker');
    assert.equal(alerts[0]?.details['responseDetail'], `sent SIGSTOP to pid ${pid} (no cgroup of its own)`);
    // SIGSTOP takes effect when the target is next scheduled: wait (well before the 2 s thaw).
    await waitFor(() => state(pid) === 'T', 'the process is stopped', 1500);

    await waitFor(() => state(pid) !== 'T', 'the automatic thaw resumes it', 5000);
    await waitFor(() => alerts.some((alert) => alert.response === 'thaw'), 'the thaw is reported');

    await feed(pipeline, loggedCalls(pid, 60, Date.now() + 4000));
    await pipeline.finish();
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    const responses = alerts.filter((alert) => alert.response !== 'thaw').map((alert) => alert.response);
    assert.deepEqual(responses, ['freeze', 'kill']);
    assert.deepEqual(
      log.map((record) => record.response),
      ['freeze', 'thaw', 'kill'],
    );
  } finally {
    child.kill('SIGKILL');
  }
});

test('a process in a cgroup of its own is frozen through cgroup v2 cgroup.freeze, then killed', async () => {
  await inTestCgroup(mountOf('v2', V2_HINT), 'breaker-test', 1, async (dir, [pid], [exited]) => {
    const { breaker, settings } = breakerWatching(pid as number);
    const freeze = breaker.respond({ ...settings, thawAfterMs: undefined }, pid as number);
    assert.equal(freeze.response, 'freeze');
    assert.equal(freeze.detail, `froze cgroup ${dir}`);
    await waitFor(
      () => /^frozen 1$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8')),
      'the cgroup is frozen',
    );
    assert.equal(breaker.respond(settings, pid as number).response, 'kill');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    breaker.close();
  });
});

test('cgroup v1: a process alone in a freezer cgroup is frozen through freezer.state, then killed', async () => {
  const hint =
    'no cgroup v1 freezer hierarchy is mounted (mount -t cgroup -o freezer none /sys/fs/cgroup/freezer)';
  await inTestCgroup(mountOf('freezer', hint), 'freezer-test', 1, async (dir, [pid], [exited]) => {
    const { breaker, settings } = breakerWatching(pid as number);
    const freeze = breaker.respond({ ...settings, thawAfterMs: undefined }, pid as number);
    assert.equal(freeze.detail, `froze cgroup ${dir}`);
    await waitFor(
      () => readFileSync(`${dir}/freezer.state`, 'utf8').trim() === 'FROZEN',
      'the cgroup is frozen',
    );
    // A v1-frozen task only dies once thawed: the breaker thaws after SIGKILL.
    assert.equal(breaker.respond(settings, pid as number).response, 'kill');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    breaker.close();
  });
});

test('a cgroup shared with an unrelated process is never frozen: only the offender is stopped', async () => {
  await inTestCgroup(mountOf('v2', V2_HINT), 'shared-test', 2, async (dir, [pid, bystander]) => {
    const { breaker, settings } = breakerWatching(pid as number);
    const freeze = breaker.respond({ ...settings, thawAfterMs: undefined }, pid as number);
    assert.equal(freeze.detail, `sent SIGSTOP to pid ${pid} (no cgroup of its own)`);
    await waitFor(() => state(pid as number) === 'T', 'the offender is stopped');
    assert.match(readFileSync(`${dir}/cgroup.events`, 'utf8'), /^frozen 0$/m);
    assert.notEqual(state(bystander as number), 'T');
    breaker.close();
  });
});

test('a reused pid (recorded start time differs from the live process) is never touched', async () => {
  const child = spawnLooper();
  const pid = child.pid as number;
  try {
    await waitFor(() => readProcStat(pid) !== undefined, 'the child appears in /proc');
    const live = readProcStat(pid);
    assert.ok(live !== undefined);
    // The events were recorded from an earlier process with this pid: it started 5 ticks earlier.
    const recorded = new ProcessIdentities(() => ({ ...live, startTicks: live.startTicks - 5 }));
    recorded.observe(loggedCalls(pid, 1)[0] as SyscallEvent);
    const settings = parseMonitorConfig(RULES, 'rules.yaml').rules[0] as RuleSettings;
    const breaker = new Breaker(new LinuxProcessControl(), recorded);
    const freeze = breaker.respond(settings, pid);
    assert.equal(freeze.response, 'freeze-skipped');
    assert.match(freeze.detail, /was reused/);
    const kill = breaker.respond(settings, pid);
    assert.equal(kill.response, 'kill-skipped');
    await sleep(50);
    assert.notEqual(state(pid), 'T');
    assert.equal(child.exitCode, null, 'the live process still runs');

    // Events older than the live process (a replayed old trace) never capture an identity at all.
    const replayed = new ProcessIdentities();
    replayed.observe(loggedCalls(pid, 1, Date.UTC(2026, 0, 15))[0] as SyscallEvent);
    assert.equal(replayed.identity(pid), undefined);
    const skipped = new Breaker(new LinuxProcessControl(), replayed).respond(settings, pid);
    assert.equal(skipped.response, 'freeze-skipped');
    assert.notEqual(state(pid), 'T');
  } finally {
    child.kill('SIGKILL');
  }
});

const WATCH_GETPPID_POLICY = `name: watch-getppid
architectures: [x86_64]
defaultAction: allow
rules:
  - syscalls: [getppid]
    action: log
    reason: watched by the monitor test
`;

/** The eBPF source, passing on only the events of one process (the test must not act on the host's others). */
function ebpfInputFor(pid: number, allowed: ReadonlySet<number>, signal: AbortSignal): EventInput {
  const stats = emptySourceStats();
  return {
    name: 'ebpf',
    live: true,
    stats,
    async *events() {
      for await (const event of streamEbpfEvents({ allowedNumbers: allowed, host: 'test', stats, signal })) {
        if (event.pid === pid) yield event;
      }
    },
  };
}

test(
  'real events from the eBPF source: the looping process is frozen, thawed, then killed',
  { timeout: 60_000 },
  async () => {
    try {
      execFileSync('bpftrace', ['--version'], { stdio: 'ignore' });
    } catch {
      assert.fail('bpftrace is missing: apt-get install bpftrace');
    }
    const policy = await parsePolicyText(WATCH_GETPPID_POLICY, 'watch-getppid.yaml');
    const abort = new AbortController();
    const alerts: Alert[] = [];
    const child = spawnLooper();
    const pid = child.pid as number;
    const exited = once(child, 'exit');
    const pipeline = new MonitorPipeline({
      config: parseMonitorConfig(RULES, 'rules.yaml'),
      context: { policy },
      sinks: [{ emit: (alert) => void alerts.push(alert), close: () => Promise.resolve() }],
    });
    const running = pipeline.run([ebpfInputFor(pid, unconditionallyAllowed(policy, 'x86_64'), abort.signal)]);
    try {
      const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, 'SIGKILL');
    } finally {
      abort.abort();
      child.kill('SIGKILL');
    }
    const summary = await running;
    assert.deepEqual(
      alerts.slice(0, 3).map((alert) => [alert.rule, alert.pid, alert.response]),
      [
        ['rate-breaker', pid, 'freeze'],
        ['rate-breaker', pid, 'thaw'],
        ['rate-breaker', pid, 'kill'],
      ],
    );
    // Calls made before the kill may still be in flight: they alert, but nothing is done twice.
    for (const alert of alerts.slice(3)) assert.equal(alert.response, 'kill-skipped');
    assert.ok(summary.processed > 100, `the eBPF source delivered the child's calls (${summary.processed})`);
  },
);

test('the monitor, its ancestors and init are never frozen or killed, whatever the events say', () => {
  const RULES_KILL = 'rules:\n  rate-breaker:\n    responses: [kill]\n';
  const settings = parseMonitorConfig(RULES_KILL, 'rules.yaml').rules.find(
    (rule) => rule.definition.id === 'rate-breaker',
  ) as RuleSettings;
  for (const pid of [process.pid, process.ppid, 1]) {
    const identities = new ProcessIdentities();
    identities.observe(loggedCalls(pid, 1)[0] as SyscallEvent);
    const breaker = new Breaker(new LinuxProcessControl(), identities);
    const decision = breaker.respond(settings, pid);
    assert.equal(decision.response, 'kill-skipped', `pid ${pid}`);
    assert.match(
      decision.detail,
      /the monitor or one of its ancestors|init or the kernel|no verified identity/,
    );
    breaker.close();
  }
});

test('kill takes the offender and everything it started: a miner root leaves no workers behind', async () => {
  const TREE =
    'import subprocess, time\nsubprocess.Popen(["sleep", "60"])\nwhile True:\n    time.sleep(0.01)\n';
  const root = spawn(PYTHON, ['-c', TREE], { stdio: 'ignore' });
  const pid = root.pid as number;
  try {
    await waitFor(() => descendantsOf(pid).length === 1, 'the worker starts');
    const [worker] = descendantsOf(pid) as [number];
    const RULES_KILL = 'rules:\n  spawn-burst:\n    responses: [kill]\n';
    const settings = parseMonitorConfig(RULES_KILL, 'rules.yaml').rules.find(
      (rule) => rule.definition.id === 'spawn-burst',
    ) as RuleSettings;
    const identities = new ProcessIdentities();
    identities.observe(loggedCalls(pid, 1)[0] as SyscallEvent);
    const breaker = new Breaker(new LinuxProcessControl(), identities);
    const decision = breaker.respond(settings, pid);
    assert.equal(decision.response, 'kill');
    assert.match(decision.detail, /and its 1 descendant/);
    await waitFor(() => state(worker) === undefined || state(worker) === 'Z', 'the worker is killed too');
    breaker.close();
  } finally {
    root.kill('SIGKILL');
  }
});

test('the timed thaw thaws the frozen cgroup even when its offender was killed meanwhile', async () => {
  const TREE =
    'import subprocess, time\nsubprocess.Popen(["sleep", "60"])\nwhile True:\n    time.sleep(0.01)\n';
  const dir = `${mountOf('v2', V2_HINT)}/sysfence-thaw-test-${process.pid}`;
  mkdirSync(dir);
  const root = spawn(PYTHON, ['-c', TREE], { stdio: 'ignore' });
  const pid = root.pid as number;
  try {
    writeFileSync(`${dir}/cgroup.procs`, String(pid));
    await waitFor(() => descendantsOf(pid).length === 1, 'the worker starts (inside the cgroup)');
    const { breaker, settings } = breakerWatching(pid);
    const freeze = breaker.respond({ ...settings, thawAfterMs: 500 }, pid);
    assert.equal(freeze.detail, `froze cgroup ${dir}`);
    await waitFor(() => /^frozen 1$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8')), 'frozen');
    root.kill('SIGKILL'); // someone else kills the offender; its worker stays in the frozen cgroup
    await waitFor(() => readProcStat(pid) === undefined, 'the offender is gone (reaped)');
    await waitFor(
      () => /^frozen 0$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8')),
      'the cgroup is thawed on time',
    );
    breaker.close();
  } finally {
    root.kill('SIGKILL');
    for (const leftover of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
      process.kill(Number(leftover), 'SIGKILL');
    }
    await waitFor(() => readFileSync(`${dir}/cgroup.procs`, 'utf8').trim() === '', 'the cgroup empties');
    rmdirSync(dir);
  }
});
