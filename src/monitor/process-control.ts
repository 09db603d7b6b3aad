/**
 * Acting on a process: freeze (own cgroup, else SIGSTOP), thaw, kill (container cgroup.kill, else
 * SIGKILL). Every action first re-reads the process's start time: a pid that now names another process
 * (reused) or no process is never touched. A small window remains between that check and the signal
 * (pidfds would close it, but they need FFI, which lives only in src/enforce).
 */
import {
  killCgroup,
  ownsCgroup,
  processCgroups,
  setCgroupFrozen,
  type ProcessCgroup,
} from './cgroup-control.js';
import { readdirSync } from 'node:fs';
import type { ProcessRef } from './process-identity.js';
import { readProcStat } from './proc-stat.js';

export type FreezeMethod = 'cgroup-v2' | 'cgroup-v1' | 'sigstop';

/** How a process was frozen, so it can be thawed (or killed) the same way. */
export interface FreezeHandle {
  readonly method: FreezeMethod;
  readonly cgroup?: ProcessCgroup;
}

export interface ControlResult {
  /** False when nothing was done: the process is gone, its pid was reused, or the kernel refused. */
  readonly done: boolean;
  /** 'cgroup-v2', 'cgroup-v1', 'sigstop', 'sigkill', 'cgroup.kill', 'sigcont', or '' when not done. */
  readonly method: string;
  /** For the log: what was done or why not. */
  readonly detail: string;
  readonly handle?: FreezeHandle;
}

/** What the breaker needs from the operating system; tests of escalation logic may supply their own. */
export interface ProcessControl {
  freeze(target: ProcessRef): ControlResult;
  thaw(target: ProcessRef, handle: FreezeHandle): ControlResult;
  kill(target: ProcessRef, handle?: FreezeHandle): ControlResult;
}

function notDone(detail: string): ControlResult {
  return { done: false, method: '', detail };
}

/** Why the pid no longer names `target`, or undefined when it still does. */
export function identityMismatch(target: ProcessRef): string | undefined {
  const stat = readProcStat(target.pid);
  if (stat === undefined) return `pid ${target.pid} is gone`;
  if (stat.startTicks !== target.startTicks) {
    return `pid ${target.pid} was reused (start time ${stat.startTicks}, expected ${target.startTicks})`;
  }
  return undefined;
}

function attempt(method: string, detail: string, act: () => void, handle?: FreezeHandle): ControlResult {
  try {
    act();
    return { done: true, method, detail, ...(handle === undefined ? {} : { handle }) };
  } catch (error) {
    return notDone(`${method} failed: ${(error as Error).message}`);
  }
}

/**
 * The live descendants of `root`, from the ppid links in /proc. The root must be stopped first: a running
 * root could fork children this walk misses, and once it dies its children are re-parented and no
 * longer findable from it.
 */
export function descendantsOf(root: number, procRoot = '/proc'): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name), procRoot);
    if (stat === undefined) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (found.includes(pid) || pid === root) continue;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * SIGKILL for a process and everything it started: killing only the root of a miner's or a dropper's
 * tree would leave its workers running. The root is stopped first so the tree holds still while walked.
 */
function killTree(pid: number): ControlResult {
  let descendants: number[] = [];
  const result = attempt('sigkill', `sent SIGKILL to pid ${pid}`, () => {
    process.kill(pid, 'SIGSTOP');
    descendants = descendantsOf(pid);
    process.kill(pid, 'SIGKILL');
    for (const child of descendants) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // Already gone: nothing left to stop.
      }
    }
  });
  if (!result.done || descendants.length === 0) return result;
  return { ...result, detail: `${result.detail} and its ${descendants.length} descendant(s)` };
}

/** The real thing: /proc, /sys/fs/cgroup and signals on this host. */
export class LinuxProcessControl implements ProcessControl {
  freeze(target: ProcessRef): ControlResult {
    const mismatch = identityMismatch(target);
    if (mismatch !== undefined) return notDone(mismatch);
    const own = processCgroups(target.pid).find((cgroup) => ownsCgroup(cgroup, target.pid));
    if (own !== undefined) {
      const handle: FreezeHandle = { method: own.version === 'v2' ? 'cgroup-v2' : 'cgroup-v1', cgroup: own };
      return attempt(handle.method, `froze cgroup ${own.dir}`, () => setCgroupFrozen(own, true), handle);
    }
    return attempt(
      'sigstop',
      `sent SIGSTOP to pid ${target.pid} (no cgroup of its own)`,
      () => process.kill(target.pid, 'SIGSTOP'),
      { method: 'sigstop' },
    );
  }

  thaw(target: ProcessRef, handle: FreezeHandle): ControlResult {
    // A frozen cgroup is thawed whatever became of the process that led to it: undoing our own freeze
    // must not depend on the offender still being alive (its descendants would stay frozen for good).
    const cgroup = handle.cgroup;
    if (cgroup !== undefined) {
      return attempt(handle.method, `thawed cgroup ${cgroup.dir}`, () => setCgroupFrozen(cgroup, false));
    }
    const mismatch = identityMismatch(target);
    if (mismatch !== undefined) return notDone(mismatch);
    return attempt('sigcont', `sent SIGCONT to pid ${target.pid}`, () => process.kill(target.pid, 'SIGCONT'));
  }

  kill(target: ProcessRef, handle?: FreezeHandle): ControlResult {
    const mismatch = identityMismatch(target);
    if (mismatch !== undefined) return notDone(mismatch);
    const container = processCgroups(target.pid).find(
      (cgroup) => cgroup.container && cgroup.version === 'v2' && ownsCgroup(cgroup, target.pid),
    );
    if (container !== undefined) {
      const result = attempt('cgroup.kill', `killed container cgroup ${container.dir}`, () => {
        if (!killCgroup(container)) throw new Error('cgroup.kill is not supported by this kernel');
      });
      if (result.done) return result;
    }
    const result = killTree(target.pid);
    // A v1-frozen task does not die until thawed (v2 lets fatal signals through the freezer).
    if (result.done && handle?.method === 'cgroup-v1' && handle.cgroup !== undefined) {
      setCgroupFrozen(handle.cgroup, false);
    }
    return result;
  }
}
