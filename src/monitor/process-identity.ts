/**
 * Process identities: a pid alone does not name a process (pids are reused), so the monitor captures
 * each process's start time (/proc/PID/stat field 22) when it first sees one of its events, and the
 * breaker acts only on a live process whose start time still matches.
 */
import type { SyscallEvent } from '../sources/event.js';
import { BoundedMap } from './bounded.js';
import { readProcStat, startEpochMs, type ProcStat } from './proc-stat.js';

/** A process: its pid and start time (USER_HZ ticks after boot). */
export interface ProcessRef {
  readonly pid: number;
  readonly startTicks: number;
}

/** Reads a live process's stat; injectable so replays and tests can say which processes exist. */
export type ProcStatReader = (pid: number) => ProcStat | undefined;

/**
 * How much later than its event a process may appear to have started: btime has whole-second precision
 * and wall-clock steps shift it, so a little slack avoids refusing the real process.
 */
const START_SLACK_MS = 2000;
const DEFAULT_CAPACITY = 65_536;

export class ProcessIdentities {
  // null: seen, but no live process could have made the event (gone, or started after it): never act.
  private readonly identities: BoundedMap<number, ProcessRef | null>;

  constructor(
    private readonly readStat: ProcStatReader = readProcStat,
    capacity = DEFAULT_CAPACITY,
  ) {
    this.identities = new BoundedMap(capacity);
  }

  /** Captures the start time of the event's process the first time its pid is seen; forgets it at exit. */
  observe(event: SyscallEvent): void {
    if (event.syscall === 'exit_group') {
      this.identities.delete(event.pid);
      return;
    }
    if (this.identities.has(event.pid)) return;
    this.identities.set(event.pid, this.capture(event.pid, event.time));
  }

  /** The identity captured for `pid`, or undefined when none can be trusted. */
  identity(pid: number): ProcessRef | undefined {
    return this.identities.get(pid) ?? undefined;
  }

  /**
   * The live process with this pid, if it could have made an event at `eventTime`. A process that
   * started after the event (a replayed old trace, or a reused pid) is not the one that made it.
   */
  private capture(pid: number, eventTime: number): ProcessRef | null {
    const stat = this.readStat(pid);
    if (stat === undefined) return null;
    if (startEpochMs(stat.startTicks) > eventTime + START_SLACK_MS) return null;
    return { pid, startTicks: stat.startTicks };
  }
}
