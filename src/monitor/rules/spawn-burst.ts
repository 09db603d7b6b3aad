/**
 * spawn-burst: more than N execve calls within a window under one parent tree (default 20 in 10 s): the
 * fan-out of a cryptominer or worm spawning workers. Each execve counts for the caller's parent and its
 * known ancestors (below init). When one passes the threshold, the alert names the smallest subtree
 * holding most of the burst, and the counts of the whole chain restart, so one burst gives one alert.
 */
import type { SyscallEvent } from '../../sources/event.js';
import { BoundedMap, SlidingCount } from '../bounded.js';
import type { ProcessTable } from '../process-table.js';
import { alertExe } from './names.js';
import type { MonitorRule, RuleDefinition, RuleHit, RuleParams } from './rule.js';

const MAX_TRACKED_PARENTS = 65_536;
const EXEC_SYSCALLS: ReadonlySet<string> = new Set(['execve', 'execveat']);

class SpawnBurst implements MonitorRule {
  private readonly counts = new BoundedMap<number, SlidingCount>(MAX_TRACKED_PARENTS);

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
  ) {}

  /**
   * The smallest subtree holding most of the burst: the nearest ancestor with more than half of the
   * tripped ancestor's count. A miner's own script is blamed, not the cron daemon above it; a worm whose
   * children each spawn a few is blamed at its root.
   */
  private responsible(
    chain: readonly number[],
    totals: readonly number[],
    tripped: number,
  ): { pid: number; total: number } {
    const trippedTotal = totals[tripped] as number;
    for (let index = 0; index < tripped; index++) {
      const total = totals[index] as number;
      if (total * 2 > trippedTotal) return { pid: chain[index] as number, total };
    }
    return { pid: chain[tripped] as number, total: trippedTotal };
  }

  observe(event: SyscallEvent, processes: ProcessTable): RuleHit | undefined {
    if (event.syscall === undefined || !EXEC_SYSCALLS.has(event.syscall)) return undefined;
    if (event.ret !== undefined && event.ret < 0n) return undefined;
    const chain = processes.ancestors(event.pid, event.ppid ?? processes.parentOf(event.pid));
    const totals = chain.map((ancestor) =>
      this.counts.getOrCreate(ancestor, () => new SlidingCount(this.windowMs)).add(event.time, 1),
    );
    const tripped = totals.findIndex((total) => total > this.threshold);
    if (tripped < 0) return undefined;
    const burst = this.responsible(chain, totals, tripped);
    for (const ancestor of chain) this.counts.get(ancestor)?.clear();
    const parent = processes.get(burst.pid);
    return {
      pid: burst.pid,
      event,
      exe: alertExe(parent?.exe, parent?.comm),
      message: `process tree of pid ${burst.pid} ran ${burst.total} execve calls within ${this.windowMs / 1000} s (threshold ${this.threshold})`,
      details: {
        execs: burst.total,
        threshold: this.threshold,
        windowSeconds: this.windowMs / 1000,
        lastExecuted: event.exe ?? '',
      },
    };
  }
}

export const spawnBurstRule: RuleDefinition = {
  id: 'spawn-burst',
  summary: 'more than N execve calls within a window under one parent tree',
  defaultSeverity: 'high',
  params: [
    {
      name: 'threshold',
      kind: 'integer',
      defaultValue: 20,
      min: 1,
      max: 1_000_000,
      doc: 'execve calls allowed per window',
    },
    {
      name: 'windowSeconds',
      kind: 'integer',
      defaultValue: 10,
      min: 1,
      max: 86_400,
      doc: 'sliding window length',
    },
  ],
  windowMs: (params: RuleParams) => params.number('windowSeconds') * 1000,
  create: (params: RuleParams) =>
    new SpawnBurst(params.number('threshold'), params.number('windowSeconds') * 1000),
};
