/**
 * `sysfence review POLICY --trace TRACE...`: the periodic review of a policy against what its workload
 * did (src/review): unused allowances, logged/denied calls, drift, risk score and the next review date,
 * written as self-contained HTML, Markdown or JSON, in English or Chinese.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadAnyPolicy } from '../../formats/load.js';
import { mergeTraces, readTrace } from '../../learn/trace.js';
import { addInterval, dayOf } from '../../policy/lint-governance.js';
import { parseBaseline } from '../../review/baseline.js';
import { LANGS, parseLang, type Lang } from '../../review/messages.js';
import { renderHtml } from '../../review/render-html.js';
import { renderJson } from '../../review/render-json.js';
import { renderMarkdown } from '../../review/render-markdown.js';
import { buildReview, type ReviewReport } from '../../review/review-model.js';
import {
  hasFlag,
  optionValue,
  optionValues,
  requirePositional,
  UsageError,
  type ParsedArgs,
} from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { archOrHost } from '../arch-option.js';
import { nowOption } from '../now-option.js';

const USAGE = `usage: sysfence review POLICY --trace TRACE [TRACE...] [--since 90d] [--previous FILE]
                       [--lang en|zh] [-o report.html|report.md|report.json] [--format html|md|json]
                       [--upgraded] [--now YYYY-MM-DD] [--arch ARCH]

Reviews POLICY against what the traces (sysfence-trace/1 JSON, from learning) recorded in the window:
allowed syscalls never used (risky first), syscalls logged or denied (or that POLICY would not allow),
drift since the previous review, a 0-100 risk score, and when the next review is due (docs/review.md).
  --trace FILE      a trace; repeat, or list several after it
  --since N         the window: the last N days (90d, 12w, 3m, 1y; default 90d)
  --previous FILE   the previous review's JSON report, or an older trace, to compare with
  --lang L          en (default) or zh
  -o, --output F    write the report to F; the format follows its extension (.html, .md, .json)
  --format F        html, md or json (default: from -o, else md on standard output)
  --upgraded        the workload was upgraded: the review is due now
  --now DATE        "today" for the window and the due date (default: today)
  --arch ARCH       OCI policies only: the architecture the profile is read for
Exit status: 0 report written, 2 bad usage or unreadable input.
`;

type ReportFormat = 'html' | 'md' | 'json';
const FORMATS: readonly ReportFormat[] = ['html', 'md', 'json'];
const EXTENSIONS: Readonly<Record<string, ReportFormat>> = {
  '.html': 'html',
  '.htm': 'html',
  '.md': 'md',
  '.markdown': 'md',
  '.json': 'json',
};
const DEFAULT_WINDOW = '90d';

function parseFormat(args: ParsedArgs, output: string | undefined): ReportFormat {
  const text = optionValue(args, 'format');
  if (text !== undefined) {
    const format = FORMATS.find((candidate) => candidate === text);
    if (format === undefined) throw new UsageError(`unknown format '${text}' (${FORMATS.join(', ')})`);
    return format;
  }
  if (output === undefined) return 'md';
  const format = EXTENSIONS[extname(output).toLowerCase()];
  if (format === undefined)
    throw new UsageError(`cannot tell the format of '${output}': use --format html|md|json`);
  return format;
}

function parseLangOption(args: ParsedArgs): Lang {
  const text = optionValue(args, 'lang') ?? 'en';
  const lang = parseLang(text);
  if (lang === undefined) throw new UsageError(`unknown language '${text}' (${LANGS.join(', ')})`);
  return lang;
}

/** The window length in days: "3m" ending today counts the days of those months. */
function parseWindowDays(args: ParsedArgs, now: Date): number {
  const text = optionValue(args, 'since') ?? DEFAULT_WINDOW;
  const today = dayOf(now);
  const end = addInterval(today, text);
  if (end === undefined)
    throw new UsageError(`--since needs a duration like 90d, 12w, 3m or 1y, got '${text}'`);
  return end - today;
}

function traceFiles(args: ParsedArgs): string[] {
  const files = [...optionValues(args, 'trace'), ...args.positionals.slice(1)];
  if (optionValues(args, 'trace').length === 0) {
    throw new UsageError(
      args.positionals.length > 1 ? 'traces must follow --trace' : 'missing --trace TRACE',
    );
  }
  return files;
}

function renderReport(report: ReviewReport, format: ReportFormat, lang: Lang): string {
  switch (format) {
    case 'html':
      return renderHtml(report, lang);
    case 'md':
      return renderMarkdown(report, lang);
    case 'json':
      return renderJson(report);
  }
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const policyFile = requirePositional(args, 0, 'POLICY');
  const files = traceFiles(args);
  const output = optionValue(args, 'output');
  const format = parseFormat(args, output);
  const lang = parseLangOption(args);
  const now = nowOption(args);
  const windowDays = parseWindowDays(args, now);

  const loaded = await loadAnyPolicy(policyFile, { arch: archOrHost(args) });
  for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
  const trace = mergeTraces(await Promise.all(files.map((file) => readTrace(file))));
  const previous = optionValue(args, 'previous');
  const baseline =
    previous === undefined
      ? undefined
      : parseBaseline(await readFile(previous, 'utf8'), previous, loaded.policy);

  const report = buildReview({
    policy: loaded.policy,
    policyFile,
    trace,
    traceFiles: files,
    now,
    windowDays,
    upgraded: hasFlag(args, 'upgraded'),
    ...(baseline === undefined ? {} : { baseline }),
  });
  const rendered = renderReport(report, format, lang);
  if (output === undefined) {
    io.stdout(rendered);
    return 0;
  }
  await writeFile(output, rendered);
  io.stdout(
    `${output}: risk score ${report.score.total}/100 (${report.score.band}), ` +
      `next review ${report.due.due} (${report.due.status})\n`,
  );
  return 0;
}

export const reviewCommand: Command = {
  name: 'review',
  summary: 'periodic review: unused and denied syscalls, drift, risk score, next review date (HTML/MD/JSON)',
  usage: USAGE,
  options: [
    { name: 'trace', value: true, repeat: true },
    { name: 'since', value: true },
    { name: 'previous', value: true },
    { name: 'lang', value: true },
    { name: 'output', value: true, short: 'o' },
    { name: 'format', value: true },
    { name: 'upgraded' },
    { name: 'now', value: true },
    { name: 'arch', value: true },
  ],
  run,
};
