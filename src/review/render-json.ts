/**
 * The review as JSON: the report model itself (format "sysfence-review/1"), language-neutral. Its
 * `snapshot` is what the next review reads back with --previous to compute drift.
 */
import type { ReviewReport } from './review-model.js';

/** The report as indented JSON, with a trailing newline. */
export function renderJson(report: ReviewReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
