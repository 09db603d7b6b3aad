import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { loadPolicy, parsePolicyText } from '../../src/policy/load.js';
import type { ResolvedPolicy } from '../../src/policy/ir.js';
import { FIXTURES, HEADER, onlyProblem, problemsOf } from './policy-problems.js';

function inline(text: string): Promise<ResolvedPolicy> {
  return parsePolicyText(text, 'inline.yaml', () => Promise.reject(new Error('no extends expected')));
}

test('features.yaml: settings, metadata, filesystem and network', async () => {
  const policy = await loadPolicy(`${FIXTURES}/features.yaml`);
  assert.equal(policy.name, 'features');
  assert.deepEqual(policy.architectures, ['x86_64', 'i386', 'aarch64']);
  assert.deepEqual(policy.defaultAction, { kind: 'errno', errno: 1 });
  assert.deepEqual(policy.unknownAction, { kind: 'trap', data: 7 });
  assert.deepEqual(policy.badArchAction, { kind: 'kill_thread' });
  assert.deepEqual(policy.metadata, {
    owner: 'team-features',
    version: '4',
    lastReview: '2026-10-01',
    reviewInterval: '90d',
    description: 'exercises the policy format',
  });
  assert.deepEqual(policy.filesystem, { read: ['/usr'], write: ['/tmp'], execute: ['/usr/bin'] });
  assert.deepEqual(policy.network, { bindTcp: [8080, 8443], connectTcp: [5432] });
  assert.deepEqual(policy.layers, [{ name: 'features', file: `${FIXTURES}/features.yaml` }]);
});

test('features.yaml: rules, groups, actions and their locations', async () => {
  const policy = await loadPolicy(`${FIXTURES}/features.yaml`);
  const [io, socket, ioctl, ptrace, kill, tkill, openat2] = policy.rules;
  assert.deepEqual(io?.selectors, ['@basic-io', 'read', 'exit_group']);
  assert.ok(io?.syscalls.includes('write') && io.syscalls.includes('exit_group'));
  assert.equal(io?.syscalls.filter((name) => name === 'read').length, 1, 'names are deduplicated');
  assert.deepEqual(io?.location, { file: `${FIXTURES}/features.yaml`, line: 15, column: 5 });
  assert.equal(io?.layer, 'features');
  assert.equal(io?.tier, 'required');
  assert.deepEqual(socket?.conditions, [
    { index: 0, op: 'eq', value: 2n, width: 64 },
    { index: 1, op: 'masked_eq', value: 1n, mask: 0xfn, width: 32 },
    { index: 2, op: 'le', value: 0xffffffffn, width: 32 },
  ]);
  assert.equal(socket?.tier, 'tolerated');
  assert.equal(socket?.expires, '2027-01-31');
  assert.equal(socket?.ticket, 'OPS-1234');
  assert.equal(socket?.reason, 'tcp over ipv4');
  assert.deepEqual(
    ioctl?.conditions.map((c) => [c.op, c.value]),
    [
      ['ne', 0xffffffffffffffffn],
      ['gt', 3n],
      ['lt', 0o17n],
      ['ge', 5n],
      ['eq', 0xffffffffffffffffn],
    ],
  );
  assert.deepEqual(ptrace?.action, { kind: 'trace', data: 42 });
  assert.deepEqual(kill?.action, { kind: 'notify' });
  assert.deepEqual(tkill?.action, { kind: 'trap', data: 0 });
  assert.deepEqual(openat2?.action, { kind: 'errno', errno: 13 });
});

test('JSON is the same model as YAML', async () => {
  const yaml = await loadPolicy(`${FIXTURES}/features.yaml`);
  const json = await loadPolicy(`${FIXTURES}/features.json`);
  const withoutPlaces = (policy: ResolvedPolicy): unknown => ({
    ...policy,
    layers: [],
    rules: policy.rules.map((rule) => ({ ...rule, location: undefined })),
  });
  assert.deepEqual(withoutPlaces(json), withoutPlaces(yaml));
  assert.equal(json.rules[1]?.location.file, `${FIXTURES}/features.json`);
  assert.ok((json.rules[1]?.location.line ?? 0) > 1);
});

