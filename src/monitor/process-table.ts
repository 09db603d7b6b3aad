/**
 * What the monitor knows about each process from the events themselves: its parent, executable and task
 * name. Sequence rules ask it "who is this pid's parent, and what was it running?". Audit and eBPF give
 * `ppid` on every record; fork/clone/vfork return values name children before they make a call.
 */
import type { SyscallEvent } from '../sources/event.js';
import { BoundedMap } from './bounded.js';

export interface KnownProcess {
  readonly ppid?: number;
  readonly exe?: string;
  readonly comm?: string;
}

const SPAWN_SYSCALLS: ReadonlySet<string> = new Set(['fork', 'vfork', 'clone', 'clone3']);
const EXIT_SYSCALLS: ReadonlySet<string> = new Set(['exit_group']);
/** Enough for every pid a busy host has alive at once (pid_max defaults to 4M, but few live together). */
const DEFAULT_CAPACITY = 65_536;
/** How far up the tree ancestor walks go: bounded so a pid cycle in bad input cannot loop. */
const MAX_ANCESTRY = 16;

/** True for fork/vfork/clone/clone3. */
export function isSpawnCall(event: SyscallEvent): boolean {
  return event.syscall !== undefined && SPAWN_SYSCALLS.has(event.syscall);
}

/** The child a successful fork/clone created, when the event says (the parent's return value). */
export function spawnedChild(event: SyscallEvent): number | undefined {
  if (!isSpawnCall(event) || event.ret === undefined || event.ret <= 0n) return undefined;
  return event.ret > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(event.ret);
}

export class ProcessTable {
  private readonly processes: BoundedMap<number, KnownProcess>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.processes = new BoundedMap(capacity);
  }

  get(pid: number): KnownProcess | undefined {
    return this.processes.get(pid);
  }

  /** The parent pid: from the table (the event's own `ppid` is passed in by callers that have it). */
  parentOf(pid: number): number | undefined {
    return this.processes.get(pid)?.ppid;
  }

  /** The pid's known ancestors, nearest first, stopping before pid 1 and 0 (init adopts everything). */
  ancestors(pid: number, firstParent?: number): number[] {
    const chain: number[] = [];
    let parent = firstParent ?? this.parentOf(pid);
    while (parent !== undefined && parent > 1 && chain.length < MAX_ANCESTRY && !chain.includes(parent)) {
      chain.push(parent);
      parent = this.parentOf(parent);
    }
    return chain;
  }

  /** Learns from one event: the caller's identity, a child created by fork/clone, an exit. */
  record(event: SyscallEvent): void {
    if (event.syscall !== undefined && EXIT_SYSCALLS.has(event.syscall)) {
      this.processes.delete(event.pid);
      return;
    }
    const known = this.processes.get(event.pid);
    if (
      known === undefined ||
      (event.ppid !== undefined && known.ppid !== event.ppid) ||
      (event.exe !== undefined && known.exe !== event.exe) ||
      (event.comm !== undefined && known.comm !== event.comm)
    ) {
      this.processes.set(event.pid, {
        ppid: event.ppid ?? known?.ppid,
        exe: event.exe ?? known?.exe,
        comm: event.comm ?? known?.comm,
      });
    }
    const child = spawnedChild(event);
    // A new child runs its parent's image until it calls execve.
    if (child !== undefined) this.processes.set(child, { ppid: event.pid, exe: event.exe, comm: event.comm });
  }
}
