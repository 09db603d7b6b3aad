/**
 * The review as one self-contained HTML page: inline CSS, inline SVG charts, no script, no external
 * resource, and a Content-Security-Policy that forbids scripts and fetches in case anything slipped
 * through escaping. Every text from traces and policies is escaped (html-parts.ts).
 */
import { barChart, stackedBarChart, type BarItem } from './charts-svg.js';
import { formatterFor } from './format.js';
import { el, facts, list, render, table, trusted, type Content, type Html } from './html-parts.js';
import { messagesFor, type Lang } from './messages.js';
import {
  allowedRiskyTable,
  deniedTable,
  driftFacts,
  exceptionsTable,
  scoreTable,
  unusedTable,
  type CellMarks,
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
import { RISK_LEVELS, type ReviewReport } from './review-model.js';
import type { RiskLevel } from '../syscalls/risk.js';

/** Bars in the top-denied chart. */
export const TOP_DENIED = 10;

export const LEVEL_COLORS: Readonly<Record<RiskLevel, string>> = {
  critical: '#b2182b',
  high: '#e66101',
  medium: '#c9a400',
};

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:0 auto;max-width:60rem;padding:1rem 2rem;color:#222;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
td code,.level{white-space:nowrap}
th{background:#f3f3f3}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:break-word}.score{font-size:1.6rem;font-weight:700}
.band-low{color:#1a7f37}.band-moderate{color:#9a6700}.band-high{color:#d1242f}.band-critical{color:#8b0000}
.level{font-weight:600}.level-critical{color:${LEVEL_COLORS.critical}}.level-high{color:${LEVEL_COLORS.high}}
.level-medium{color:#8a7000}.status-overdue,.status-due-now,.status-expired{color:#d1242f;font-weight:700}
.hint,.none{color:#555}svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}code{font-size:.9em}
`;

function section(id: string, heading: string, ...content: Content[]): Html {
  return el('section', { id }, el('h2', {}, heading), ...content);
}

function code(text: string): Html {
  return el('code', {}, text);
}

/** Syscalls and actions as code, levels coloured, exception statuses classed for the stylesheet. */
function htmlMarks(text: ReportText): CellMarks<Content> {
  const m = text.messages;
  return {
    code,
    level: (level) =>
      level === undefined ? '' : el('span', { class: `level level-${level}` }, m.level[level]),
    exceptionStatus: (status) => el('span', { class: `status-${status}` }, m.exceptionStatus[status]),
  };
}

/** The table, or a "none" paragraph when it has no rows. */
function tableOrNone(className: string, model: ReportTable<Content>, text: ReportText): Html {
  return model.rows.length === 0
    ? el('p', { class: 'none' }, text.messages.none)
    : table(className, model.headers, model.rows);
}

function scoreSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const { headers, rows } = scoreTable(report, text);
  return section(
    'score',
    m.sections.score,
    el('p', { class: `score band-${report.score.band}` }, scoreText(report, text)),
    table('components', headers, rows),
  );
}

function dueSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const [[statusLabel, status], ...rest] = dueFacts(report, text) as [
    [string, string],
    ...[string, string][],
  ];
  const statusCell = el('span', { class: `status-${report.due.status}` }, status);
  return section(
    'due',
    m.sections.due,
    facts([[statusLabel, statusCell], ...rest]),
    el('h3', {}, m.label.upgrades),
    list(
      report.due.upgrades.map((item) => upgradeText(item, text)),
      m.none,
    ),
  );
}

function usageSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const { usage } = report;
  if (usage.days.length === 0) return section('usage', m.sections.usage, el('p', { class: 'none' }, m.none));
  const series = usage.series.map((item) => ({
    label: item.other ? m.otherSeries : exeLabel(item.exe, text),
    values: item.counts,
  }));
  const chart = stackedBarChart(
    { categories: usage.days, series },
    {
      title: m.sections.usage,
      formatNumber: text.format.number,
      formatCategory: text.format.shortDay,
      yAxisLabel: m.label.callsPerDay,
    },
  );
  return section(
    'usage',
    m.sections.usage,
    el('p', { class: 'hint' }, windowText(report, text)),
    trusted(chart),
  );
}

function topDeniedSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const items: BarItem[] = report.denied
    .slice(0, TOP_DENIED)
    .map((item) => ({ label: item.syscall, value: item.count, color: '#d55e00' }));
  const content =
    items.length === 0
      ? el('p', { class: 'none' }, m.none)
      : trusted(barChart(items, chartText(m.sections.topDenied, text)));
  return section('top-denied', m.sections.topDenied, content);
}

function chartText(
  title: string,
  text: ReportText,
): { title: string; formatNumber: (value: number) => string } {
  return { title, formatNumber: text.format.number };
}

function riskSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const byLevel: BarItem[] = RISK_LEVELS.map((level) => ({
    label: m.level[level],
    value: report.riskBreakdown.byLevel.find((item) => item.level === level)?.count ?? 0,
    color: LEVEL_COLORS[level],
  }));
  const byCategory: BarItem[] = report.riskBreakdown.byCategory.map((item) => ({
    label: m.category[item.category],
    value: item.count,
  }));
  const categoryChart =
    byCategory.length === 0
      ? el('p', { class: 'none' }, m.none)
      : trusted(barChart(byCategory, chartText(m.label.category, text)));
  return section(
    'risk',
    m.sections.riskBreakdown,
    el('h3', {}, m.label.risk),
    trusted(barChart(byLevel, chartText(`${m.sections.riskBreakdown}: ${m.label.risk}`, text))),
    el('h3', {}, m.label.category),
    categoryChart,
  );
}

function allowedRiskySection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  return section(
    'allowed-risky',
    m.sections.allowedRisky,
    tableOrNone('allowed-risky', allowedRiskyTable(report, text, htmlMarks(text)), text),
    el('p', { class: 'hint' }, m.riskReasonsNote),
  );
}

function unusedSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const body = tableOrNone('unused', unusedTable(report, text, htmlMarks(text)), text);
  return section('unused', m.sections.unused, el('p', { class: 'hint' }, m.unusedHint), body);
}

function deniedSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const body = tableOrNone('denied', deniedTable(report, text, htmlMarks(text)), text);
  return section('denied', m.sections.denied, el('p', { class: 'hint' }, m.deniedHint), body);
}

function driftSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const { drift } = report;
  if (drift === undefined) return section('drift', m.sections.drift, el('p', { class: 'none' }, m.noDrift));
  return section('drift', m.sections.drift, facts(driftFacts(drift, text)));
}

function exceptionsSection(report: ReviewReport, text: ReportText): Html {
  const m = text.messages;
  const body = tableOrNone('exceptions', exceptionsTable(report, text, htmlMarks(text)), text);
  return section('exceptions', m.sections.exceptions, body);
}

/** The whole report as an HTML document in `lang`. */
export function renderHtml(report: ReviewReport, lang: Lang): string {
  const text: ReportText = { messages: messagesFor(lang), format: formatterFor(lang) };
  const m = text.messages;
  const title = `${m.title}: ${report.policy.name}`;
  const head = [
    trusted('<meta charset="utf-8">'),
    trusted(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`),
    trusted('<meta name="viewport" content="width=device-width, initial-scale=1">'),
    el('title', {}, title),
    trusted(`<style>${STYLE}</style>`),
  ];
  const body = [
    el('header', {}, el('h1', {}, title), el('p', { class: 'hint' }, windowText(report, text))),
    section('summary', m.sections.summary, facts(summaryFacts(report, text))),
    scoreSection(report, text),
    dueSection(report, text),
    usageSection(report, text),
    topDeniedSection(report, text),
    riskSection(report, text),
    unusedSection(report, text),
    deniedSection(report, text),
    driftSection(report, text),
    allowedRiskySection(report, text),
    exceptionsSection(report, text),
  ];
  return `<!DOCTYPE html>\n<html lang="${text.format.locale}">${render([el('head', {}, head), el('body', {}, el('main', {}, body))])}</html>\n`;
}
