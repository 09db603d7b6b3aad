/**
 * The rule engine: runs every enabled rule over each (ordered) event, applies the rules file's
 * exceptions, severity and dry-run, asks the breaker for the response and builds the Alert.
 */
import type { SyscallEvent } from '../sources/event.js';
import type { Alert } from './alert.js';
import type { Breaker, BreakerRecord } from './breaker.js';
import { ProcessTable } from './process-table.js';
import { isExcepted, type MonitorConfig, type RuleSettings } from './rules/config.js';
import { alertExe } from './rules/names.js';
import type { MonitorRule, RuleContext, RuleHit } from './rules/rule.js';

/** Tells whether events were lost between two event times (inclusive). */
export type LossCheck = (from: number, to: number) => boolean;

export interface EngineOptions {
  readonly config: MonitorConfig;
  readonly context: RuleContext;
  readonly breaker: Breaker;
  /** Receives each alert as it is raised (and automatic thaws later). */
  readonly emit: (alert: Alert) => void;
  /** False answers keep alerts `complete`; the pipeline answers from its loss ledger. */
  readonly lossBetween?: LossCheck;
  /** Added to every rule's evidence window: reordering may have delayed a lost event by this much. */
  readonly slackMs?: number;
}

interface ActiveRule {
  readonly settings: RuleSettings;
  readonly rule: MonitorRule;
  readonly windowMs: number;
}

export class RuleEngine {
  private readonly rules: readonly ActiveRule[];
  private readonly processes = new ProcessTable();
  private readonly lossBetween: LossCheck;
  /** Alerts raised per rule id (thaws not counted). */
  readonly alertsByRule = new Map<string, number>();

  constructor(private readonly options: EngineOptions) {
    const slack = options.slackMs ?? 0;
    this.rules = options.config.rules
      .filter((settings) => settings.enabled)
      .map((settings) => ({
        settings,
        rule: settings.definition.create(settings.params, options.context),
        windowMs: settings.definition.windowMs(settings.params) + slack,
      }));
    this.lossBetween = options.lossBetween ?? (() => false);
  }

  /** Runs the rules over one event (events must come in time order). */
  process(event: SyscallEvent): void {
    for (const active of this.rules) {
      if (active.settings.exceptions.length > 0 && isExcepted(event, active.settings.exceptions)) continue;
      const hit = active.rule.observe(event, this.processes);
      if (hit !== undefined && !this.subjectExcepted(hit, active.settings)) this.raise(active, hit);
    }
    this.processes.record(event);
  }

  /** Exceptions also cover the process an alert names when that is not the event's (a burst's parent). */
  private subjectExcepted(hit: RuleHit, settings: RuleSettings): boolean {
    if (hit.pid === hit.event.pid || settings.exceptions.length === 0) return false;
    const subject = this.processes.get(hit.pid);
    return isExcepted(
      { ...hit.event, pid: hit.pid, exe: subject?.exe, comm: subject?.comm },
      settings.exceptions,
    );
  }

  private raise(active: ActiveRule, hit: RuleHit): void {
    const { settings } = active;
    const event = hit.event;
    const complete = !this.lossBetween(event.time - active.windowMs, event.time);
    const base = {
      rule: settings.definition.id,
      severity: settings.severity,
      host: event.host,
      pid: hit.pid,
      exe: hit.exe ?? alertExe(event.exe, event.comm),
      container: event.containerId ?? '',
      dryRun: settings.dryRun,
    };
    const decision = this.options.breaker.respond(
      settings,
      hit.pid,
      (record) => this.options.emit(thawAlert(base, record)),
      event.time,
    );
    this.alertsByRule.set(base.rule, (this.alertsByRule.get(base.rule) ?? 0) + 1);
    this.options.emit({
      ...base,
      time: event.time,
      response: settings.dryRun && decision.response === 'alert' ? 'alert' : decision.response,
      complete,
      message: hit.message,
      details: {
        ...hit.details,
        syscall: event.syscall ?? `nr:${event.nr}`,
        strike: decision.strike,
        responseDetail: decision.detail,
        ...(decision.startTicks === undefined ? {} : { startTicks: decision.startTicks }),
      },
    });
  }
}

/** The alert line that reports an automatic thaw of a process an earlier alert froze. */
function thawAlert(
  base: Omit<Alert, 'time' | 'response' | 'complete' | 'message' | 'details'>,
  record: BreakerRecord,
): Alert {
  return {
    ...base,
    time: Date.now(),
    response: record.response,
    complete: true,
    dryRun: false,
    message: `${record.response === 'thaw' ? 'thawed' : 'could not thaw'} pid ${record.pid}: ${record.detail}`,
    details: { strike: record.strike, responseDetail: record.detail },
  };
}
