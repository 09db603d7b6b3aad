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

/** Which process a pid named from `from` (event time) on; `ref` null when no live process could have. */
interface Tenure {
  readonly ref: ProcessRef | null;
  /** Event time of the earliest event attributed to this process (events may arrive out of order). */
  from: number;
  /** Event time of its exit_group, once seen: the next event of the pid is another process's. */
  ended?: number;
  /** Wall-clock time of the last /proc check, so a pid is re-read at most once per recheck interval. */
  checkedAt: number;
}

/**
 * How often (wall clock) an event of a known pid re-reads its start time: a process killed without an
 * exit_group event, its pid then reused, must not leave the new process unreachable (or the old one's
 * identity on it) for good. Bounded cost: one /proc read per active pid per interval.
 */
const RECHECK_MS = 1000;

export class ProcessIdentities {
  private readonly tenures: BoundedMap<number, Tenure>;

  constructor(
    private readonly readStat: ProcStatReader = readProcStat,
    capacity = DEFAULT_CAPACITY,
    private readonly now: () => number = Date.now,
  ) {
    this.tenures = new BoundedMap(capacity);
  }

  /**
   * Attributes the event to a process: the one its pid named already, or, after that one's exit_group,
   * an unknown first look, or a recheck that finds another live process, the one /proc shows now.
   */
  observe(event: SyscallEvent): void {
    const tenure = this.tenures.get(event.pid);
    if (event.syscall === 'exit_group') {
      if (tenure !== undefined) tenure.ended = event.time;
      return;
    }
    if (tenure !== undefined && this.belongsTo(tenure, event.time)) {
      tenure.from = Math.min(tenure.from, event.time);
      return;
    }
    const ref = this.capture(event.pid, event.time);
    if (tenure !== undefined && tenure.ended === undefined && sameProcess(tenure.ref, ref)) {
      tenure.checkedAt = this.now();
      tenure.from = Math.min(tenure.from, event.time);
      return;
    }
    this.tenures.set(event.pid, { ref, from: event.time, checkedAt: this.now() });
  }

  /**
   * True when the event is the known process's without asking /proc: made before its exit, or while it
   * lives and was checked recently.
   */
  private belongsTo(tenure: Tenure, eventTime: number): boolean {
    if (tenure.ended !== undefined) return eventTime <= tenure.ended;
    return this.now() - tenure.checkedAt < RECHECK_MS;
  }

  /**
   * The process `pid` named when it made an event at `eventTime` (default: the latest one), or undefined
   * when none can be trusted: a process that took the pid over after that event is not its author.
   */
  identity(pid: number, eventTime?: number): ProcessRef | undefined {
    const tenure = this.tenures.get(pid);
    if (tenure === undefined || tenure.ref === null) return undefined;
    if (eventTime !== undefined && eventTime < tenure.from) return undefined;
    return tenure.ref;
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

function sameProcess(a: ProcessRef | null, b: ProcessRef | null): boolean {
  return a === null ? b === null : b !== null && a.startTicks === b.startTicks;
}
