/**
 * The review window: the last N whole UTC days up to "today", and the trace entries' calls inside it.
 * Per-day counts (TraceEntry.perDay) place calls in days; decisions are kept per entry only, so an entry
 * that straddles the window start keeps its decision counts capped at its in-window calls.
 */
import { dayOf, formatDay, parseDay } from '../policy/lint-governance.js';
import type { Trace, TraceDecision, TraceEntry } from '../learn/trace.js';

export interface ReviewWindow {
  /** First day inside the window, YYYY-MM-DD (UTC). */
  readonly from: string;
  /** Last day inside the window ("today"), YYYY-MM-DD (UTC). */
  readonly to: string;
  readonly days: number;
}

/** A trace entry's calls that fall inside the window. */
export interface WindowedEntry {
  readonly entry: TraceEntry;
  /** Calls inside the window. */
  readonly count: number;
  /** Day → calls, inside the window only. */
  readonly perDay: ReadonlyMap<string, number>;
  /** The entry's decision counts, each capped at `count`. */
  readonly decisions: Partial<Record<TraceDecision, number>>;
}

/** The `days` whole days ending with the UTC day of `now`. */
export function windowEnding(now: Date, days: number): ReviewWindow {
  const today = dayOf(now);
  return { from: formatDay(today - days + 1), to: formatDay(today), days };
}

/** The window spanning a trace's whole recording (for a baseline trace); undefined for an empty trace. */
export function windowOfTrace(trace: Trace): ReviewWindow | undefined {
  const days = trace.entries.flatMap((entry) => entryDays(entry));
  if (days.length === 0) return undefined;
  days.sort();
  const from = days[0]!;
  const to = days[days.length - 1]!;
  return { from, to, days: parseDay(to)! - parseDay(from)! + 1 };
}

/** The UTC days an entry has calls on; an entry without per-day counts is placed on its last-seen day. */
function entryDays(entry: TraceEntry): string[] {
  const days = Object.keys(entry.perDay);
  return days.length > 0 ? days : [formatDay(dayOf(new Date(entry.lastSeen)))];
}

function perDayInWindow(entry: TraceEntry, window: ReviewWindow): Map<string, number> {
  const counts =
    Object.keys(entry.perDay).length > 0 ? entry.perDay : { [entryDays(entry)[0]!]: entry.count };
  const inside = new Map<string, number>();
  for (const [day, count] of Object.entries(counts)) {
    // YYYY-MM-DD strings order like the days they name.
    if (day >= window.from && day <= window.to && count > 0) inside.set(day, count);
  }
  return inside;
}

function cappedDecisions(entry: TraceEntry, count: number): Partial<Record<TraceDecision, number>> {
  const capped: Partial<Record<TraceDecision, number>> = {};
  for (const [decision, calls] of Object.entries(entry.decisions) as [TraceDecision, number][]) {
    const inside = Math.min(calls, count);
    if (inside > 0) capped[decision] = inside;
  }
  return capped;
}

/** The entries with at least one call inside the window, with their in-window counts. */
export function entriesInWindow(trace: Trace, window: ReviewWindow): WindowedEntry[] {
  const windowed: WindowedEntry[] = [];
  for (const entry of trace.entries) {
    const perDay = perDayInWindow(entry, window);
    const count = [...perDay.values()].reduce((sum, calls) => sum + calls, 0);
    if (count > 0) windowed.push({ entry, count, perDay, decisions: cappedDecisions(entry, count) });
  }
  return windowed;
}
