/**
 * Drift since the previous review: what the workload calls now that it did not, what it stopped
 * calling, which denials are new, which executables appeared. The baseline is the `snapshot` a previous
 * review's JSON carries, or one computed from an older trace window.
 */
import type { ReviewWindow } from './window.js';

/** What one review saw; kept in the JSON report so the next review can compare. */
export interface ReviewSnapshot {
  readonly window: ReviewWindow;
  /** Syscalls called in the window, sorted. */
  readonly used: readonly string[];
  /** Syscalls logged or denied (or that the policy would not allow), sorted. */
  readonly denied: readonly string[];
  /** Executables seen in the window, sorted. */
  readonly executables: readonly string[];
}

export type BaselineKind = 'report' | 'trace';

export interface ReviewDrift {
  readonly baseline: { readonly kind: BaselineKind; readonly file: string; readonly window: ReviewWindow };
  readonly newlyUsed: readonly string[];
  readonly noLongerUsed: readonly string[];
  readonly newDenials: readonly string[];
  readonly resolvedDenials: readonly string[];
  readonly newExecutables: readonly string[];
}

/** Raised for a --previous file that is neither a review report nor a trace; names the file and field. */
export class ReviewInputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ReviewInputError';
  }
}

function missing(from: readonly string[], present: readonly string[]): string[] {
  const have = new Set(present);
  return from.filter((item) => !have.has(item));
}

/** Compares the current snapshot with a baseline. */
export function driftBetween(
  current: ReviewSnapshot,
  baseline: ReviewSnapshot,
  kind: BaselineKind,
  file: string,
): ReviewDrift {
  return {
    baseline: { kind, file, window: baseline.window },
    newlyUsed: missing(current.used, baseline.used),
    noLongerUsed: missing(baseline.used, current.used),
    newDenials: missing(current.denied, baseline.denied),
    resolvedDenials: missing(baseline.denied, current.denied),
    newExecutables: missing(current.executables, baseline.executables),
  };
}

type Json = Readonly<Record<string, unknown>>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, file: string, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ReviewInputError(file, `${where} must be a list of strings`);
  }
  return [...(value as string[])].sort();
}

function parseWindow(value: unknown, file: string): ReviewWindow {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (
    !isJson(value) ||
    typeof value['from'] !== 'string' ||
    typeof value['to'] !== 'string' ||
    !day.test(value['from']) ||
    !day.test(value['to']) ||
    typeof value['days'] !== 'number'
  ) {
    throw new ReviewInputError(file, 'snapshot.window must be {from, to: "YYYY-MM-DD", days}');
  }
  return { from: value['from'], to: value['to'], days: value['days'] };
}

/** Reads the snapshot out of a previous review's JSON document (already parsed). */
export function snapshotFromReport(document: unknown, file: string): ReviewSnapshot {
  const snapshot = isJson(document) ? document['snapshot'] : undefined;
  if (!isJson(snapshot)) throw new ReviewInputError(file, 'a review report needs a "snapshot" object');
  return {
    window: parseWindow(snapshot['window'], file),
    used: stringList(snapshot['used'], file, 'snapshot.used'),
    denied: stringList(snapshot['denied'], file, 'snapshot.denied'),
    executables: stringList(snapshot['executables'], file, 'snapshot.executables'),
  };
}
