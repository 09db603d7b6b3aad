/**
 * The baseline a review compares with (--previous): a previous review's JSON report (its snapshot), or
 * an older trace, whose whole recording becomes the baseline window. Anything else is an error naming
 * the file: a drift computed against the wrong file would report nonsense.
 */
import { parseTrace, TRACE_FORMAT } from '../learn/trace.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { ReviewInputError, snapshotFromReport } from './drift.js';
import { REVIEW_FORMAT, snapshotOfTrace, type ReviewBaseline } from './review-model.js';
import { windowOfTrace } from './window.js';

function formatField(document: unknown): unknown {
  return typeof document === 'object' && document !== null
    ? (document as Record<string, unknown>)['format']
    : undefined;
}

/** Reads a --previous file's text (`file` names it in errors) into a baseline for `policy`. */
export function parseBaseline(text: string, file: string, policy: ResolvedPolicy): ReviewBaseline {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReviewInputError(file, `not JSON (${(error as Error).message})`);
  }
  const format = formatField(document);
  if (format === REVIEW_FORMAT) return { kind: 'report', file, snapshot: snapshotFromReport(document, file) };
  if (format === TRACE_FORMAT) {
    const trace = parseTrace(text, file);
    const window = windowOfTrace(trace);
    if (window === undefined) throw new ReviewInputError(file, 'the baseline trace has no calls');
    return { kind: 'trace', file, snapshot: snapshotOfTrace(policy, trace, window) };
  }
  throw new ReviewInputError(
    file,
    `not a review report ("format": "${REVIEW_FORMAT}") nor a trace ("format": "${TRACE_FORMAT}")`,
  );
}
