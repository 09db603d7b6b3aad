import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readTrace } from '../../src/learn/trace.js';
import { loadPolicy } from '../../src/policy/load.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { parseBaseline } from '../../src/review/baseline.js';
import { ReviewInputError } from '../../src/review/drift.js';
import { buildReview } from '../../src/review/review-model.js';
import { entriesInWindow, windowEnding } from '../../src/review/window.js';
import {
  craftedEntry,
  craftedTrace,
  fixtureReview,
  HOSTILE_CONTAINER,
  HOSTILE_EXE,
  NOW,
  POLICY_FILE,
  TRACE_FILES,
} from './fixtures.js';

test('the window is the last N whole UTC days ending today', () => {
  assert.deepEqual(windowEnding(NOW, 90), { from: '2026-09-06', to: '2026-12-04', days: 90 });
  assert.deepEqual(windowEnding(NOW, 1), { from: '2026-12-04', to: '2026-12-04', days: 1 });
});

test('fixture: allowed syscalls never called, risky first, with the rule that allows them', async () => {
  const { report } = await fixtureReview();
  assert.deepEqual(
    report.unused.map((item) => [item.syscall, item.risk?.level ?? '-', item.permission, item.rule?.line]),
    [
      ['ptrace', 'critical', 'always', 16],
      ['mount', 'high', 'always', 26],
      ['unshare', 'high', 'conditionally', 21],
      ['personality', 'medium', 'always', 26],
      ['exit_group', '-', 'always', 13],
      ['fstat', '-', 'always', 13],
      // mmap was called, but only on 2026-08-01: before the 90-day window.
      ['mmap', '-', 'always', 13],
    ],
  );
  assert.equal(report.unused[0]!.risk?.category, 'process-injection');
});

test('fixture: logged and denied syscalls with counts, decisions, processes and containers', async () => {
  const { report } = await fixtureReview();
  assert.deepEqual(
    report.denied.map((item) => ({
      syscall: item.syscall,
      count: item.count,
      decisions: item.decisions,
      policyAction: item.policyAction,
      executables: item.executables,
      containers: item.containers,
    })),
    [
      {
        syscall: 'clone3',
        count: 12,
        decisions: { errno: 12 },
        policyAction: 'errno(EPERM)',
        executables: [{ exe: '/opt/app-2.1/bin/app', count: 12 }],
        containers: ['ctr-app'],
      },
      // Recorded without a filter (observed), but the policy would deny it.
      {
        syscall: 'getrandom',
        count: 7,
        decisions: { observed: 7 },
        policyAction: 'errno(EPERM)',
        executables: [{ exe: '/usr/sbin/nginx', count: 7 }],
        containers: [],
      },
      {
        syscall: 'socket',
        count: 5,
        decisions: { log: 5 },
        policyAction: 'log',
        executables: [{ exe: HOSTILE_EXE, count: 5 }],
        containers: [HOSTILE_CONTAINER],
      },
      {
        syscall: 'keyctl',
        count: 3,
        decisions: { kill_process: 3 },
        policyAction: 'errno(EPERM)',
        executables: [{ exe: HOSTILE_EXE, count: 3 }],
        containers: [HOSTILE_CONTAINER],
      },
    ],
  );
});

test('fixture: drift against the previous review report', async () => {
  const { report } = await fixtureReview();
  assert.deepEqual(report.drift, {
    baseline: {
      kind: 'report',
      file: report.drift!.baseline.file,
      window: { from: '2026-05-04', to: '2026-08-01', days: 90 },
    },
    newlyUsed: ['clone3', 'keyctl', 'socket'],
    noLongerUsed: ['mmap'],
    newDenials: ['clone3', 'keyctl', 'socket'],
    resolvedDenials: [],
    newExecutables: ['/opt/app-2.1/bin/app', HOSTILE_EXE],
  });
});

test('fixture: risk score components, total and band', async () => {
  const { report } = await fixtureReview();
  assert.deepEqual(
    report.score.components.map((item) => [item.id, item.count, item.points]),
    [
      ['allowed-risky', 4, 15 + 6 + 3 + 2], // ptrace critical, mount high, unshare high (conditional), personality
      ['default-allow', 0, 0],
      ['unused-allowed', 7, 7],
      ['expired-exceptions', 1, 5], // ptrace expired 2026-11-15
      ['review-overdue', 1, 10],
      ['unreviewed-upgrade', 1, 5],
    ],
  );
  assert.equal(report.score.total, 53);
  assert.equal(report.score.band, 'high');
  assert.deepEqual(report.riskBreakdown.byLevel, [
    { level: 'critical', count: 1 },
    { level: 'high', count: 2 },
    { level: 'medium', count: 1 },
  ]);
});

