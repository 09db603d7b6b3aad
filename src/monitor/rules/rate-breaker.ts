/**
 * rate-breaker: more than N non-whitelisted syscalls by one process within a sliding window (default 50
 * per minute). "Non-whitelisted": the kernel's filter answered something other than allow (the event's
 * action: errno, log, kill...), or the monitored policy would (decide() is not allow). A process probing
 * what it may do, or a compromised one trying its payload, trips it; a conforming one never does.
 */
import { decide } from '../../policy/evaluate.js';
import type { ResolvedPolicy } from '../../policy/ir.js';
import { eventCount, eventSyscallLabel, type SyscallEvent } from '../../sources/event.js';
import { BoundedMap, SlidingCount } from '../bounded.js';
import type { MonitorRule, RuleContext, RuleDefinition, RuleHit, RuleParams } from './rule.js';

const MAX_TRACKED_PROCESSES = 65_536;
/** How many distinct syscall names an alert lists. */
const MAX_LISTED_SYSCALLS = 16;
const NO_ARGS: readonly bigint[] = [];

interface ProcessWindow {
  readonly count: SlidingCount;
  readonly syscalls: Set<string>;
}

/** True when the call is outside the whitelist: the kernel did not allow it, or the policy would not. */
export function isNonWhitelisted(event: SyscallEvent, policy: ResolvedPolicy | undefined): boolean {
  if (event.action !== undefined && event.action.kind !== 'allow') return true;
  if (policy === undefined) return false;
  return decide(policy, event.arch, event.nr, event.args ?? NO_ARGS).action.kind !== 'allow';
}

class RateBreaker implements MonitorRule {
  private readonly windows = new BoundedMap<number, ProcessWindow>(MAX_TRACKED_PROCESSES);

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly policy: ResolvedPolicy | undefined,
  ) {}

  observe(event: SyscallEvent): RuleHit | undefined {
    if (!isNonWhitelisted(event, this.policy)) return undefined;
    const window = this.windows.getOrCreate(event.pid, () => ({
      count: new SlidingCount(this.windowMs),
      syscalls: new Set<string>(),
    }));
    const total = window.count.add(event.time, eventCount(event));
    if (window.syscalls.size < MAX_LISTED_SYSCALLS) window.syscalls.add(eventSyscallLabel(event));
    if (total <= this.threshold) return undefined;
    const syscalls = [...window.syscalls];
    // Start over, so the next alert for this process needs another full burst.
    window.count.clear();
    window.syscalls.clear();
    return {
      pid: event.pid,
      event,
      message: `pid ${event.pid} made ${total} non-whitelisted syscalls within ${this.windowMs / 1000} s (threshold ${this.threshold})`,
      details: { count: total, threshold: this.threshold, windowSeconds: this.windowMs / 1000, syscalls },
    };
  }
}

export const rateBreakerRule: RuleDefinition = {
  id: 'rate-breaker',
  summary: 'more than N non-whitelisted syscalls per process within a sliding window',
  defaultSeverity: 'high',
  params: [
    {
      name: 'threshold',
      kind: 'integer',
      defaultValue: 50,
      min: 1,
      max: 1_000_000_000,
      doc: 'calls allowed per window',
    },
    {
      name: 'windowSeconds',
      kind: 'integer',
      defaultValue: 60,
      min: 1,
      max: 86_400,
      doc: 'sliding window length',
    },
  ],
  windowMs: (params: RuleParams) => params.number('windowSeconds') * 1000,
  create: (params: RuleParams, context: RuleContext) =>
    new RateBreaker(params.number('threshold'), params.number('windowSeconds') * 1000, context.policy),
};
