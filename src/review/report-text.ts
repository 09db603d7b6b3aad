/**
 * Sentences and cell texts shared by the HTML and Markdown renderers, so both say the same thing.
 * Returns plain text: each renderer escapes it for its own format.
 */
import type { TraceDecision } from '../learn/trace.js';
import type { DeniedSyscall } from './denied.js';
import type { ReviewDue, UpgradeEvidence } from './due.js';
import type { Formatter } from './format.js';
import type { Messages } from './messages.js';
import type { ReviewDrift } from './drift.js';
import type { ReviewReport, RuleRef } from './review-model.js';

/** The text the report is rendered with. */
export interface ReportText {
  readonly messages: Messages;
  readonly format: Formatter;
}

/** An executable's display name; '' (the source named none) becomes "(unknown)". */
export function exeLabel(exe: string, text: ReportText): string {
  return exe === '' ? text.messages.unknownExe : exe;
}

/** One line of upgrade evidence. */
export function upgradeText(evidence: UpgradeEvidence, text: ReportText): string {
  const m = text.messages;
  switch (evidence.kind) {
    case 'flag':
      return m.upgradeFlag;
    case 'new-executable':
      return m.upgradeNewExecutable(evidence.exe, text.format.day(evidence.firstSeen));
    case 'new-version':
      return m.upgradeNewVersion(evidence.exe, evidence.previousExe, text.format.day(evidence.firstSeen));
  }
}

/** "errno 12, log 3": the kernel's decisions, most frequent first. */
export function decisionsText(decisions: Partial<Record<TraceDecision, number>>, text: ReportText): string {
  return (Object.entries(decisions) as [TraceDecision, number][])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([decision, calls]) => `${decision} ${text.format.number(calls)}`)
    .join(', ');
}

/** The executables of a denied syscall with their calls, and how many more there are. */
export function processesText(denied: DeniedSyscall, text: ReportText): string {
  const listed = denied.executables.map(
    (item) => exeLabel(item.exe, text) + text.messages.paren(text.format.number(item.count)),
  );
  const more = denied.executableCount - denied.executables.length;
  return more > 0
    ? [...listed, text.messages.moreExecutables(text.format.number(more))].join(', ')
    : listed.join(', ');
}

/** "layer file:line". */
export function ruleText(rule: RuleRef | undefined): string {
  return rule === undefined ? '' : `${rule.layer} ${rule.file}:${rule.line}`;
}

/** "Overdue — 30 Oct 2026 (35 days overdue)". */
export function dueText(due: ReviewDue, text: ReportText): string {
  const days = text.format.number(Math.abs(due.daysLeft));
  const left = due.daysLeft < 0 ? text.messages.daysOverdue(days) : text.messages.daysLeft(days);
  return `${text.messages.dueStatus[due.status]} — ${text.format.day(due.due)}${text.messages.paren(left)}`;
}

/** The review window as a sentence. */
export function windowText(report: ReviewReport, text: ReportText): string {
  const { window } = report;
  return text.messages.windowText(
    text.format.day(window.from),
    text.format.day(window.to),
    text.format.number(window.days),
  );
}

/** "12 / 100 (low)". */
export function scoreText(report: ReviewReport, text: ReportText): string {
  const total = text.messages.scoreOf(text.format.number(report.score.total));
  return total + text.messages.paren(text.messages.band[report.score.band]);
}

/** The summary facts, as label/value pairs, in display order. */
export function summaryFacts(report: ReviewReport, text: ReportText): [string, string][] {
  const m = text.messages;
  const f = text.format;
  return [
    [m.label.policy, report.policy.name + m.paren(report.policy.file)],
    [m.label.owner, report.policy.owner ?? m.notRecorded],
    [m.label.version, report.policy.version ?? m.notRecorded],
    [m.label.defaultAction, report.policy.defaultAction],
    [m.label.window, windowText(report, text)],
    [m.label.traces, report.traces.files.join(', ')],
    [m.label.runs, f.number(report.traces.runs)],
    [m.label.hosts, report.traces.hosts.join(', ') || m.notRecorded],
    [m.label.calls, f.number(report.traces.calls)],
    [m.label.executables, f.number(report.traces.executables)],
    [m.label.generated, f.instant(report.generatedAt)],
  ];
}

/** The due-date facts, as label/value pairs. */
export function dueFacts(report: ReviewReport, text: ReportText): [string, string][] {
  const m = text.messages;
  const f = text.format;
  const { due } = report;
  return [
    [m.label.status, dueText(due, text)],
    [m.label.lastReview, due.lastReview === undefined ? m.notRecorded : f.day(due.lastReview)],
    [m.label.interval, due.interval],
    [m.label.scheduled, due.scheduled === undefined ? m.notRecorded : f.day(due.scheduled)],
  ];
}

/** "previous review: FILE (from – to)". */
export function baselineText(drift: ReviewDrift, text: ReportText): string {
  const { baseline } = drift;
  const window = `${text.format.day(baseline.window.from)} – ${text.format.day(baseline.window.to)}`;
  return `${text.messages.baselineKind[baseline.kind]}: ${baseline.file}${text.messages.paren(window)}`;
}