test('defaults: unknownAction errno(ENOSYS), badArchAction kill_process, no optional sections', async () => {
  const policy = await inline(HEADER);
  assert.deepEqual(policy.unknownAction, { kind: 'errno', errno: 38 });
  assert.deepEqual(policy.badArchAction, { kind: 'kill_process' });
  assert.deepEqual(policy.rules, []);
  assert.equal(policy.filesystem, undefined);
  assert.equal(policy.network, undefined);
  assert.equal(policy.metadata, undefined);
});

test('a name that exists on another ABI only is accepted', async () => {
  const policy = await inline(
    `${HEADER}rules:\n  - { syscalls: [socketcall, arm_fadvise64_64], action: allow, reason: compat }\n`,
  );
  assert.deepEqual(policy.rules[0]?.syscalls, ['socketcall', 'arm_fadvise64_64']);
});

/** Each malformed fixture: the single problem it must produce, where, and the hint. */
const MALFORMED: readonly { file: string; message: RegExp; line: number; column: number; hint?: RegExp }[] = [
  { file: 'syntax.yaml', message: /^YAML: .*\]/, line: 3, column: 1 },
  {
    file: 'unknown-syscall.yaml',
    message: /unknown syscall 'opnat'/,
    line: 5,
    column: 22,
    hint: /did you mean 'openat'/,
  },
  {
    file: 'unknown-group.yaml',
    message: /unknown syscall group '@basic-oi'/,
    line: 5,
    column: 16,
    hint: /'@basic-io'/,
  },
  {
    file: 'unknown-action.yaml',
    message: /unknown action 'deny'/,
    line: 6,
    column: 13,
    hint: /errno\(NAME\)/,
  },
  { file: 'arg-index.yaml', message: /arg index must be an integer 0\.\.5, got 7/, line: 8, column: 18 },
  { file: 'errno-range.yaml', message: /errno 5000 is out of range/, line: 6, column: 13, hint: /0\.\.4095/ },
  { file: 'missing-reason.yaml', message: /a rule is missing 'reason'/, line: 5, column: 5, hint: /why/ },
  {
    file: 'unknown-key.yaml',
    message: /unknown key 'arg' in a rule/,
    line: 7,
    column: 5,
    hint: /did you mean 'args'/,
  },
  {
    file: 'value-too-wide.yaml',
    message: /0x100000000.* does not fit in 32 bits/,
    line: 8,
    column: 36,
    hint: /width: 64/,
  },
  {
    file: 'missing-extends.yaml',
    message: /cannot read extended policy .*no-such-layer\.yaml.*no such file/,
    line: 4,
    column: 11,
  },
];

for (const bad of MALFORMED) {
  test(`malformed: ${bad.file} is a located error`, async () => {
    const file = `${FIXTURES}/bad/${bad.file}`;
    const problem = await onlyProblem(loadPolicy(file));
    assert.match(problem.message, bad.message);
    assert.deepEqual(problem.location, { file, line: bad.line, column: bad.column });
    if (bad.hint) assert.match(problem.hint ?? '', bad.hint);
  });
}

test('all problems of a file are reported together, in file order', async () => {
  const file = `${FIXTURES}/bad/many-problems.yaml`;
  const problems = await problemsOf(loadPolicy(file));
  assert.deepEqual(
    problems.map((p) => [p.location?.line, p.location?.column]),
    [
      [2, 25],
      [3, 16],
      [5, 16],
      [8, 5],
      [13, 25],
      [14, 29],
      [15, 54],
      [17, 22],
      [18, 22],
    ],
  );
  assert.ok(problems.every((p) => p.location?.file === file));
  assert.match(
    problems.map((p) => p.message).join('\n'),
    /unknown architecture 'vax'[^]*unknown action 'permit'[^]*'reed'/,
  );
});

test('the message text carries file:line:col', async () => {
  const error = await loadPolicy(`${FIXTURES}/bad/unknown-syscall.yaml`).catch((e: unknown) => e);
  assert.match(
    String((error as Error).message),
    /bad\/unknown-syscall\.yaml:5:22: error: unknown syscall 'opnat'/,
  );
});

