/**
 * The review's tables (headers and rows) and drift facts, shared by the HTML and Markdown renderers so
 * both show the same columns in the same order. A renderer passes its own cell marks: HTML wraps some
 * cells in markup (code, coloured levels, status classes), Markdown keeps plain text.
 */
import type { RiskLevel } from '../syscalls/risk.js';
import { baselineText, decisionsText, processesText, ruleText, type ReportText } from './report-text.js';
import type { ReviewDrift } from './drift.js';
import type { Messages } from './messages.js';
import type { ExceptionStatus, ReviewReport } from './review-model.js';

/** How a renderer marks the cells that carry more than plain text; C is its marked-cell type. */
export interface CellMarks<C> {
  /** A syscall name or action, shown as code. */
  readonly code: (text: string) => C;
  /** A risk level ('' cell when the syscall has none). */
  readonly level: (level: RiskLevel | undefined) => C;
  /** An exception's status. */
  readonly exceptionStatus: (status: ExceptionStatus) => C;
}

/** One table: header texts and rows of cells (plain text or marked). */
export interface ReportTable<C> {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly (string | C)[])[];
}

/** Column headers by their label keys, in the report's language. */
function headersOf(text: ReportText, keys: readonly (keyof Messages['label'])[]): string[] {
  return keys.map((key) => text.messages.label[key]);
}

/** Marks that keep every cell as plain text (for Markdown and other text formats). */
export function plainMarks(text: ReportText): CellMarks<string> {
  const m = text.messages;
  return {
    code: (value) => value,
    level: (level) => (level === undefined ? '' : m.level[level]),
    exceptionStatus: (status) => m.exceptionStatus[status],
  };
}

/** The score components: points per component out of its maximum. */
export function scoreTable(report: ReviewReport, text: ReportText): ReportTable<string> {
  const m = text.messages;
  const f = text.format;
  return {
    headers: headersOf(text, ['component', 'number', 'points', 'max']),
    rows: report.score.components.map((item) => [
      m.component[item.id],
      f.number(item.count),
      f.number(item.points),
      f.number(item.max),
    ]),
  };
}

/** Syscalls the policy permits that the traces never used. */
export function unusedTable<C>(report: ReviewReport, text: ReportText, marks: CellMarks<C>): ReportTable<C> {
  const m = text.messages;
  return {
    headers: headersOf(text, ['syscall', 'risk', 'category', 'permission', 'rule', 'reason']),
    rows: report.unused.map((item) => [
      marks.code(item.syscall),
      marks.level(item.risk?.level),
      item.risk === undefined ? '' : m.category[item.risk.category],
      m.permission[item.permission],
      ruleText(item.rule),
      item.rule?.reason ?? '',
    ]),
  };
}

/** Syscalls the kernel denied, with their decisions and callers. */
export function deniedTable<C>(report: ReviewReport, text: ReportText, marks: CellMarks<C>): ReportTable<C> {
  return {
    headers: headersOf(text, [
      'syscall',
      'count',
      'decisions',
      'policyAction',
      'processes',
      'containers',
      'abi',
    ]),
    rows: report.denied.map((item) => [
      marks.code(item.syscall),
      text.format.number(item.count),
      decisionsText(item.decisions, text),
      marks.code(item.policyAction),
      processesText(item, text),
      item.containers.join(', '),
      item.abis.join(', '),
    ]),
  };
}

/** Risky syscalls the policy allows, and whether the traces used them. */
export function allowedRiskyTable<C>(
  report: ReviewReport,
  text: ReportText,
  marks: CellMarks<C>,
): ReportTable<C> {
  const m = text.messages;
  return {
    headers: headersOf(text, ['syscall', 'risk', 'category', 'permission', 'used', 'reason']),
    rows: report.allowedRisky.map((item) => [
      marks.code(item.syscall),
      marks.level(item.level),
      m.category[item.category],
      m.permission[item.permission],
      item.used ? m.label.yes : m.label.no,
      item.reason,
    ]),
  };
}

/** The policy's exceptions with their expiry and status. */
export function exceptionsTable<C>(
  report: ReviewReport,
  text: ReportText,
  marks: CellMarks<C>,
): ReportTable<C> {
  return {
    headers: headersOf(text, ['syscall', 'expires', 'status', 'ticket', 'rule', 'reason']),
    rows: report.exceptions.map((item) => [
      item.selectors.join(', '),
      text.format.day(item.expires),
      marks.exceptionStatus(item.status),
      item.ticket ?? '',
      ruleText(item.rule),
      item.rule.reason,
    ]),
  };
}

/** The drift against the baseline, as label/value pairs ('—' for an empty list). */
export function driftFacts(drift: ReviewDrift, text: ReportText): [string, string][] {
  const m = text.messages;
  const names = (items: readonly string[]): string => (items.length === 0 ? '—' : items.join(', '));
  return [
    [m.label.baseline, baselineText(drift, text)],
    [m.label.newlyUsed, names(drift.newlyUsed)],
    [m.label.noLongerUsed, names(drift.noLongerUsed)],
    [m.label.newDenials, names(drift.newDenials)],
    [m.label.resolvedDenials, names(drift.resolvedDenials)],
    [m.label.newExecutables, names(drift.newExecutables)],
  ];
}
