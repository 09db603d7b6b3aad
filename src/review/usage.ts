/**
 * Syscall use over time per process: calls per UTC day per executable, over the days of the window
 * that have data. The busiest executables get a series each; the rest are summed into one "other".
 */
import { formatDay, parseDay } from '../policy/lint-governance.js';
import type { WindowedEntry } from './window.js';

/** Series drawn per chart; more executables than this are summed into "other". */
export const MAX_SERIES = 8;

export interface UsageSeries {
  /** The executable ('' when unknown); empty for the "other" series. */
  readonly exe: string;
  readonly other: boolean;
  readonly total: number;
  /** Calls per day, aligned with UsageOverTime.days. */
  readonly counts: readonly number[];
}

export interface UsageOverTime {
  /** Consecutive UTC days, from the first to the last day with calls in the window. */
  readonly days: readonly string[];
  readonly series: readonly UsageSeries[];
}

function dayRange(entries: readonly WindowedEntry[]): string[] {
  const seen = entries.flatMap((windowed) => [...windowed.perDay.keys()]).sort();
  if (seen.length === 0) return [];
  const first = parseDay(seen[0]!)!;
  const last = parseDay(seen[seen.length - 1]!)!;
  return Array.from({ length: last - first + 1 }, (_, offset) => formatDay(first + offset));
}

function countsByExecutable(
  entries: readonly WindowedEntry[],
  days: readonly string[],
): Map<string, number[]> {
  const position = new Map(days.map((day, index) => [day, index]));
  const byExe = new Map<string, number[]>();
  for (const windowed of entries) {
    const counts = byExe.get(windowed.entry.exe) ?? days.map(() => 0);
    for (const [day, calls] of windowed.perDay) counts[position.get(day)!]! += calls;
    byExe.set(windowed.entry.exe, counts);
  }
  return byExe;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Calls per day per executable, the busiest MAX_SERIES first. */
export function usageOverTime(entries: readonly WindowedEntry[]): UsageOverTime {
  const days = dayRange(entries);
  const ranked = [...countsByExecutable(entries, days)]
    .map(([exe, counts]) => ({ exe, other: false, total: sum(counts), counts }))
    .sort((a, b) => b.total - a.total || (a.exe < b.exe ? -1 : a.exe > b.exe ? 1 : 0));
  if (ranked.length <= MAX_SERIES) return { days, series: ranked };
  const rest = ranked.slice(MAX_SERIES - 1);
  const counts = days.map((_, index) => sum(rest.map((series) => series.counts[index]!)));
  return {
    days,
    series: [...ranked.slice(0, MAX_SERIES - 1), { exe: '', other: true, total: sum(counts), counts }],
  };
}