test('unknown keys are errors everywhere', async () => {
  const cases = [
    'defaultActoin: allow\n',
    'metadata: { ownr: x }\n',
    'filesystem: { reed: [/usr] }\n',
    'network: { bindUdp: [53] }\n',
    'rules:\n  - { syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: eq, value: 1, wdth: 32 }] }\n',
    'rules:\n  - { syscalls: [read], action: allow, reason: r, comment: c }\n',
  ];
  for (const extra of cases) {
    const problem = await onlyProblem(inline(HEADER + extra));
    assert.match(problem.message, /unknown key/, extra);
    assert.equal(problem.location?.line, extra.startsWith('rules') ? 5 : 4, extra);
  }
});

test('rule and condition shape errors', async () => {
  const rule = (body: string): Promise<ResolvedPolicy> => inline(`${HEADER}rules:\n  - ${body}\n`);
  const cases: readonly [string, RegExp][] = [
    ['{ syscalls: [], action: allow, reason: r }', /at least one syscall/],
    ['{ syscalls: read, action: allow, reason: r }', /syscalls must be a list/],
    ['{ action: allow, reason: r }', /missing 'syscalls'/],
    ['{ syscalls: [read], reason: r }', /missing 'action'/],
    ['{ syscalls: [read], action: allow, reason: "  " }', /reason must be a non-empty string/],
    [
      '{ syscalls: [read], action: allow, reason: r, tier: optional }',
      /tier must be one of required, tolerated/,
    ],
    ['{ syscalls: [read], action: allow, reason: r, expires: 2027-02-30 }', /expires must be a date/],
    ['{ syscalls: [read], action: allow, reason: r, args: [{ op: eq, value: 1 }] }', /missing 'index'/],
    ['{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, value: 1 }] }', /missing 'op'/],
    ['{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: eq }] }', /missing 'value'/],
    [
      '{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: masked_eq, value: 1 }] }',
      /needs a 'mask'/,
    ],
    [
      '{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: eq, value: 1, width: 16 }] }',
      /width must be 32 or 64/,
    ],
    ['{ syscalls: [read], action: allow, reason: r, args: [{ index: -1, op: eq, value: 1 }] }', /arg index/],
    [
      '{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: eq, value: true }] }',
      /value must be an integer/,
    ],
    [
      '{ syscalls: [read], action: allow, reason: r, args: [{ index: 0, op: eq, value: -1 }, { index: 1, op: eq, value: 0755 }] }',
      /leading zero/,
    ],
  ];
  for (const [body, message] of cases) {
    const problem = await onlyProblem(rule(body));
    assert.match(problem.message, message, body);
    assert.equal(problem.location?.line, 5, body);
  }
});

test('top-level shape errors', async () => {
  const cases: readonly [string, RegExp][] = [
    ['architectures: [x86_64]\ndefaultAction: allow\n', /the policy is missing 'name'/],
    ['name: x\narchitectures: []\ndefaultAction: allow\n', /at least one ABI/],
    [
      'name: x\narchitectures: [x86_64]\ndefaultAction: allow\nrules: { syscalls: [read] }\n',
      /rules must be a list/,
    ],
    [
      'name: x\narchitectures: [x86_64]\ndefaultAction: allow\nmetadata: { reviewInterval: soon }\n',
      /reviewInterval/,
    ],
    [
      'name: x\narchitectures: [x86_64]\ndefaultAction: allow\nmetadata: { lastReview: yesterday }\n',
      /lastReview must be a date/,
    ],
    ['- just a list\n', /a policy must be a mapping/],
    ['name: x\n---\nname: y\n', /YAML: .*multiple documents/],
    ['name: x\nname: y\n', /YAML: .*unique/],
  ];
  for (const [text, message] of cases) {
    const problems = await problemsOf(inline(text));
    assert.match(problems.map((p) => p.message).join('\n'), message, text);
    assert.ok(
      problems.every((p) => p.location?.file === 'inline.yaml'),
      text,
    );
  }
});

test('fixture texts load the same through parsePolicyText', async () => {
  const file = `${FIXTURES}/features.yaml`;
  const fromText = await parsePolicyText(await readFile(file, 'utf8'), file);
  assert.deepEqual(fromText, await loadPolicy(file));
});
