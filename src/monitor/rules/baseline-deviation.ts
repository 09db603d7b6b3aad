/**
 * baseline-deviation: each executable's syscall frequency distribution, learned online. Time is cut into
 * intervals; at the end of each interval in which the executable was active, every syscall's count in it
 * is compared with that syscall's exponentially weighted mean and variance of earlier counts, then folded
 * in (so the baseline follows slow drift but not a sudden jump). Once `minSamples` intervals are learned
 * (mature), a count beyond `sigma` standard deviations, or a syscall never seen before, is a deviation.
 * Intervals in which the executable made no call are not samples: an idle service is not anomalous.
 * The interval still open when the input ends is not judged (it is incomplete).
 */
import { eventCount, eventSyscallLabel, type SyscallEvent } from '../../sources/event.js';
import { BoundedMap } from '../bounded.js';
import { alertExe } from './names.js';
import type {
  BaselineMemory,
  MonitorRule,
  RuleContext,
  RuleDefinition,
  RuleHit,
  RuleParams,
} from './rule.js';

const MAX_TRACKED_EXECUTABLES = 4096;
const MAX_LISTED_DEVIATIONS = 16;

interface Moments {
  mean: number;
  variance: number;
}

interface IntervalCall {
  count: number;
  /** The last event of this syscall in the interval: the alert's time, pid and process. */
  last: SyscallEvent;
}

interface Baseline {
  intervalStart: number;
  calls: Map<string, IntervalCall>;
  lastEvent: SyscallEvent | undefined;
  readonly moments: Map<string, Moments>;
  samples: number;
}

interface Deviation {
  readonly syscall: string;
  readonly count: number;
  readonly mean: number;
  /** Standard deviations from the mean; Infinity for a syscall new to a mature baseline. */
  readonly score: number;
  readonly event: SyscallEvent | undefined;
}

export interface BaselineSettings {
  readonly intervalMs: number;
  readonly minSamples: number;
  readonly sigma: number;
  /** EWMA weight of the newest interval (0..1]. */
  readonly alpha: number;
  /** Floor under the standard deviation, so a perfectly steady count does not alert on ±1. */
  readonly minStdDev: number;
}

/** Folds one interval's count into a syscall's EWMA mean and variance. */
export function updateMoments(moments: Moments, count: number, alpha: number): void {
  const delta = count - moments.mean;
  moments.mean += alpha * delta;
  moments.variance = (1 - alpha) * (moments.variance + alpha * delta * delta);
}

function describe(deviation: Deviation): string {
  return deviation.score === Infinity
    ? `${deviation.syscall}:${deviation.count} (new)`
    : `${deviation.syscall}:${deviation.count} (mean ${deviation.mean.toFixed(1)}, ${deviation.score.toFixed(1)} sigma)`;
}

/** What is saved of a baseline: the learned moments and how many intervals taught them. */
interface SavedBaseline {
  readonly samples: number;
  readonly moments: readonly (readonly [syscall: string, mean: number, variance: number])[];
}

function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Reads a saved baseline; undefined for anything that is not one (a corrupt row relearns, never crashes). */
export function parseSavedBaseline(json: string): SavedBaseline | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { samples, moments } = value as { samples?: unknown; moments?: unknown };
  if (!isFiniteNonNegative(samples) || !Array.isArray(moments)) return undefined;
  const valid = moments.every(
    (entry: unknown) =>
      Array.isArray(entry) &&
      entry.length === 3 &&
      typeof entry[0] === 'string' &&
      Number.isFinite(entry[1]) &&
      isFiniteNonNegative(entry[2]),
  );
  return valid ? { samples, moments: moments as SavedBaseline['moments'] } : undefined;
}

class BaselineDeviation implements MonitorRule {
  private readonly baselines = new BoundedMap<string, Baseline>(MAX_TRACKED_EXECUTABLES);
  /** Baselines saved by an earlier run, adopted when their executable is next seen. */
  private readonly saved: ReadonlyMap<string, string>;

  constructor(
    private readonly settings: BaselineSettings,
    private readonly memory?: BaselineMemory,
  ) {
    this.saved = memory?.load() ?? new Map();
  }

  /** A fresh baseline for `key`, seeded from the saved one when there is one. */
  private newBaseline(key: string, start: number): Baseline {
    const saved = this.saved.get(key);
    const restored = saved === undefined ? undefined : parseSavedBaseline(saved);
    return {
      intervalStart: start,
      calls: new Map(),
      lastEvent: undefined,
      moments: new Map(restored?.moments.map(([name, mean, variance]) => [name, { mean, variance }]) ?? []),
      samples: restored?.samples ?? 0,
    };
  }

  private persist(key: string, baseline: Baseline): void {
    if (this.memory === undefined) return;
    const moments = [...baseline.moments].map(([name, m]) => [name, m.mean, m.variance] as const);
    this.memory.save(key, JSON.stringify({ samples: baseline.samples, moments } satisfies SavedBaseline));
  }

