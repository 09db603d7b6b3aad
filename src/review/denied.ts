/**
 * Candidates to add: syscalls the kernel logged or denied while the traces were recorded (decisions
 * other than allow), or that the reviewed policy would not allow (decide() on the call's ABI, number
 * and learned argument values; arguments the trace did not learn read as 0).
 */
import type { TraceDecision } from '../learn/trace.js';
import { formatAction, type Action } from '../policy/action.js';
import { decide } from '../policy/evaluate.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import type { Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import type { WindowedEntry } from './window.js';

/** Executables and containers listed per syscall; the rest are counted, not named. */
export const MAX_LISTED = 20;

export interface ExecutableCount {
  /** '' when the source named neither a path nor a task. */
  readonly exe: string;
  readonly count: number;
}

export interface DeniedSyscall {
  readonly syscall: string;
  /** Calls in the window that were logged/denied, or that the policy would not allow. */
  readonly count: number;
  /** What the kernel did with the calls in the window, as the traces recorded it. */
  readonly decisions: Partial<Record<TraceDecision, number>>;
  /** What the reviewed policy decides for the most frequent call (arguments as learned). */
  readonly policyAction: string;
  readonly abis: readonly Arch[];
  /** Most frequent first, at most MAX_LISTED. */
  readonly executables: readonly ExecutableCount[];
  readonly executableCount: number;
  /** At most MAX_LISTED. */
  readonly containers: readonly string[];
}

/** Decisions that mean the filter intervened: everything except allow and "no filter seen". */
export function isFlaggedDecision(decision: TraceDecision): boolean {
  return decision !== 'allow' && decision !== 'observed';
}

function flaggedCalls(decisions: Partial<Record<TraceDecision, number>>): number {
  return (Object.entries(decisions) as [TraceDecision, number][])
    .filter(([decision]) => isFlaggedDecision(decision))
    .reduce((sum, [, calls]) => sum + calls, 0);
}

/** The six argument registers as far as the trace learned them. */
function argsOf(windowed: WindowedEntry): bigint[] {
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const arg of windowed.entry.args) if (arg.index < 6) args[arg.index] = BigInt(arg.value);
  return args;
}

/** What the policy decides for an entry's calls. */
export function policyActionFor(policy: ResolvedPolicy, windowed: WindowedEntry): Action {
  const { abi, nr } = windowed.entry;
  return decide(policy, abi, nr, argsOf(windowed)).action;
}

/** How many of the entry's in-window calls are candidates to add (0: none). */
function blockedCalls(windowed: WindowedEntry, action: Action): number {
  const flagged = flaggedCalls(windowed.decisions);
  return action.kind === 'allow' ? flagged : Math.max(flagged, windowed.count);
}

interface Accumulator {
  count: number;
  decisions: Partial<Record<TraceDecision, number>>;
  topCalls: number;
  policyAction: string;
  abis: Set<Arch>;
  executables: Map<string, number>;
  containers: Set<string>;
}

function accumulate(into: Accumulator, windowed: WindowedEntry, blocked: number, action: Action): void {
  into.count += blocked;
  for (const [decision, calls] of Object.entries(windowed.decisions) as [TraceDecision, number][]) {
    into.decisions[decision] = (into.decisions[decision] ?? 0) + calls;
  }
  if (blocked > into.topCalls) {
    into.topCalls = blocked;
    into.policyAction = formatAction(action, errnoName);
  }
  into.abis.add(windowed.entry.abi);
  into.executables.set(windowed.entry.exe, (into.executables.get(windowed.entry.exe) ?? 0) + blocked);
  for (const container of windowed.entry.containers) into.containers.add(container);
}

function finish(syscall: string, acc: Accumulator): DeniedSyscall {
  const executables = [...acc.executables]
    .map(([exe, count]) => ({ exe, count }))
    .sort((a, b) => b.count - a.count || (a.exe < b.exe ? -1 : a.exe > b.exe ? 1 : 0));
  return {
    syscall,
    count: acc.count,
    decisions: acc.decisions,
    policyAction: acc.policyAction,
    abis: [...acc.abis].sort(),
    executables: executables.slice(0, MAX_LISTED),
    executableCount: executables.length,
    containers: [...acc.containers].sort().slice(0, MAX_LISTED),
  };
}

/** The syscalls with logged/denied calls in the window, most calls first. */
export function deniedSyscalls(policy: ResolvedPolicy, entries: readonly WindowedEntry[]): DeniedSyscall[] {
  const bySyscall = new Map<string, Accumulator>();
  for (const windowed of entries) {
    const action = policyActionFor(policy, windowed);
    const blocked = blockedCalls(windowed, action);
    if (blocked === 0) continue;
    const acc = bySyscall.get(windowed.entry.syscall) ?? {
      count: 0,
      decisions: {},
      topCalls: 0,
      policyAction: '',
      abis: new Set<Arch>(),
      executables: new Map<string, number>(),
      containers: new Set<string>(),
    };
    accumulate(acc, windowed, blocked, action);
    bySyscall.set(windowed.entry.syscall, acc);
  }
  return [...bySyscall]
    .map(([syscall, acc]) => finish(syscall, acc))
    .sort((a, b) => b.count - a.count || (a.syscall < b.syscall ? -1 : 1));
}
