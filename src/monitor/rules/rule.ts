/**
 * The shape of a monitor rule. A rule sees events in time order (after the reorder buffer), keeps its own
 * bounded state, and returns a hit when its pattern completes. Everything around it (enabled, exceptions,
 * severity, dry-run, responses) is applied by the engine from the rules file, so rules stay pure logic.
 */
import type { ResolvedPolicy } from '../../policy/ir.js';
import type { SyscallEvent } from '../../sources/event.js';
import type { Alert, BuiltinRuleId, Severity } from '../alert.js';
import type { ProcessTable } from '../process-table.js';

export type AlertDetails = Alert['details'];

/** A completed pattern: which process, the event that completed it, and what to tell the operator. */
export interface RuleHit {
  readonly pid: number;
  readonly event: SyscallEvent;
  readonly message: string;
  readonly details: AlertDetails;
  /** The alert's exe label when `pid` is not the event's process (e.g. the parent of a burst). */
  readonly exe?: string;
}

export interface MonitorRule {
  /** Looks at one event (in time order); `processes` holds what is known BEFORE this event. */
  observe(event: SyscallEvent, processes: ProcessTable): RuleHit | undefined;
}

/** Fields of `struct timex` a source read from memory (syscall registers only carry the pointer). */
export interface TimexFields {
  readonly modes: number;
  /** The requested offset in ns (µs unless ADJ_NANO; the reader converts). */
  readonly offsetNs: bigint;
}

/** Reads the timex an adjtimex/clock_adjtime event passed, when the source captured it. */
export type TimexReader = (event: SyscallEvent) => TimexFields | undefined;

/**
 * Where learned per-executable baselines outlive the monitor process (the SQLite store): a restarted
 * monitor resumes judging at once instead of relearning for minSamples intervals, blind meanwhile.
 */
export interface BaselineMemory {
  /** Saved baselines by executable, as JSON written by `save`. */
  load(): ReadonlyMap<string, string>;
  save(exe: string, json: string): void;
}

/** What rules may consult besides events. */
export interface RuleContext {
  /** The policy: which calls are whitelisted (rate-breaker). */
  readonly policy?: ResolvedPolicy;
  readonly timex?: TimexReader;
  readonly baselines?: BaselineMemory;
}

export type ParamValue = number | readonly string[];

/** One tunable of a rule, as the rules file spells it. */
export interface ParamSpec {
  readonly name: string;
  /** 'integer' and 'number' are bounded by min/max; 'names' is a list of strings. */
  readonly kind: 'integer' | 'number' | 'names';
  readonly defaultValue: ParamValue;
  readonly min?: number;
  readonly max?: number;
  readonly doc: string;
}

/** A rule's tunables after defaults and the rules file are applied. */
export class RuleParams {
  constructor(private readonly values: ReadonlyMap<string, ParamValue>) {}

  /** The defaults of `specs`, overridden by `overrides`. */
  static resolve(specs: readonly ParamSpec[], overrides: ReadonlyMap<string, ParamValue>): RuleParams {
    return new RuleParams(
      new Map(specs.map((spec) => [spec.name, overrides.get(spec.name) ?? spec.defaultValue])),
    );
  }

  number(name: string): number {
    const value = this.values.get(name);
    if (typeof value !== 'number') throw new Error(`rule parameter '${name}' is not a number`);
    return value;
  }

  names(name: string): readonly string[] {
    const value = this.values.get(name);
    if (value === undefined || typeof value === 'number')
      throw new Error(`rule parameter '${name}' is not a list`);
    return value;
  }
}

export interface RuleDefinition {
  readonly id: BuiltinRuleId;
  readonly summary: string;
  readonly defaultSeverity: Severity;
  readonly params: readonly ParamSpec[];
  /** How far back the rule's evidence reaches (ms): an alert is incomplete if events were lost in it. */
  windowMs(params: RuleParams): number;
  create(params: RuleParams, context: RuleContext): MonitorRule;
}
