import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy, parsePolicyText } from '../../src/policy/load.js';
import { FIXTURES, onlyProblem, problemsOf, virtualFiles } from './policy-problems.js';

const LAYERS = `${FIXTURES}/layers`;

test('four layers: base → business → region → exceptions', async () => {
  const policy = await loadPolicy(`${LAYERS}/exceptions.yaml`);
  assert.equal(policy.name, 'exceptions');
  assert.deepEqual(
    policy.layers.map((layer) => [layer.name, layer.file]),
    [
      ['exceptions', `${LAYERS}/exceptions.yaml`],
      ['region-eu', `${LAYERS}/region.yaml`],
      ['business', `${LAYERS}/business.yaml`],
      ['base', `${LAYERS}/base.yaml`],
    ],
  );
  // Most derived layer first, file order within a layer.
  assert.deepEqual(
    policy.rules.map((rule) => [rule.layer, rule.selectors.join(' ')]),
    [
      ['exceptions', 'ptrace'],
      ['region-eu', 'socket'],
      ['business', 'socket'],
      ['business', 'connect sendto recvfrom'],
      ['base', '@basic-io exit_group brk mmap munmap'],
      ['base', 'ptrace'],
      ['base', 'socket'],
    ],
  );
  assert.deepEqual(policy.rules[1]?.location, { file: `${LAYERS}/region.yaml`, line: 6, column: 5 });
});

test('scalar settings: the most derived layer that sets them wins', async () => {
  const policy = await loadPolicy(`${LAYERS}/exceptions.yaml`);
  assert.deepEqual(policy.architectures, ['x86_64'], "region narrows base's [x86_64, i386] (amd64 alias)");
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 13 }, 'region overrides base');
  assert.deepEqual(policy.badArchAction, { kind: 'kill_process' }, 'from base');
  assert.deepEqual(policy.unknownAction, { kind: 'errno', errno: 38 }, 'nobody sets it: default');
  const base = await loadPolicy(`${LAYERS}/base.yaml`);
  assert.deepEqual(base.architectures, ['x86_64', 'i386']);
  assert.deepEqual(base.defaultAction, { kind: 'errno', errno: 1 });
});

test('filesystem and network are united, metadata merged per field', async () => {
  const policy = await loadPolicy(`${LAYERS}/exceptions.yaml`);
  assert.deepEqual(policy.filesystem, { read: ['/usr', '/etc'], write: ['/var/lib/app'], execute: [] });
  assert.deepEqual(policy.network, { bindTcp: [8080], connectTcp: [5432] });
  assert.deepEqual(policy.metadata, {
    owner: 'team-web',
    version: '3.1',
    lastReview: '2026-01-15',
    reviewInterval: '180d',
    description: 'Baseline for every service',
  });
});

test('diamond: the shared base is included once, after every layer that extends it', async () => {
  const policy = await loadPolicy(`${FIXTURES}/diamond/top.yaml`);
  assert.deepEqual(
    policy.layers.map((layer) => layer.name),
    ['top', 'left', 'right', 'root'],
  );
  assert.deepEqual(
    policy.rules.map((rule) => rule.reason),
    ['top', 'left', 'right', 'root'],
  );
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 13 }, 'right (more derived) beats root');
});

test('a cycle is an error at the extends entry that closes it, naming the cycle', async () => {
  const problem = await onlyProblem(loadPolicy(`${FIXTURES}/cycle/a.yaml`));
  assert.deepEqual(problem.location, { file: `${FIXTURES}/cycle/c.yaml`, line: 3, column: 5 });
  assert.match(
    problem.message,
    /extends cycle: .*cycle\/a\.yaml -> .*cycle\/b\.yaml -> .*cycle\/c\.yaml -> .*cycle\/a\.yaml/,
  );
});

test('a layer extending itself is a cycle', async () => {
  const files = {
    'p/self.yaml': 'name: self\nextends: ./self.yaml\narchitectures: [x86_64]\ndefaultAction: allow\n',
  };
  const problem = await onlyProblem(
    parsePolicyText(files['p/self.yaml'], 'p/self.yaml', virtualFiles(files)),
  );
  assert.match(problem.message, /extends cycle: p\/self\.yaml -> p\/self\.yaml/);
  assert.deepEqual(problem.location, { file: 'p/self.yaml', line: 2, column: 10 });
});

test('extends paths are relative to the file that wrote them', async () => {
  const files = {
    'svc/app.yaml': 'name: app\nextends: [../shared/base.yaml]\n',
    'shared/base.yaml': 'name: base\nextends: ./arches.yaml\ndefaultAction: allow\n',
    'shared/arches.yaml': 'name: arches\narchitectures: [aarch64]\n',
  };
  const policy = await parsePolicyText(files['svc/app.yaml'], 'svc/app.yaml', virtualFiles(files));
  assert.deepEqual(policy.architectures, ['aarch64']);
  assert.deepEqual(
    policy.layers.map((layer) => layer.file),
    ['svc/app.yaml', 'shared/base.yaml', 'shared/arches.yaml'],
  );
});

test('problems in several layers are reported together', async () => {
  const files = {
    'top.yaml': 'name: top\nextends: [./a.yaml, ./b.yaml]\n',
    'a.yaml': 'name: a\narchitectures: [x86_64]\ndefaultAction: nope\n',
    'b.yaml': 'name: b\nrules:\n  - { syscalls: [reed], action: allow, reason: r }\n',
  };
  const problems = await problemsOf(parsePolicyText(files['top.yaml'], 'top.yaml', virtualFiles(files)));
  assert.deepEqual(
    problems.map((p) => `${p.location?.file}:${p.location?.line}`),
    ['a.yaml:3', 'b.yaml:3'],
  );
});

test('a chain that never sets architectures or defaultAction is an error at the entry layer', async () => {
  const files = { 'x.yaml': 'name: x\nrules: []\n' };
  const problems = await problemsOf(parsePolicyText(files['x.yaml'], 'x.yaml', virtualFiles(files)));
  assert.deepEqual(
    problems.map((p) => [p.message, p.location?.line]),
    [
      ['no layer sets architectures', 1],
      ['no layer sets defaultAction', 1],
    ],
  );
});

test('two layers may not share a name', async () => {
  const files = {
    'a.yaml': 'name: same\nextends: ./b.yaml\n',
    'b.yaml': 'name: same\narchitectures: [x86_64]\ndefaultAction: allow\n',
  };
  const problem = await onlyProblem(parsePolicyText(files['a.yaml'], 'a.yaml', virtualFiles(files)));
  assert.match(problem.message, /layer name 'same' is also used by a\.yaml/);
  assert.equal(problem.location?.file, 'b.yaml');
});

test('a missing entry file is a PolicyError naming it', async () => {
  const problem = await onlyProblem(loadPolicy(`${FIXTURES}/does-not-exist.yaml`));
  assert.match(problem.message, /cannot read policy '.*does-not-exist\.yaml': no such file/);
});
