import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  confidence,
  eventExecutable,
  learnedValuesOf,
  MAX_CONTAINERS_PER_ENTRY,
  mergeTraces,
  readTrace,
  TraceBuilder,
  TraceFormatError,
  traceFromEvents,
  writeTrace,
  type TraceEntry,
} from '../../src/learn/trace.js';
import { tempDirForTest } from '../helpers/temp.js';
import { call, DAY, T0 } from './helpers.js';

const dir = tempDirForTest('sysfence-trace-');

function entryOf(entries: readonly TraceEntry[], syscall: string, value?: string): TraceEntry {
  const found = entries.find(
    (e) => e.syscall === syscall && (value === undefined || e.args[0]?.value === value),
  );
  assert.ok(found, `no entry for ${syscall} ${value ?? ''}`);
  return found;
}

test('TraceBuilder adds up counts, widens first/last seen, counts decisions and days', () => {
  const builder = new TraceBuilder();
  builder.add(call('read', [], { count: 10, time: T0 + 5 }));
  builder.add(call('read', [], { time: T0 + DAY, action: { kind: 'log' } }));
  builder.add(call('read', [], { time: T0, containerId: 'c1' }));
  const trace = builder.build();
  assert.equal(trace.entries.length, 1);
  const read = entryOf(trace.entries, 'read');
  assert.equal(read.count, 12);
  assert.equal(read.firstSeen, T0);
  assert.equal(read.lastSeen, T0 + DAY);
  assert.deepEqual(read.decisions, { observed: 11, log: 1 });
  assert.deepEqual(read.perDay, { '2026-12-01': 11, '2026-12-02': 1 });
  assert.deepEqual(read.containers, ['c1']);
  assert.equal(trace.start, T0);
  assert.equal(trace.end, T0 + DAY);
  assert.deepEqual(trace.sources, ['ebpf']);
  assert.deepEqual(trace.hosts, ['web-1']);
});

test('learned arguments key entries, masked as LEARNED_ARGUMENTS says', () => {
  const trace = traceFromEvents([
    call('socket', [2n, 1n, 0n]),
    call('socket', [0xffff_ffff_0000_0002n, 2n, 0n]), // upper half ignored: int argument
    call('socket', [16n, 3n, 0n]),
    call('clone', [0x11n]), // SIGCHLD only: no namespace bits
    call('clone', [0x1000_0011n]), // CLONE_NEWUSER
    call('read', [3n, 0n, 10n]), // read's arguments are not learned
  ]);
  assert.equal(entryOf(trace.entries, 'socket', '0x2').count, 2);
  assert.equal(entryOf(trace.entries, 'socket', '0x10').count, 1);
  assert.equal(entryOf(trace.entries, 'clone', '0x0').count, 1);
  assert.equal(entryOf(trace.entries, 'clone', '0x10000000').count, 1);
  assert.deepEqual(entryOf(trace.entries, 'read').args, []);
  assert.deepEqual(learnedValuesOf('socket', undefined), []);
  assert.deepEqual(learnedValuesOf('ioctl', [3n]), [], 'a missing learned argument means unknown, not 0');
});

test('entries are attributed to the executable, else the task name in brackets', () => {
  assert.equal(eventExecutable(call('read')), '/usr/bin/app');
  assert.equal(eventExecutable(call('read', [], { exe: undefined, comm: 'worker' })), '[worker]');
  assert.equal(eventExecutable(call('read', [], { exe: '', comm: '' })), '');
});

test('containers per entry are bounded', () => {
  const events = Array.from({ length: MAX_CONTAINERS_PER_ENTRY + 10 }, (_, i) =>
    call('read', [], { containerId: `c${i}` }),
  );
  assert.equal(traceFromEvents(events).entries[0]?.containers.length, MAX_CONTAINERS_PER_ENTRY);
});

test('mergeTraces counts runs per entry, so confidence is the share of runs that saw it', () => {
  const run1 = traceFromEvents([call('read', [], { count: 5 }), call('openat')]);
  const run2 = traceFromEvents([call('read', [], { count: 7, time: T0 + DAY })]);
  const run3 = traceFromEvents([call('read', [], { time: T0 + 2 * DAY }), call('socket', [2n])]);
  const merged = mergeTraces([run1, run2, run3]);
  assert.equal(merged.runs, 3);
  const read = entryOf(merged.entries, 'read');
  assert.equal(read.count, 13);
  assert.equal(read.runs, 3);
  assert.equal(read.lastSeen, T0 + 2 * DAY);
  assert.equal(confidence(read, merged), 1);
  assert.equal(confidence(entryOf(merged.entries, 'openat'), merged), 1 / 3);
  assert.equal(merged.start, T0);
  assert.equal(merged.end, T0 + 2 * DAY);
  // Merging merged traces keeps counting runs.
  const again = mergeTraces([merged, run1]);
  assert.equal(again.runs, 4);
  assert.equal(entryOf(again.entries, 'openat').runs, 2);
  // Inputs are not modified.
  assert.equal(entryOf(run1.entries, 'read').count, 5);
});

test('mergeTraces of nothing, and confidence of an empty trace, are 0', () => {
  const empty = mergeTraces([]);
  assert.equal(empty.runs, 0);
  assert.equal(empty.start, 0);
  assert.equal(confidence(entryOf(traceFromEvents([call('read')]).entries, 'read'), empty), 0);
});

test('writeTrace and readTrace round-trip', async () => {
  const trace = mergeTraces([traceFromEvents([call('socket', [10n], { containerId: 'abc' }), call('read')])]);
  const path = join(dir, 'trace.json');
  await writeTrace(path, trace);
  assert.deepEqual(await readTrace(path), trace);
});

test('readTrace rejects what is not a trace, naming file and place', async () => {
  const cases: [string, RegExp][] = [
    ['{', /not JSON/],
    ['{"format":"other"}', /not a sysfence trace/],
    ['{"format":"sysfence-trace/1","entries":{}}', /"entries" must be a list/],
    [
      '{"format":"sysfence-trace/1","entries":[{"exe":"","abi":"vax","syscall":"read"}]}',
      /entries\[0\]\.abi/,
    ],
    [
      '{"format":"sysfence-trace/1","entries":[{"exe":"","abi":"x86_64","syscall":"read","nr":0,"count":-1}]}',
      /entries\[0\]\.count/,
    ],
    [
      '{"format":"sysfence-trace/1","entries":[{"exe":"","abi":"x86_64","syscall":"socket","nr":41,"count":1,"firstSeen":0,"lastSeen":0,"args":[{"index":0,"value":"2"}]}]}',
      /entries\[0\]\.args\[0\]/,
    ],
  ];
  for (const [text, message] of cases) {
    const path = join(dir, 'bad.json');
    writeFileSync(path, text);
    await assert.rejects(
      readTrace(path),
      (error: unknown) =>
        error instanceof TraceFormatError && error.file === path && message.test(error.message),
      text,
    );
  }
});
