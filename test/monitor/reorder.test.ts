/** The reorder buffer against its specification, on random streams (fast-check). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReorderBuffer } from '../../src/monitor/reorder.js';
import type { SyscallEvent } from '../../src/sources/event.js';
import { syscallEvent } from './support.js';

const WINDOW_MS = 100;

function release(times: readonly number[], maxEvents: number): { released: SyscallEvent[]; late: number } {
  const buffer = new ReorderBuffer(WINDOW_MS, maxEvents);
  const released: SyscallEvent[] = [];
  times.forEach((time, index) =>
    buffer.push(syscallEvent({ pid: index, syscall: 'read', time }), (e) => released.push(e)),
  );
  buffer.flush((e) => released.push(e));
  return { released, late: buffer.late };
}

test('events displaced by less than the window come out sorted (ties in arrival order), none late', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: WINDOW_MS - 1 }), { maxLength: 300 }), (jitter) => {
      // Event i happened at 10*i and arrives up to WINDOW_MS - 1 early or late relative to its neighbours.
      const times = jitter.map((delay, index) => index * 10 + delay);
      const { released, late } = release(times, 10_000);
      const expected = times
        .map((time, index) => ({ time, index }))
        .sort((a, b) => a.time - b.time || a.index - b.index)
        .map((entry) => entry.index);
      assert.deepEqual(
        released.map((event) => event.pid),
        expected,
      );
      assert.equal(late, 0);
    }),
  );
});

test('every event is released exactly once, whatever the disorder and the size bound', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      (times, max) => {
        const { released } = release(times, max);
        assert.deepEqual(
          released.map((event) => event.pid).sort((a, b) => a - b),
          times.map((_, index) => index),
        );
      },
    ),
  );
});

test('one far-future event does not end time ordering: a minute later events are reordered again', () => {
  let now = 1_000_000;
  const buffer = new ReorderBuffer(2000, 10_000, () => now);
  const released: number[] = [];
  const push = (time: number) =>
    buffer.push(syscallEvent({ pid: 1, syscall: 'read', time }), (e) => void released.push(e.time));
  const forged = now + 10_000_000_000; // a year ahead
  push(now - 100);
  push(forged);
  now += 70_000;
  push(now - 50);
  push(now - 80); // out of order by 30 ms: must still come out sorted
  buffer.flush((e) => void released.push(e.time));
  assert.deepEqual(released, [1_000_000 - 100, now - 80, now - 50, forged]);
  assert.equal(buffer.ahead, 1);
});
