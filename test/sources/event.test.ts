import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptySourceStats,
  eventCount,
  eventSyscallLabel,
  eventToJson,
  EventFormatError,
  MAX_REPORTED_PROBLEMS,
  parseEventJson,
  recordProblem,
  withSyscallName,
  type SyscallEvent,
} from '../../src/sources/event.js';

const FULL: SyscallEvent = {
  source: 'audit',
  host: 'web-1',
  time: 1_764_800_000_123,
  serial: 456,
  pid: 1234,
  tid: 1235,
  ppid: 1,
  comm: 'nginx\nworker',
  exe: '/usr/sbin/nginx',
  uid: 33,
  containerId: 'abcdef0123456789',
  arch: 'x86_64',
  nr: 41,
  syscall: 'socket',
  args: [2n, 0xffff_ffff_ffff_ffffn, 0n, -1n],
  ret: -13n,
  action: { kind: 'errno', errno: 1 },
  count: 7,
};

test('eventToJson and parseEventJson round-trip every field, bigints and the action included', () => {
  const line = eventToJson(FULL);
  assert.equal(line.includes('\n'), false, 'one line, even with a newline in comm');
  const back = parseEventJson(line, 'test:1');
  // -1 is written as a signed hex and read back signed.
  assert.deepEqual(back, FULL);
});

test('a minimal event round-trips and gets its syscall name from the table', () => {
  const minimal: SyscallEvent = { source: 'ebpf', host: '', time: 0, pid: 1, arch: 'x86_64', nr: 0 };
  const back = parseEventJson(eventToJson(minimal), 'test:1');
  assert.deepEqual(back, { ...minimal, syscall: 'read' });
});

test('each action kind survives the SECCOMP_RET encoding', () => {
  const actions = [
    { kind: 'allow' },
    { kind: 'log' },
    { kind: 'kill_process' },
    { kind: 'kill_thread' },
    { kind: 'trap', data: 3 },
    { kind: 'trace', data: 9 },
    { kind: 'notify' },
    { kind: 'errno', errno: 38 },
  ] as const;
  for (const action of actions) {
    const event: SyscallEvent = { source: 'stdin', host: 'h', time: 5, pid: 2, arch: 'i386', nr: 3, action };
    assert.deepEqual(parseEventJson(eventToJson(event), 'x').action, action);
  }
});

test('parseEventJson names the line and the field for bad input', () => {
  const cases: [string, RegExp][] = [
    ['not json', /test:7: not JSON/],
    ['[1]', /must be a JSON object/],
    ['{"source":"audit","host":"h","time":1,"pid":-1,"arch":"x86_64","nr":0}', /field "pid"/],
    ['{"source":"nope","host":"h","time":1,"pid":1,"arch":"x86_64","nr":0}', /unknown source "nope"/],
    ['{"source":"audit","host":"h","time":1,"pid":1,"arch":"vax","nr":0}', /unknown arch "vax"/],
    ['{"source":"audit","host":"h","time":1,"pid":1,"arch":"x86_64","nr":0,"args":["12"]}', /field "args"/],
    [
      '{"source":"audit","host":"h","time":1,"pid":1,"arch":"x86_64","nr":0,"args":["0x1","0x1","0x1","0x1","0x1","0x1","0x1"]}',
      /at most 6/,
    ],
    [
      '{"source":"audit","host":"h","time":1,"pid":1,"arch":"x86_64","nr":0,"count":0}',
      /"count" must be at least 1/,
    ],
    [
      '{"source":"audit","host":"h","time":1,"pid":1,"arch":"x86_64","nr":0,"ret":"0x10000000000000000"}',
      /field "ret"/,
    ],
  ];
  for (const [line, message] of cases) {
    assert.throws(
      () => parseEventJson(line, 'test:7'),
      (error: unknown) =>
        error instanceof EventFormatError && error.where === 'test:7' && message.test(error.message),
      line,
    );
  }
});

test('labels, counts and names', () => {
  const event: SyscallEvent = { source: 'ebpf', host: '', time: 0, pid: 1, arch: 'x86_64', nr: 9999 };
  assert.equal(eventSyscallLabel(event), 'nr:9999');
  assert.equal(eventCount(event), 1);
  assert.equal(eventCount({ ...event, count: 5 }), 5);
  assert.equal(withSyscallName({ ...event, nr: 41 }).syscall, 'socket');
  assert.equal(withSyscallName(event).syscall, undefined);
});

test('recordProblem counts every problem but keeps only the first few', () => {
  const stats = emptySourceStats();
  for (let i = 0; i < MAX_REPORTED_PROBLEMS + 5; i++)
    recordProblem(stats, { where: `f:${i}`, reason: 'bad' });
  assert.equal(stats.malformed, MAX_REPORTED_PROBLEMS + 5);
  assert.equal(stats.problems.length, MAX_REPORTED_PROBLEMS);
  assert.equal(stats.problems[0]?.where, 'f:0');
});
