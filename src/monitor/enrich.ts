/**
 * Enrichment: what /proc says about the process behind an event: executable, task name, container,
 * start time and its parent chain. Audit records carry exe and ppid already; eBPF events often carry only
 * pid and comm, so the rules need this to name what they alert on.
 *
 *   const enricher = new Enricher();                 // { procRoot, cacheSize, maxAncestors } for tests
 *   const event2 = enricher.enrich(event);           // fills exe, comm, ppid, containerId when missing
 *   const info = enricher.lookup(pid);               // ProcessInfo with ancestors, or undefined (gone)
 *   processStartTime(pid)                            // /proc/PID/stat field 22, for the breaker's pid check
 *
 * Lookups are synchronous: /proc reads do not touch a disk and the pipeline stays simple. A process's
 * own facts are cached by (pid, start time) in a bounded LRU, so a reused pid never gets the old
 * process's facts; the parent chain is walked afresh on each lookup (through the same cache), as
 * parents exit and processes are re-parented. To
 * keep a busy pid from costing a /proc read per event, `enrich` trusts a pid's entry for
 * `revalidateMs` (default 250 ms) before reading /proc/PID/stat again; `lookup` always reads it. A
 * process that started after the event it is asked about (the pid was reused since) is not attributed.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { containerIdFromCgroup } from '../sources/cgroup.js';
import { buildEvent, type SyscallEvent } from '../sources/event.js';
import { BoundedMap } from './bounded.js';
import { bootTime, readProcStat, USER_HZ } from './proc-stat.js';

/** One process above the looked-up one. */
export interface ProcessAncestor {
  readonly pid: number;
  readonly comm?: string;
  readonly exe?: string;
}

export interface ProcessInfo {
  readonly pid: number;
  /** /proc/PID/stat field 22: clock ticks after boot; with pid, the process's identity. */
  readonly startTicks: number;
  readonly ppid: number;
  /** Task name (attacker-controlled, up to 15 bytes). */
  readonly comm?: string;
  /** /proc/PID/exe; ends in " (deleted)" when the file was removed (a dropper's habit). */
  readonly exe?: string;
  readonly containerId?: string;
  /** Parent first, then its parent, … up to maxAncestors; ends at pid 1 or where /proc ends. */
  readonly ancestors: readonly ProcessAncestor[];
}

export interface EnricherOptions {
  readonly procRoot?: string;
  /** Processes remembered (default 8192). */
  readonly cacheSize?: number;
  /** Parent-chain depth (default 8): bounded, so a deep or looping chain costs little. */
  readonly maxAncestors?: number;
  /** How long `enrich` reuses a pid's entry without re-reading its start time (default 250 ms). */
  readonly revalidateMs?: number;
  /** Clock for the revalidation window; tests pin it. */
  readonly now?: () => number;
}

/** How much later than its event a process may seem to start (btime is whole seconds; clock steps). */
const START_SLACK_MS = 2000;

/** The start time of a live process (/proc/PID/stat field 22, USER_HZ ticks after boot), or undefined. */
export function processStartTime(pid: number, procRoot = '/proc'): number | undefined {
  return readProcStat(pid, procRoot)?.startTicks;
}

/** A /proc file's text, or undefined when the process is gone or the file unreadable. */
function readProcFile(procRoot: string, pid: number, name: string): string | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

function readExe(procRoot: string, pid: number): string | undefined {
  try {
    return readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    return undefined; // kernel threads have none; other users' processes need CAP_SYS_PTRACE
  }
}

/** What is cached per (pid, start time): the process's own facts, not its (changing) ancestry. */
type ProcessFacts = Omit<ProcessInfo, 'ancestors'>;

export class Enricher {
  private readonly procRoot: string;
  private readonly maxAncestors: number;
  private readonly cache: BoundedMap<string, ProcessFacts>;
  /** pid → its last looked-up entry and when it was checked, for the revalidation window. */
  private readonly recent: BoundedMap<number, { info: ProcessInfo | undefined; checked: number }>;
  private readonly revalidateMs: number;
  private readonly now: () => number;
  /** Cache hits and misses, and events not attributed because their pid now names a newer process. */
  readonly stats = { hits: 0, misses: 0, reusedPids: 0 };

