/**
 * The review as Markdown: the same sections and data as the HTML page, charts replaced by tables.
 * Every text from traces and policies is escaped for Markdown (and for the HTML Markdown may contain).
 */
import { escapeMarkdown } from './escape.js';
import { formatterFor } from './format.js';
import { messagesFor, type Lang } from './messages.js';
import {
  allowedRiskyTable,
  deniedTable,
  driftFacts,
  exceptionsTable,
  plainMarks,
  scoreTable,
  unusedTable,
  type ReportTable,
} from './report-tables.js';
import {
  dueFacts,
  exeLabel,
  scoreText,
  summaryFacts,
  upgradeText,
  windowText,
  type ReportText,
} from './report-text.js';
import type { ReviewReport } from './review-model.js';

function mdTable({ headers, rows }: ReportTable<string>, none: string): string {
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
  return (
    heading(2, m.sections.score) +
    `**${escapeMarkdown(scoreText(report, text))}**\n\n` +
    mdTable(scoreTable(report, text), m.none)
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
    mdTable({ headers: [m.label.processes, m.label.calls, m.label.busiestDay], rows }, m.none)
  );
}

function riskPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const f = text.format;
  return (
    heading(2, m.sections.riskBreakdown) +
    mdTable(
      {
        headers: [m.label.risk, m.label.number],
        rows: report.riskBreakdown.byLevel.map((item) => [m.level[item.level], f.number(item.count)]),
      },
      m.none,
    ) +
    '\n' +
    mdTable(
      {
        headers: [m.label.category, m.label.number],
        rows: report.riskBreakdown.byCategory.map((item) => [
          m.category[item.category],
          f.number(item.count),
        ]),
      },
      m.none,
    )
  );
}

function unusedPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const table = mdTable(unusedTable(report, text, plainMarks(text)), m.none);
  return heading(2, m.sections.unused) + `${escapeMarkdown(m.unusedHint)}\n\n` + table;
}

function deniedPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const table = mdTable(deniedTable(report, text, plainMarks(text)), m.none);
  return heading(2, m.sections.denied) + `${escapeMarkdown(m.deniedHint)}\n\n` + table;
}

function driftPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  const { drift } = report;
  if (drift === undefined) return heading(2, m.sections.drift) + `${escapeMarkdown(m.noDrift)}\n`;
  return heading(2, m.sections.drift) + mdFacts(driftFacts(drift, text));
}

function allowedRiskyPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  return (
    heading(2, m.sections.allowedRisky) +
    mdTable(allowedRiskyTable(report, text, plainMarks(text)), m.none) +
    `\n${escapeMarkdown(m.riskReasonsNote)}\n`
  );
}

function exceptionsPart(report: ReviewReport, text: ReportText): string {
  const m = text.messages;
  return heading(2, m.sections.exceptions) + mdTable(exceptionsTable(report, text, plainMarks(text)), m.none);
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