test('fixture: the review was due 90 days after 2026-08-01, and upgrades are named', async () => {
  const { report } = await fixtureReview();
  assert.deepEqual(report.due, {
    lastReview: '2026-08-01',
    interval: '90d',
    scheduled: '2026-10-30',
    due: '2026-10-30',
    daysLeft: -35,
    status: 'overdue',
    upgrades: [
      { kind: 'new-executable', exe: '/opt/app-2.1/bin/app', firstSeen: '2026-11-29' },
      { kind: 'new-executable', exe: HOSTILE_EXE, firstSeen: '2026-11-30' },
    ],
  });
  assert.deepEqual(
    report.exceptions.map((item) => [item.selectors, item.status, item.daysLeft]),
    [
      [['ptrace'], 'expired', -19],
      [['mount', 'personality'], 'active', 208],
    ],
  );
});

test('fixture: use over time per process covers the days with calls', async () => {
  const { report } = await fixtureReview();
  assert.equal(report.usage.days[0], '2026-11-20');
  assert.equal(report.usage.days.at(-1), '2026-12-02');
  assert.equal(report.usage.days.length, 13);
  assert.deepEqual(
    report.usage.series.map((series) => [series.exe, series.total]),
    [
      ['/usr/sbin/nginx', 3866],
      ['/opt/app-2.1/bin/app', 412],
      ['/opt/app-2.0/bin/app', 351],
      [HOSTILE_EXE, 8],
    ],
  );
  const nginx = report.usage.series[0]!;
  // 2026-11-20: read 100, write 80, openat 10, epoll_wait 200, accept4 30, close 40.
  assert.equal(nginx.counts[0], 460);
  assert.equal(nginx.counts[report.usage.days.indexOf('2026-11-25')], 0);
  assert.equal(
    report.traces.calls,
    report.usage.series.reduce((sum, series) => sum + series.total, 0),
  );
});

test('drift against an older trace window instead of a report', async () => {
  const policy = await loadPolicy(POLICY_FILE);
  const older = TRACE_FILES[0]!;
  const baseline = parseBaseline(await readFile(older, 'utf8'), older, policy);
  assert.equal(baseline.kind, 'trace');
  assert.deepEqual(baseline.snapshot.window, { from: '2026-08-01', to: '2026-11-22', days: 114 });
  const report = buildReview({
    policy,
    policyFile: 'policy.yaml',
    trace: await readTrace(TRACE_FILES[1]!),
    traceFiles: ['trace-week2.json'],
    now: NOW,
    windowDays: 90,
    upgraded: false,
    baseline,
  });
  assert.deepEqual(report.drift?.newlyUsed, ['clone3', 'getrandom', 'keyctl', 'socket']);
  assert.deepEqual(report.drift?.noLongerUsed, ['mmap']);
  assert.deepEqual(report.drift?.newDenials, ['clone3', 'getrandom', 'keyctl', 'socket']);
  assert.deepEqual(report.drift?.newExecutables, ['/opt/app-2.1/bin/app', HOSTILE_EXE]);
});

test('a --previous file that is neither a report nor a trace is an error naming it', async () => {
  const policy = await loadPolicy(POLICY_FILE);
  assert.throws(
    () => parseBaseline('{', 'old.json', policy),
    (error: unknown) => {
      return error instanceof ReviewInputError && /^old\.json: not JSON/.test(error.message);
    },
  );
  assert.throws(() => parseBaseline('{"format":"x"}', 'old.json', policy), /old\.json: not a review report/);
  assert.throws(
    () => parseBaseline('{"format":"sysfence-review/1"}', 'old.json', policy),
    /old\.json: a review report needs a "snapshot"/,
  );
  const badUsed = JSON.stringify({
    format: 'sysfence-review/1',
    snapshot: {
      window: { from: '2026-01-01', to: '2026-01-02', days: 2 },
      used: [1],
      denied: [],
      executables: [],
    },
  });
  assert.throws(() => parseBaseline(badUsed, 'old.json', policy), /snapshot\.used must be a list of strings/);
});

test('an entry straddling the window start counts only its calls inside, decisions capped', () => {
  const entry = craftedEntry(
    '/bin/a',
    'read',
    { '2026-09-05': 10, '2026-09-06': 4 },
    { errno: 10, allow: 4 },
  );
  const [windowed] = entriesInWindow(craftedTrace([entry]), windowEnding(NOW, 90));
  assert.equal(windowed?.count, 4);
  assert.deepEqual(windowed?.decisions, { errno: 4, allow: 4 });
  assert.deepEqual([...windowed!.perDay], [['2026-09-06', 4]]);
});