  constructor(options: EnricherOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.maxAncestors = options.maxAncestors ?? 8;
    this.cache = new BoundedMap(options.cacheSize ?? 8192);
    this.recent = new BoundedMap(options.cacheSize ?? 8192);
    this.revalidateMs = options.revalidateMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /** What /proc says about `pid` now, with its parent chain, or undefined when no such process exists. */
  lookup(pid: number): ProcessInfo | undefined {
    const facts = this.factsOf(pid);
    return facts === undefined ? undefined : { ...facts, ancestors: this.ancestorsOf(facts) };
  }

  /** A process's own facts, from the cache when its (pid, start time) is known. */
  private factsOf(pid: number): ProcessFacts | undefined {
    const stat = readProcStat(pid, this.procRoot);
    if (stat === undefined) return undefined;
    const key = `${pid}:${stat.startTicks}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.stats.hits += 1;
      this.cache.set(key, cached); // refresh: the map evicts the least recently set entry
      return cached;
    }
    this.stats.misses += 1;
    const facts: ProcessFacts = {
      pid,
      startTicks: stat.startTicks,
      ppid: stat.ppid,
      comm: readProcFile(this.procRoot, pid, 'comm')?.replace(/\n$/, ''),
      exe: readExe(this.procRoot, pid),
      containerId: containerIdFromCgroup(readProcFile(this.procRoot, pid, 'cgroup') ?? ''),
    };
    this.cache.set(key, facts);
    return facts;
  }

  /** Walks ppid links upwards, at most maxAncestors steps, stopping at pid 0, a gone parent or a loop. */
  private ancestorsOf(process: ProcessFacts): ProcessAncestor[] {
    const ancestors: ProcessAncestor[] = [];
    const seen = new Set([process.pid]);
    for (let ppid = process.ppid; ancestors.length < this.maxAncestors && ppid > 0 && !seen.has(ppid);) {
      const parent = this.factsOf(ppid);
      if (parent === undefined) break;
      ancestors.push({ pid: parent.pid, comm: parent.comm, exe: parent.exe });
      seen.add(ppid);
      ppid = parent.ppid;
    }
    return ancestors;
  }

  /** lookup() through the revalidation window. */
  private recentLookup(pid: number): ProcessInfo | undefined {
    const now = this.now();
    const recent = this.recent.get(pid);
    if (recent !== undefined && now - recent.checked < this.revalidateMs) {
      this.stats.hits += 1;
      return recent.info;
    }
    // A gone pid is remembered as gone for the same window: its remaining events (a process that just
    // exited, or a replay) must not cost a /proc read each.
    const info = this.lookup(pid);
    this.recent.set(pid, { info, checked: now });
    return info;
  }

  /** When the process with these start ticks started, in ms since the epoch. */
  private startEpochMs(startTicks: number): number {
    return bootTime(this.procRoot) + (startTicks * 1000) / USER_HZ;
  }

  /** The event with exe, comm, ppid and containerId filled in from /proc where it lacks them. */
  enrich(event: SyscallEvent): SyscallEvent {
    if (
      event.exe !== undefined &&
      event.comm !== undefined &&
      event.ppid !== undefined &&
      event.containerId !== undefined
    ) {
      return event;
    }
    const info = this.recentLookup(event.pid);
    if (info === undefined) return event;
    if (this.startEpochMs(info.startTicks) > event.time + START_SLACK_MS) {
      this.stats.reusedPids += 1;
      return event;
    }
    return filledFrom(event, info);
  }
}

/**
 * The event with what it lacks taken from /proc; the event itself when /proc adds nothing (host
 * processes have no container id: rebuilding those events would cost every later rule its fast path).
 */
function filledFrom(event: SyscallEvent, info: ProcessInfo): SyscallEvent {
  const addsNothing =
    (event.exe !== undefined || info.exe === undefined) &&
    (event.comm !== undefined || info.comm === undefined) &&
    (event.ppid !== undefined || info.ppid === undefined) &&
    (event.containerId !== undefined || info.containerId === undefined);
  return addsNothing ? event : buildEvent(event, info);
}
