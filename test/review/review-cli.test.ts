import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_FILE, PREVIOUS_FILE, TRACE_FILES } from './fixtures.js';
import { sysfenceInProcess } from '../helpers/cli.js';
import { tempDirForTest } from '../helpers/temp.js';

const sysfence = sysfenceInProcess;

const dir = tempDirForTest('sysfence-review-');

const BASE = [
  'review',
  POLICY_FILE,
  '--trace',
  TRACE_FILES[0]!,
  TRACE_FILES[1]!,
  '--now',
  '2026-12-04',
  '--previous',
  PREVIOUS_FILE,
];

test('review writes HTML, Markdown or JSON as the output extension says', async () => {
  for (const [name, start] of [
    ['report.html', '<!DOCTYPE html>'],
    ['report.md', '# Policy review: web-review'],
    ['report.json', '{\n  "format": "sysfence-review/1"'],
  ] as const) {
    const output = join(dir, name);
    const run = await sysfence(...BASE, '-o', output);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${output}: risk score 53/100 (high), next review 2026-10-30 (overdue)\n`);
    assert.ok(readFileSync(output, 'utf8').startsWith(start), name);
  }
});

test('--format overrides the extension; without -o the report goes to standard output', async () => {
  const output = join(dir, 'report.txt');
  assert.equal((await sysfence(...BASE, '-o', output, '--format', 'json')).code, 0);
  assert.equal(JSON.parse(readFileSync(output, 'utf8')).format, 'sysfence-review/1');
  const stdout = await sysfence(...BASE, '--lang', 'zh');
  assert.equal(stdout.code, 0);
  assert.match(stdout.stdout, /^# 策略审查报告: web-review/);
});

test("the JSON report is accepted as the next review's --previous", async () => {
  const first = join(dir, 'first.json');
  assert.equal((await sysfence(...BASE, '-o', first)).code, 0);
  const second = await sysfence(
    'review',
    POLICY_FILE,
    '--trace',
    TRACE_FILES[1]!,
    '--now',
    '2026-12-05',
    '--previous',
    first,
    '--format',
    'json',
  );
  assert.equal(second.code, 0, second.stderr);
  const drift = JSON.parse(second.stdout).drift;
  assert.deepEqual(drift.newExecutables, []);
  assert.deepEqual(drift.newDenials, []);
});

test('--since narrows the window; --upgraded makes the review due now', async () => {
  const run = await sysfence(
    'review',
    POLICY_FILE,
    '--trace',
    TRACE_FILES[1]!,
    '--now',
    '2026-12-04',
    '--since',
    '3d',
    '--format',
    'json',
    '--upgraded',
  );
  const report = JSON.parse(run.stdout);
  assert.deepEqual(report.window, { from: '2026-12-02', to: '2026-12-04', days: 3 });
  assert.deepEqual(report.due.upgrades[0], { kind: 'flag' });
  assert.equal(report.due.status, 'overdue'); // already overdue: it stays overdue
});

test('bad usage and unreadable input exit 2 with a message', async () => {
  const cases: [string[], RegExp][] = [
    [['review', POLICY_FILE], /missing --trace TRACE/],
    [
      ['review', POLICY_FILE, '--trace', TRACE_FILES[0]!, '-o', join(dir, 'r.pdf')],
      /cannot tell the format of/,
    ],
    [['review', POLICY_FILE, '--trace', TRACE_FILES[0]!, '--since', '90'], /--since needs a duration/],
    [['review', POLICY_FILE, '--trace', TRACE_FILES[0]!, '--lang', 'fr'], /unknown language 'fr'/],
    [['review', POLICY_FILE, '--trace', POLICY_FILE], /not JSON/],
    [['review', POLICY_FILE, '--trace', TRACE_FILES[0]!, '--previous', POLICY_FILE], /not JSON/],
  ];
  for (const [argv, message] of cases) {
    const run = await sysfence(...argv);
    assert.equal(run.code, 2, argv.join(' '));
    assert.match(run.stderr, message);
  }
});