const SMALL_POLICY = `
name: small
architectures: [x86_64]
defaultAction: errno(EPERM)
metadata: { owner: me, lastReview: 2026-11-30, reviewInterval: 12w }
rules:
  - syscalls: [read]
    action: allow
    reason: r
`;

async function smallReview(traceEntries: ReturnType<typeof craftedEntry>[], upgraded = false) {
  const policy = await parsePolicyText(SMALL_POLICY, 'small.yaml');
  return buildReview({
    policy,
    policyFile: 'small.yaml',
    trace: craftedTrace(traceEntries),
    traceFiles: [],
    now: NOW,
    windowDays: 30,
    upgraded,
  });
}

test('a clean, recently reviewed policy scores 0 and is scheduled lastReview + interval', async () => {
  const report = await smallReview([craftedEntry('/bin/a', 'read', { '2026-12-01': 5 })]);
  assert.equal(report.score.total, 0);
  assert.equal(report.score.band, 'low');
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.denied, []);
  // 2026-11-30 + 12 weeks
  assert.equal(report.due.scheduled, '2027-02-22');
  assert.equal(report.due.status, 'scheduled');
  assert.equal(report.due.daysLeft, 80);
  assert.equal(report.drift, undefined);
});

test('a version change of an executable since the last review makes the review due now', async () => {
  const report = await smallReview([
    craftedEntry('/srv/api-1.4.2/api', 'read', { '2026-11-20': 5 }),
    craftedEntry('/srv/api-1.5.0/api', 'read', { '2026-12-02': 5 }),
  ]);
  assert.equal(report.due.status, 'due-now');
  assert.equal(report.due.due, '2026-12-04');
  assert.equal(report.due.daysLeft, 0);
  assert.deepEqual(report.due.upgrades, [
    {
      kind: 'new-version',
      exe: '/srv/api-1.5.0/api',
      previousExe: '/srv/api-1.4.2/api',
      firstSeen: '2026-12-02',
    },
  ]);
  assert.equal(report.score.components.find((item) => item.id === 'unreviewed-upgrade')?.points, 5);
});

test('a version change before the last review does not count; --upgraded does', async () => {
  const entries = [
    craftedEntry('/srv/api-1.4.2/api', 'read', { '2026-11-20': 5 }),
    craftedEntry('/srv/api-1.5.0/api', 'read', { '2026-11-25': 5 }),
  ];
  assert.equal((await smallReview(entries)).due.status, 'scheduled');
  const flagged = await smallReview(entries, true);
  assert.equal(flagged.due.status, 'due-now');
  assert.deepEqual(flagged.due.upgrades, [{ kind: 'flag' }]);
});

test('use over time: more than 8 executables fold into one "other" series', async () => {
  const entries = Array.from({ length: 10 }, (_, index) =>
    craftedEntry(`/bin/p${index}`, 'read', { '2026-12-01': 100 - index, '2026-12-03': 1 }),
  );
  const report = await smallReview(entries);
  assert.deepEqual(report.usage.days, ['2026-12-01', '2026-12-02', '2026-12-03']);
  assert.equal(report.usage.series.length, 8);
  assert.deepEqual(report.usage.series.map((series) => series.exe).slice(0, 7), [
    '/bin/p0',
    '/bin/p1',
    '/bin/p2',
    '/bin/p3',
    '/bin/p4',
    '/bin/p5',
    '/bin/p6',
  ]);
  // p7, p8, p9: 93 + 92 + 91 on the first day, 1 each on the third.
  assert.deepEqual(report.usage.series[7], { exe: '', other: true, total: 279, counts: [276, 0, 3] });
});

test('a policy with no review recorded is due now and scores as overdue', async () => {
  const policy = await parsePolicyText(SMALL_POLICY.replace(/^metadata:.*$/m, ''), 'small.yaml');
  const report = buildReview({
    policy,
    policyFile: 'small.yaml',
    trace: craftedTrace([craftedEntry('/bin/a', 'read', { '2026-12-01': 5 })]),
    traceFiles: [],
    now: NOW,
    windowDays: 30,
    upgraded: false,
  });
  assert.deepEqual(report.due, {
    interval: '90d',
    due: '2026-12-04',
    daysLeft: 0,
    status: 'due-now',
    upgrades: [],
  });
  assert.equal(report.score.total, 10);
});
