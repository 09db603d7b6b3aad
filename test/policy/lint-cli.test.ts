/** `sysfence check` through main(): text, JSON and SARIF output and the exit codes CI relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { LINT_CATALOGUE } from '../../src/policy/lint.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/lint/', import.meta.url));
const NOW = ['--now', '2026-02-01'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function check(file: string, ...options: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const now = options.includes('--now') ? [] : NOW;
  const code = await main(['check', `${FIXTURES}${file}`, ...now, ...options], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

test('text output: file:line:col: severity: message [id], then why and fix', async () => {
  const run = await check('risky.yaml');
  assert.equal(run.code, 1);
  const lines = run.stdout.split('\n');
  assert.match(
    lines[0] ?? '',
    /risky\.yaml:5:5: error: ptrace .* is allowed .* \[dangerous-syscall-allowed\]$/,
  );
  assert.match(lines[1] ?? '', /^ {2}why: .*ptrace|^ {2}why: reads and writes/);
  assert.match(lines[2] ?? '', /^ {2}fix: /);
  assert.match(run.stdout, /risky\.yaml:8:5: warning: .* \[kill-thread\]/);
  assert.match(run.stdout, /risky\.yaml:11:5: info: .*expires on 2026-02-10.* \[exception-expiring\]/);
  assert.match(run.stdout, /3 finding\(s\): 1 error, 1 warning, 1 info\n$/);
});

test('exit code follows --fail-on', async () => {
  assert.equal((await check('clean.yaml', '--fail-on', 'info')).code, 0);
  assert.equal((await check('warnings-only.yaml')).code, 0);
  assert.equal((await check('warnings-only.yaml', '--fail-on', 'warning')).code, 1);
  assert.equal((await check('warnings-only.yaml', '--fail-on', 'error')).code, 0);
  assert.equal((await check('risky.yaml', '--fail-on', 'error')).code, 1);
});

test('--now decides expiry: the same exception is expired a month later', async () => {
  const later = await check('risky.yaml', '--now', '2026-03-01', '--format', 'json');
  assert.equal(later.code, 1);
  const ids = (JSON.parse(later.stdout) as Array<{ id: string }>).map((f) => f.id);
  assert.ok(ids.includes('exception-expired') && !ids.includes('exception-expiring'));
  assert.equal((await check('clean.yaml', '--now', '2026-02-30')).code, 2, 'not a real date');
});

test('bad input exits 2 with a located error', async () => {
  const broken = await check('broken.yaml');
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /broken\.yaml:6:13: error: unknown action 'permit'/);
  assert.equal((await check('missing.yaml')).code, 2);
  assert.equal((await check('clean.yaml', '--format', 'xml')).code, 2);
  assert.equal((await check('clean.yaml', '--fail-on', 'fatal')).code, 2);
});

test('json output: an array of findings with location, reason and fix', async () => {
  const run = await check('risky.yaml', '--format', 'json');
  assert.equal(run.code, 1);
  const findings = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  assert.equal(findings.length, 3);
  const [first] = findings;
  assert.equal(first?.['id'], 'dangerous-syscall-allowed');
  assert.equal(first?.['severity'], 'error');
  assert.equal(first?.['syscall'], 'ptrace');
  assert.equal(first?.['line'], 5);
  assert.equal(first?.['column'], 5);
  assert.equal(first?.['layer'], 'risky');
  assert.match(String(first?.['file']), /risky\.yaml$/);
  for (const finding of findings) {
    for (const field of ['message', 'reason', 'fix']) assert.ok(String(finding[field]).length > 0, field);
  }
  const clean = await check('clean.yaml', '--format', 'json');
  assert.deepEqual(JSON.parse(clean.stdout), []);
});

interface SarifShape {
  version: string;
  $schema: string;
  runs: Array<{
    tool: {
      driver: {
        name: string;
        rules: Array<{ id: string; help: { text: string }; shortDescription: { text: string } }>;
      };
    };
    results: Array<{
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: Array<{
        physicalLocation: {
          artifactLocation: { uri: string };
          region?: { startLine: number; startColumn: number };
        };
      }>;
    }>;
  }>;
}

test('sarif output: SARIF 2.1.0 with every lint as a rule and located results', async () => {
  const run = await check('risky.yaml', '--format', 'sarif');
  assert.equal(run.code, 1);
  const log = JSON.parse(run.stdout) as SarifShape;
  assert.equal(log.version, '2.1.0');
  assert.match(log.$schema, /sarif-2\.1\.0/);
  assert.equal(log.runs.length, 1);
  const [sarifRun] = log.runs;
  const rules = sarifRun?.tool.driver.rules ?? [];
  assert.equal(sarifRun?.tool.driver.name, 'sysfence');
  assert.deepEqual(
    rules.map((r) => r.id),
    LINT_CATALOGUE.map((l) => l.id),
  );
  for (const rule of rules) assert.match(rule.help.text, /^Why: .+\nFix: .+/);
  const results = sarifRun?.results ?? [];
  assert.deepEqual(
    results.map((r) => [r.ruleId, r.level]),
    [
      ['dangerous-syscall-allowed', 'error'],
      ['kill-thread', 'warning'],
      ['exception-expiring', 'note'],
    ],
  );
  for (const result of results) {
    assert.equal(rules[result.ruleIndex]?.id, result.ruleId);
    const location = result.locations[0]?.physicalLocation;
    assert.match(location?.artifactLocation.uri ?? '', /^file:\/\/.*risky\.yaml$/);
    assert.ok((location?.region?.startLine ?? 0) > 0);
  }
});

test('a policy-wide finding points at the policy file without a region', async () => {
  const run = await check('warnings-only.yaml', '--format', 'sarif');
  const log = JSON.parse(run.stdout) as SarifShape;
  const [result] = log.runs[0]?.results ?? [];
  assert.equal(result?.ruleId, 'unknown-action-not-enosys');
  assert.equal(result?.locations[0]?.physicalLocation.region, undefined);
  assert.match(result?.locations[0]?.physicalLocation.artifactLocation.uri ?? '', /warnings-only\.yaml$/);
});
