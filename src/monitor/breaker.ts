/**
 * The circuit breaker: what the monitor does about an alert. Each rule has an escalation list (e.g.
 * alert → freeze → kill); the nth alert of a rule for one process takes the nth step (the last step
 * repeats). Processes are named by pid AND start time, so escalation state never carries over to a
 * process that reuses a pid, and no action touches a process that is not the one the events came from:
 * those are recorded as `freeze-skipped` / `kill-skipped`. Dry-run rules decide but do not act.
 * Frozen processes can be thawed automatically after the rule's `thawAfterSeconds`.
 */
import type { ResponseTaken } from './alert.js';
import { BoundedMap } from './bounded.js';
import type { ProcessControl, FreezeHandle, ControlResult } from './process-control.js';
import type { ProcessIdentities, ProcessRef } from './process-identity.js';
import { readProcStat } from './proc-stat.js';
import type { RuleSettings } from './rules/config.js';

/** One thing the breaker did (or decided, or refused): the audit trail of responses. */
export interface BreakerRecord {
  readonly rule: string;
  readonly pid: number;
  readonly startTicks?: number;
  readonly response: ResponseTaken;
  readonly dryRun: boolean;
  /** How (cgroup-v2, sigstop, ...) or why not. */
  readonly detail: string;
  /** Which alert of this rule for this process it was (1-based). */
  readonly strike: number;
}

export interface BreakerDecision {
  readonly response: ResponseTaken;
  readonly detail: string;
  readonly strike: number;
  readonly startTicks?: number;
}

/** Told when an automatic thaw happened (or failed), so it can be reported like an alert. */
export type ThawListener = (record: BreakerRecord) => void;

const MAX_TRACKED_PROCESSES = 65_536;

interface ProcessState {
  strikes: number;
  /** Set once a kill succeeded: later alerts of the process (events already in flight) act no more. */
  killed?: boolean;
  frozen?: FreezeHandle;
  thawTimer?: NodeJS.Timeout;
}

export class Breaker {
  private readonly states = new BoundedMap<string, ProcessState>(MAX_TRACKED_PROCESSES);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly control: ProcessControl,
    private readonly identities: ProcessIdentities,
    private readonly log: (record: BreakerRecord) => void = () => undefined,
  ) {}

  /**
   * Takes the rule's next escalation step for the process that made the alert's event at `eventTime`
   * (not whichever process holds the pid now); `onThaw` hears about a later automatic thaw.
   */
  respond(settings: RuleSettings, pid: number, onThaw?: ThawListener, eventTime?: number): BreakerDecision {
    const target = this.identities.identity(pid, eventTime);
    const rule = settings.definition.id;
    const key = `${rule}:${pid}:${target?.startTicks ?? 'unverified'}`;
    const state = this.states.getOrCreate(key, () => ({ strikes: 0 }));
    state.strikes += 1;
    const steps = settings.responses;
    const step = steps[Math.min(state.strikes, steps.length) - 1] ?? 'alert';
    const decision = this.carryOut(step, settings, state, pid, target, onThaw);
    this.log({
      rule,
      pid,
      ...(target === undefined ? {} : { startTicks: target.startTicks }),
      response: decision.response,
      dryRun: settings.dryRun,
      detail: decision.detail,
      strike: state.strikes,
    });
    return {
      ...decision,
      strike: state.strikes,
      ...(target === undefined ? {} : { startTicks: target.startTicks }),
    };
  }

  /** Cancels pending automatic thaws (at shutdown; frozen processes stay frozen and were logged). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private carryOut(
    step: 'alert' | 'freeze' | 'kill',
    settings: RuleSettings,
    state: ProcessState,
    pid: number,
    target: ProcessRef | undefined,
    onThaw: ThawListener | undefined,
  ): { response: ResponseTaken; detail: string } {
    if (step === 'alert') return { response: 'alert', detail: 'alert only' };
    if (settings.dryRun) return { response: step, detail: `dry run: would ${step} pid ${pid}` };
    const skipped: ResponseTaken = step === 'freeze' ? 'freeze-skipped' : 'kill-skipped';
    if (state.killed === true) return { response: skipped, detail: `pid ${pid} was already killed` };
    if (target === undefined) {
      return {
        response: skipped,
        detail: `pid ${pid} has no verified identity (gone, or started after its events): not touched`,
      };
    }
    const protectedWhy = protectedProcess(pid);
    if (protectedWhy !== undefined)
      return { response: skipped, detail: `pid ${pid} is ${protectedWhy}: not touched` };
    const result: ControlResult =
      step === 'freeze' ? this.control.freeze(target) : this.control.kill(target, state.frozen);
    if (!result.done) return { response: skipped, detail: result.detail };
    if (step === 'kill') {
      this.cancelThaw(state);
      state.frozen = undefined;
      state.killed = true;
    } else {
      state.frozen = result.handle;
      if (settings.thawAfterMs !== undefined) this.scheduleThaw(settings, state, target, onThaw);
    }
    return { response: step, detail: result.detail };
  }

  private scheduleThaw(
    settings: RuleSettings,
    state: ProcessState,
    target: ProcessRef,
    onThaw: ThawListener | undefined,
  ): void {
    this.cancelThaw(state);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      state.thawTimer = undefined;
      const handle = state.frozen;
      if (handle === undefined) return;
      const result = this.control.thaw(target, handle);
      if (result.done) state.frozen = undefined;
      const record: BreakerRecord = {
        rule: settings.definition.id,
        pid: target.pid,
        startTicks: target.startTicks,
        response: result.done ? 'thaw' : 'none',
        dryRun: false,
        detail: result.detail,
        strike: state.strikes,
      };
      this.log(record);
      onThaw?.(record);
    }, settings.thawAfterMs);
    // A pending thaw must not keep a finished replay alive.
    timer.unref();
    state.thawTimer = timer;
    this.timers.add(timer);
  }

  private cancelThaw(state: ProcessState): void {
    if (state.thawTimer === undefined) return;
    clearTimeout(state.thawTimer);
    this.timers.delete(state.thawTimer);
    state.thawTimer = undefined;
  }
}

/**
 * The monitor itself and its ancestors (its supervisor, the shell or systemd that runs it): stopping one
 * would silently end the monitoring, so forged or mistaken events must never reach them.
 */
function monitorLineage(): ReadonlySet<number> {
  const lineage = new Set<number>([process.pid]);
  for (let pid = process.ppid; pid > 1 && !lineage.has(pid) && lineage.size < 64;) {
    lineage.add(pid);
    const parent = readProcStat(pid)?.ppid;
    if (parent === undefined) break;
    pid = parent;
  }
  return lineage;
}

/** Why the breaker must never act on `pid`, or undefined when it may. */
function protectedProcess(pid: number): string | undefined {
  if (pid <= 1) return 'init or the kernel';
  if (monitorLineage().has(pid)) return 'the monitor or one of its ancestors';
  return undefined;
}
