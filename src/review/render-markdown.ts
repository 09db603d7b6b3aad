/**
 * The review as Markdown: the same sections and data as the HTML page, charts replaced by tables.
 * Every text from traces and policies is escaped for Markdown (and for the HTML Markdown may contain).
 */
import { escapeMarkdown } from './escape.js';
import { formatterFor } from './format.js';
import { messagesFor, type Lang } from './messages.js';
import {
  baselineText,
  decisionsText,
  dueFacts,
  exeLabel,
  processesText,
  ruleText,
  scoreText,
  summaryFacts,
  upgradeText,
  windowText,
  type ReportText,
} from './report-text.js';
import type { ReviewReport } from './review-model.js';

function mdTable(headers: readonly string[], rows: readonly (readonly string[])[], none: string): string {
  if (rows.length === 0) return `${escapeMarkdown(none)}\n`;
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

function mdFacts(pairs: readonly (readonly [string, string])[]): string {
  return (
    pairs.map(([label, value]) => `- **${escapeMarkdown(label)}**: ${escapeMarkdown(value)}`).join('\n') +
    '\n'
  );
}

function mdList(items: readonly string[], none: string): string {
  return items.length === 0
    ? `${escapeMarkdown(none)}\n`
    : items.map((item) => `- ${escapeMarkdown(item)}`).join('\n') + '\n';
}

function heading(level: 2 | 3, text: string): string {
  return `${'#'.repeat(level)} ${escapeMarkdown(text)}\n\n`;
}

function scorePart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const f = text.format;
  return (
    heading(2, m.sections.score) +
    `**${escapeMarkdown(scoreText(report, text))}**\n\n` +
    mdTable(
      [m.label.component, m.label.number, m.label.points, m.label.max],
      report.score.components.map((c) => [
        m.component[c.id],
        f.number(c.count),
        f.number(c.points),
        f.number(c.max),
      ]),
      m.none,
    )
  );
}

function duePart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  return (
    heading(2, m.sections.due) +
    mdFacts(dueFacts(report, text)) +
    '\n' +
    heading(3, m.label.upgrades) +
    mdList(
      report.due.upgrades.map((item) => upgradeText(item, text)),
      m.none,
    )
  );
}

function usagePart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const { usage } = report;
  const rows = usage.series.map((series) => {
    const peak = Math.max(0, ...series.counts);
    const peakDay = usage.days[series.counts.indexOf(peak)] ?? '';
    return [
      series.other ? m.otherSeries : exeLabel(series.exe, text),
      text.format.number(series.total),
      text.format.number(peak) + m.paren(text.format.day(peakDay)),
    ];
  });
  return (
    heading(2, m.sections.usage) +
    `${escapeMarkdown(windowText(report, text))}\n\n` +
    mdTable([m.label.processes, m.label.calls, m.label.busiestDay], rows, m.none)
  );
}

function riskPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const f = text.format;
  return (
    heading(2, m.sections.riskBreakdown) +
    mdTable(
      [m.label.risk, m.label.number],
      report.riskBreakdown.byLevel.map((item) => [m.level[item.level], f.number(item.count)]),
      m.none,
    ) +
    '\n' +
    mdTable(
      [m.label.category, m.label.number],
      report.riskBreakdown.byCategory.map((item) => [m.category[item.category], f.number(item.count)]),
      m.none,
    )
  );
}

function unusedPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const rows = report.unused.map((item) => [
    item.syscall,
    item.risk === undefined ? '' : m.level[item.risk.level],
    item.risk === undefined ? '' : m.category[item.risk.category],
    m.permission[item.permission],
    ruleText(item.rule),
    item.rule?.reason ?? '',
  ]);
  const headers = [
    m.label.syscall,
    m.label.risk,
    m.label.category,
    m.label.permission,
    m.label.rule,
    m.label.reason,
  ];
  return (
    heading(2, m.sections.unused) + `${escapeMarkdown(m.unusedHint)}\n\n` + mdTable(headers, rows, m.none)
  );
}

function deniedPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const rows = report.denied.map((item) => [
    item.syscall,
    text.format.number(item.count),
    decisionsText(item.decisions, text),
    item.policyAction,
    processesText(item, text),
    item.containers.join(', '),
    item.abis.join(', '),
  ]);
  const headers = [
    m.label.syscall,
    m.label.count,
    m.label.decisions,
    m.label.policyAction,
    m.label.processes,
    m.label.containers,
    m.label.abi,
  ];
  return (
    heading(2, m.sections.denied) + `${escapeMarkdown(m.deniedHint)}\n\n` + mdTable(headers, rows, m.none)
  );
}

function driftPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const { drift } = report;
  if (drift === undefined) return heading(2, m.sections.drift) + `${escapeMarkdown(m.noDrift)}\n`;
  const names = (items: readonly string[]): string => (items.length === 0 ? '—' : items.join(', '));
  return (
    heading(2, m.sections.drift) +
    mdFacts([
      [m.label.baseline, baselineText(drift, text)],
      [m.label.newlyUsed, names(drift.newlyUsed)],
      [m.label.noLongerUsed, names(drift.noLongerUsed)],
      [m.label.newDenials, names(drift.newDenials)],
      [m.label.resolvedDenials, names(drift.resolvedDenials)],
      [m.label.newExecutables, names(drift.newExecutables)],
    ])
  );
}

function allowedRiskyPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const rows = report.allowedRisky.map((item) => [
    item.syscall,
    m.level[item.level],
    m.category[item.category],
    m.permission[item.permission],
    item.used ? m.label.yes : m.label.no,
    item.reason,
  ]);
  const headers = [
    m.label.syscall,
    m.label.risk,
    m.label.category,
    m.label.permission,
    m.label.used,
    m.label.reason,
  ];
  return (
    heading(2, m.sections.allowedRisky) +
    mdTable(headers, rows, m.none) +
    `\n${escapeMarkdown(m.riskReasonsNote)}\n`
  );
}

function exceptionsPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const rows = report.exceptions.map((item) => [
    item.selectors.join(', '),
    text.format.day(item.expires),
    m.exceptionStatus[item.status],
    item.ticket ?? '',
    ruleText(item.rule),
    item.rule.reason,
  ]);
  const headers = [
    m.label.syscall,
    m.label.expires,
    m.label.status,
    m.label.ticket,
    m.label.rule,
    m.label.reason,
  ];
  return heading(2, m.sections.exceptions) + mdTable(headers, rows, m.none);
}

/** The whole report as Markdown in `lang`. */
export function renderMarkdown(report: ReviewReport, lang: Lang): string {
  const text: ReportText = { messages: messagesFor(lang), format: formatterFor(lang) };
  const m = text.messages;
  const parts = [
    `# ${escapeMarkdown(`${m.title}: ${report.policy.name}`)}\n`,
    heading(2, m.sections.summary) + mdFacts(summaryFacts(report, text)),
    scorePart(report, text),
    duePart(report, text),
    usagePart(report, text),
    riskPart(report, text),
    unusedPart(report, text),
    deniedPart(report, text),
    driftPart(report, text),
    allowedRiskyPart(report, text),
    exceptionsPart(report, text),
  ];
  return parts.join('\n');
}
