/** The rules file: defaults, every setting, and located errors for every kind of mistake. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyError } from '../../src/policy/errors.js';
import { BUILTIN_RULE_IDS } from '../../src/monitor/alert.js';
import { defaultMonitorConfig, isExcepted, parseMonitorConfig } from '../../src/monitor/rules/config.js';
import { readTrace, replay, alertKeys } from './support.js';

function problems(text: string): string {
  try {
    parseMonitorConfig(text, 'rules.yaml');
  } catch (error) {
    assert.ok(error instanceof PolicyError, String(error));
    return error.format();
  }
  assert.fail('the rules file was accepted');
}

test('defaults: every built-in rule enabled, alert only, not dry-run', () => {
  const config = defaultMonitorConfig();
  assert.deepEqual(
    config.rules.map((rule) => rule.definition.id),
    [...BUILTIN_RULE_IDS],
  );
  for (const rule of config.rules) {
    assert.equal(rule.enabled, true);
    assert.equal(rule.dryRun, false);
    assert.deepEqual(rule.responses, ['alert']);
  }
  assert.equal(config.rules[0]?.params.number('threshold'), 50);
  assert.equal(config.pipeline.reorderWindowMs, 2000);
});

test('every setting is read', () => {
  const config = parseMonitorConfig(
    `pipeline: { reorderWindowMs: 500, reorderMaxEvents: 100, queueCapacity: 10 }
rules:
  rate-breaker:
    enabled: true
    dryRun: true
    severity: critical
    threshold: 10
    windowSeconds: 5
    responses: [alert, freeze, kill]
    thawAfterSeconds: 30
    exceptions:
      - exe: /usr/bin/gdb
      - { comm: backup, uid: 0 }
      - container: 0123456789ab
  baseline-deviation: { enabled: false, sigma: 4.5 }
  time-tamper: { timeDaemons: [/opt/ntp/bin/ntpd] }
`,
    'rules.yaml',
  );
  assert.deepEqual(config.pipeline, { reorderWindowMs: 500, reorderMaxEvents: 100, queueCapacity: 10 });
  const [rate, baseline] = config.rules;
  assert.ok(rate !== undefined && baseline !== undefined);
  assert.equal(rate.dryRun, true);
  assert.equal(rate.severity, 'critical');
  assert.equal(rate.params.number('threshold'), 10);
  assert.equal(rate.params.number('windowSeconds'), 5);
  assert.deepEqual(rate.responses, ['alert', 'freeze', 'kill']);
  assert.equal(rate.thawAfterMs, 30_000);
  assert.deepEqual(rate.exceptions, [
    { exe: '/usr/bin/gdb' },
    { comm: 'backup', uid: 0 },
    { container: '0123456789ab' },
  ]);
  assert.equal(baseline.enabled, false);
  assert.equal(baseline.params.number('sigma'), 4.5);
  assert.deepEqual(config.rules[6]?.params.names('timeDaemons'), ['/opt/ntp/bin/ntpd']);
});

test('mistakes are errors at file:line:col, all reported at once', () => {
  const text = `rules:
  rate-breakr: {}
  spawn-burst:
    treshold: 5
    severity: urgent
    responses: [alert, nuke]
    exceptions: [{}]
  ptrace-inject: { dryRun: maybe, windowSeconds: 0 }
`;
  const message = problems(text);
  assert.match(
    message,
    /rules\.yaml:2:3: error: unknown key 'rate-breakr' in rules\n {2}hint: .*rate-breaker/,
  );
  assert.match(
    message,
    /rules\.yaml:4:5: error: unknown key 'treshold' in rule 'spawn-burst'\n {2}hint: .*threshold/,
  );
  assert.match(message, /rules\.yaml:5:15: error: unknown severity 'urgent'/);
  assert.match(message, /rules\.yaml:6:24: error: unknown response 'nuke'/);
  assert.match(
    message,
    /rules\.yaml:7:18: error: an exception must name at least one of exe, comm, container, uid/,
  );
  assert.match(message, /rules\.yaml:8:28: error: dryRun must be true or false/);
  assert.match(message, /rules\.yaml:8:50: error: windowSeconds must be an integer 1\.\.86400, got 0/);
  assert.match(problems('rules: [\n'), /^rules\.yaml:\d+:\d+: error: YAML: /);
  assert.match(
    problems('rules:\n  time-tamper:\n    exceptions:\n      - container: abc\n'),
    /rules\.yaml:4:20: error: container must be an id of at least 12/,
  );
});

test('exceptions match when every field given matches', () => {
  const event = readTrace('attack-clock')[1];
  assert.ok(event !== undefined);
  assert.equal(isExcepted(event, [{ exe: '/usr/bin/date' }]), true);
  assert.equal(isExcepted(event, [{ exe: '/usr/bin/date', uid: 0 }]), false, 'the event has no uid');
  assert.equal(isExcepted(event, [{ comm: 'date' }]), true);
  assert.equal(isExcepted(event, [{ comm: 'dat' }]), false);
});

test('an exception silences the rule for that process only; dry-run decides without acting', async () => {
  const excepted = parseMonitorConfig(
    'rules:\n  time-tamper:\n    exceptions: [{ exe: /usr/bin/date }]\n',
    'rules.yaml',
  );
  assert.deepEqual(alertKeys((await replay(readTrace('attack-clock'), excepted)).alerts), [
    ['time-tamper', 6001],
  ]);
  const dry = parseMonitorConfig(
    'rules:\n  time-tamper: { dryRun: true, responses: [kill] }\n',
    'rules.yaml',
  );
  const { alerts } = await replay(readTrace('attack-clock'), dry);
  assert.deepEqual(
    alerts.map((alert) => [alert.response, alert.dryRun]),
    [
      ['kill', true],
      ['kill', true],
    ],
  );
  const disabled = parseMonitorConfig('rules:\n  time-tamper: { enabled: false }\n', 'rules.yaml');
  assert.deepEqual((await replay(readTrace('attack-clock'), disabled)).alerts, []);
});

test('responses escalate per process; a replayed pid is never acted on (freeze-skipped)', async () => {
  const config = parseMonitorConfig(
    'rules:\n  rate-breaker: { threshold: 10, responses: [alert, freeze, kill] }\n',
    'rules.yaml',
  );
  const { alerts } = await replay(readTrace('attack-rate'), config);
  assert.deepEqual(
    alerts.filter((alert) => alert.pid === 2000).map((alert) => alert.response),
    ['alert', 'freeze-skipped', 'kill-skipped', 'kill-skipped', 'kill-skipped'],
  );
});