  observe(event: SyscallEvent): RuleHit | undefined {
    const key = alertExe(event.exe, event.comm);
    if (key === '') return undefined;
    const start = event.time - (event.time % this.settings.intervalMs);
    const baseline = this.baselines.getOrCreate(key, () => this.newBaseline(key, start));
    let hit: RuleHit | undefined;
    if (start > baseline.intervalStart) {
      hit = this.closeInterval(key, baseline);
      baseline.intervalStart = start;
      baseline.calls = new Map();
    }
    const label = eventSyscallLabel(event);
    const call = baseline.calls.get(label);
    if (call === undefined) baseline.calls.set(label, { count: eventCount(event), last: event });
    else {
      call.count += eventCount(event);
      call.last = event;
    }
    baseline.lastEvent = event;
    return hit;
  }

  /** Judges the finished interval against the baseline (when mature), then learns from it. */
  private closeInterval(key: string, baseline: Baseline): RuleHit | undefined {
    const mature = baseline.samples >= this.settings.minSamples;
    const deviations: Deviation[] = [];
    const names = new Set([...baseline.moments.keys(), ...baseline.calls.keys()]);
    for (const name of names) {
      const call = baseline.calls.get(name);
      const count = call?.count ?? 0;
      const moments = baseline.moments.get(name);
      if (mature) {
        const deviation = this.judge(name, count, moments, call?.last);
        if (deviation !== undefined) deviations.push(deviation);
      }
      this.learn(baseline, name, count, moments);
    }
    baseline.samples += 1;
    this.persist(key, baseline);
    return deviations.length === 0 ? undefined : this.hit(key, baseline, deviations);
  }

  private judge(
    syscall: string,
    count: number,
    moments: Moments | undefined,
    event: SyscallEvent | undefined,
  ): Deviation | undefined {
    if (moments === undefined) return { syscall, count, mean: 0, score: Infinity, event };
    const stdDev = Math.max(Math.sqrt(moments.variance), this.settings.minStdDev);
    const score = Math.abs(count - moments.mean) / stdDev;
    return score > this.settings.sigma ? { syscall, count, mean: moments.mean, score, event } : undefined;
  }

  private learn(baseline: Baseline, name: string, count: number, moments: Moments | undefined): void {
    if (moments !== undefined) {
      updateMoments(moments, count, this.settings.alpha);
      return;
    }
    // A syscall first seen after the first interval was absent (0) from the earlier ones.
    const fresh: Moments = { mean: baseline.samples === 0 ? count : 0, variance: 0 };
    if (baseline.samples > 0) updateMoments(fresh, count, this.settings.alpha);
    baseline.moments.set(name, fresh);
  }

  private hit(key: string, baseline: Baseline, deviations: Deviation[]): RuleHit | undefined {
    deviations.sort((a, b) => b.score - a.score);
    const top = deviations[0] as Deviation;
    // A syscall that vanished has no event in the interval: blame the interval's last event.
    const event = top.event ?? baseline.lastEvent;
    if (event === undefined) return undefined;
    const listed = deviations.slice(0, MAX_LISTED_DEVIATIONS).map(describe);
    return {
      pid: event.pid,
      event,
      message: `${key} deviated from its learned syscall baseline: ${listed.join(', ')}`,
      details: {
        deviations: listed,
        samples: baseline.samples,
        intervalSeconds: this.settings.intervalMs / 1000,
        intervalStart: baseline.intervalStart,
      },
    };
  }
}

export const baselineDeviationRule: RuleDefinition = {
  id: 'baseline-deviation',
  summary:
    "a syscall's per-interval count beyond N sigma of the executable's learned baseline, or a new syscall",
  defaultSeverity: 'warning',
  params: [
    {
      name: 'intervalSeconds',
      kind: 'integer',
      defaultValue: 10,
      min: 1,
      max: 86_400,
      doc: 'length of one sample interval',
    },
    {
      name: 'minSamples',
      kind: 'integer',
      defaultValue: 30,
      min: 1,
      max: 1_000_000,
      doc: 'intervals learned before alerting',
    },
    {
      name: 'sigma',
      kind: 'number',
      defaultValue: 3,
      min: 0.5,
      max: 100,
      doc: 'standard deviations that count as a deviation',
    },
    {
      name: 'alpha',
      kind: 'number',
      defaultValue: 0.1,
      min: 0.001,
      max: 1,
      doc: 'EWMA weight of the newest interval',
    },
    {
      name: 'minStdDev',
      kind: 'number',
      defaultValue: 1,
      min: 0,
      max: 1_000_000,
      doc: 'floor under the standard deviation',
    },
  ],
  // The judged interval, plus the one before it that the deciding event closes.
  windowMs: (params: RuleParams) => params.number('intervalSeconds') * 2000,
  create: (params: RuleParams, context: RuleContext) =>
    new BaselineDeviation(
      {
        intervalMs: params.number('intervalSeconds') * 1000,
        minSamples: params.number('minSamples'),
        sigma: params.number('sigma'),
        alpha: params.number('alpha'),
        minStdDev: params.number('minStdDev'),
      },
      context.baselines,
    ),
};
