import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError } from '../../src/policy/errors.js';
import { parseActionText } from '../../src/policy/action-text.js';
import { parseValue } from '../../src/policy/values.js';

const here = { file: 'inline.yaml', line: 3, column: 7 };

function problemOf(run: () => unknown): { message: string; hint?: string; location?: unknown } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PolicyError, `expected a PolicyError, got ${String(error)}`);
    assert.equal(error.problems.length, 1);
    return error.problems[0] as { message: string; hint?: string; location?: unknown };
  }
  assert.fail('expected a PolicyError');
}

test('integers in every base parse exactly', () => {
  assert.equal(parseValue('42', 64), 42n);
  assert.equal(parseValue('0x2A', 64), 42n);
  assert.equal(parseValue('0o52', 64), 42n);
  assert.equal(parseValue('0b101010', 64), 42n);
  assert.equal(parseValue(42n, 32), 42n);
  assert.equal(parseValue(42, 32), 42n);
  assert.equal(parseValue(0xffffffffffffffffn, 64), 0xffffffffffffffffn);
  assert.equal(parseValue('0xffffffffffffffff', 64), 0xffffffffffffffffn);
});

test("negative values are two's complement within the width", () => {
  assert.equal(parseValue('-1', 32), 0xffffffffn);
  assert.equal(parseValue(-1n, 64), 0xffffffffffffffffn);
  assert.equal(parseValue('-0x80000000', 32), 0x80000000n);
  assert.match(problemOf(() => parseValue('-0x80000001', 32)).message, /does not fit in 32 bits/);
});

test('constants and A|B combinations', () => {
  assert.equal(parseValue('AF_INET', 32), 2n);
  assert.equal(parseValue('AF_INET | AF_UNIX', 32), 3n);
  assert.equal(parseValue('AF_INET6|0x100', 64), 0x10an);
});

test('a value must fit its width', () => {
  assert.equal(parseValue('0xffffffff', 32), 0xffffffffn);
  const problem = problemOf(() => parseValue('0x100000000', 32, here));
  assert.match(problem.message, /'0x100000000' does not fit in 32 bits/);
  assert.deepEqual(problem.location, here);
  assert.match(problem.hint ?? '', /width: 64/);
  assert.match(problemOf(() => parseValue(1n << 64n, 64)).message, /does not fit in 64 bits/);
});

test('malformed values are located errors', () => {
  assert.match(problemOf(() => parseValue('AF_INTE', 64, here)).message, /unknown constant 'AF_INTE'/);
  assert.match(problemOf(() => parseValue('AF_INTE', 64)).hint ?? '', /AF_INET/);
  assert.match(problemOf(() => parseValue('constructor', 64)).message, /unknown constant/);
  assert.match(problemOf(() => parseValue('1|', 64)).message, /empty operand/);
  assert.match(problemOf(() => parseValue('1 + 2', 64)).message, /neither an integer nor a constant/);
  assert.match(problemOf(() => parseValue(1.5, 64)).message, /not an integer/);
});

test('C-style octal with a leading zero is refused rather than read as decimal', () => {
  const problem = problemOf(() => parseValue('0755', 32));
  assert.match(problem.message, /leading zero/);
  assert.match(problem.hint ?? '', /0o755/);
});

test('every action spelling parses', () => {
  assert.deepEqual(parseActionText('allow'), { kind: 'allow' });
  assert.deepEqual(parseActionText('log'), { kind: 'log' });
  assert.deepEqual(parseActionText('kill_process'), { kind: 'kill_process' });
  assert.deepEqual(parseActionText('kill_thread'), { kind: 'kill_thread' });
  assert.deepEqual(parseActionText('notify'), { kind: 'notify' });
  assert.deepEqual(parseActionText('trap'), { kind: 'trap', data: 0 });
  assert.deepEqual(parseActionText('trap(65535)'), { kind: 'trap', data: 65535 });
  assert.deepEqual(parseActionText('trace(7)'), { kind: 'trace', data: 7 });
  assert.deepEqual(parseActionText('errno(EPERM)'), { kind: 'errno', errno: 1 });
  assert.deepEqual(parseActionText('errno(4095)'), { kind: 'errno', errno: 4095 });
  assert.deepEqual(parseActionText('errno(0)'), { kind: 'errno', errno: 0 });
});

test('bad actions are located errors listing the valid spellings', () => {
  const unknown = problemOf(() => parseActionText('ALLOW', here));
  assert.match(unknown.message, /unknown action 'ALLOW'/);
  assert.deepEqual(unknown.location, here);
  assert.match(
    unknown.hint ?? '',
    /allow, log, kill_process, kill_thread, trap, trap\(N\), notify, errno\(NAME\), errno\(N\), trace\(N\)/,
  );
  assert.match(problemOf(() => parseActionText('errno(5000)')).message, /errno 5000 is out of range/);
  assert.match(problemOf(() => parseActionText('errno(ENOTANERRNO)')).message, /unknown errno name/);
  assert.match(problemOf(() => parseActionText('errno(EPREM)')).hint ?? '', /EPERM/);
  assert.match(problemOf(() => parseActionText('trap(65536)')).message, /0\.\.65535/);
  assert.match(problemOf(() => parseActionText('trace(-1)')).message, /unknown action/);
  assert.match(problemOf(() => parseActionText('trace')).message, /unknown action/);
  assert.match(problemOf(() => parseActionText('deny')).message, /unknown action 'deny'/);
});

test('actions have exactly one spelling: no case, spacing or alias variants', () => {
  for (const text of [
    'constructor',
    'toString',
    'Allow',
    ' allow',
    'errno( EPERM )',
    'kill',
    'SCMP_ACT_ALLOW',
    'errno(eperm)',
    'trap()',
  ]) {
    assert.match(problemOf(() => parseActionText(text)).message, /unknown/, text);
  }
});
