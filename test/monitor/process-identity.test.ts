/**
 * Which process a pid named when it made an event: the breaker must act on that one, never on a process
 * that took the pid over later, and must not lose a process whose pid was reused without an exit event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcStat } from '../../src/monitor/proc-stat.js';
import { ProcessIdentities } from '../../src/monitor/process-identity.js';
import type { SyscallEvent } from '../../src/sources/event.js';

const PID = 4242;
const NOW = Date.now();

/** A fake /proc whose process at PID can be swapped, and a fake wall clock. */
function world(): {
  identities: ProcessIdentities;
  live: (ticks: number | undefined) => void;
  tick: (ms: number) => void;
} {
  let liveTicks: number | undefined = 100;
  let clock = NOW;
  const readStat = (pid: number): ProcStat | undefined =>
    pid === PID && liveTicks !== undefined ? { pid, state: 'S', ppid: 1, startTicks: liveTicks } : undefined;
  return {
    identities: new ProcessIdentities(readStat, 1024, () => clock),
    live: (ticks) => (liveTicks = ticks),
    tick: (ms) => (clock += ms),
  };
}

function call(syscall: string, time: number): SyscallEvent {
  return { source: 'audit', host: 'h', time, pid: PID, arch: 'x86_64', nr: 0, syscall };
}

test('after exit_group and pid reuse, an alert on the old process never resolves to the new one', () => {
  const { identities, live } = world();
  identities.observe(call('read', NOW + 0));
  identities.observe(call('exit_group', NOW + 500));
  live(900); // another process now holds the pid
  identities.observe(call('read', NOW + 1000));
  assert.equal(identities.identity(PID, NOW + 200), undefined, "the old process's event: nobody to act on");
  assert.deepEqual(identities.identity(PID, NOW + 1000), { pid: PID, startTicks: 900 });
  identities.observe(call('write', NOW + 400)); // a late event of the old process, reordered
  assert.deepEqual(identities.identity(PID, NOW + 1000), { pid: PID, startTicks: 900 });
});

test('a pid reused without an exit event is re-read after the recheck interval', () => {
  const { identities, live, tick } = world();
  identities.observe(call('read', NOW));
  live(900); // killed by a signal (no exit_group seen); the pid reused
  identities.observe(call('read', NOW + 100));
  assert.deepEqual(identities.identity(PID, NOW + 100), { pid: PID, startTicks: 100 }, 'not yet rechecked');
  tick(1500);
  identities.observe(call('read', NOW + 1600));
  assert.deepEqual(identities.identity(PID, NOW + 1600), { pid: PID, startTicks: 900 });
  assert.equal(identities.identity(PID, NOW + 50), undefined, 'events before the takeover are not its');
});

test('a pid first seen gone is looked at again, not ignored for good', () => {
  const { identities, live, tick } = world();
  live(undefined);
  identities.observe(call('read', NOW));
  assert.equal(identities.identity(PID, NOW), undefined);
  live(100);
  tick(1500);
  identities.observe(call('read', NOW + 1500));
  assert.deepEqual(identities.identity(PID, NOW + 1500), { pid: PID, startTicks: 100 });
});

test('events of one process arriving out of order all resolve to it', () => {
  const { identities } = world();
  identities.observe(call('read', NOW + 2000));
  identities.observe(call('read', NOW + 1990));
  assert.deepEqual(identities.identity(PID, NOW + 1990), { pid: PID, startTicks: 100 });
});
