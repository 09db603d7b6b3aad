/**
 * `sysfence check POLICY`: lints a policy (sysfence YAML/JSON or OCI JSON) and prints each finding with
 * its reason and fix, as text, JSON or SARIF. Exit 1 when a finding is at or above --fail-on, for CI.
 */
import { loadAnyPolicy } from '../../formats/load.js';
import { lintPolicy, SEVERITIES, severityRank, type Finding, type Severity } from '../../policy/lint.js';
import { toSarif } from '../../policy/sarif.js';
import { optionValue, requirePositional, UsageError, type ParsedArgs } from '../args.js';
import type { Command, CommandIO } from '../command.js';
import { archOrHost } from '../arch-option.js';
import { nowOption } from '../now-option.js';

const USAGE = `usage: sysfence check POLICY [--format text|json|sarif] [--fail-on error|warning|info]
                      [--now YYYY-MM-DD] [--arch ARCH]

Lints POLICY (sysfence YAML/JSON, or OCI/Docker seccomp JSON): dangerous syscalls allowed, filter
bypasses (io_uring, equivalent syscalls, multiplexers), uncovered ABIs, dead rules, expired exceptions,
overdue reviews. Each finding names its lint id (docs/lint.md), why it matters and how to fix it.
  --format F     text (default), json (an array of findings) or sarif (SARIF 2.1.0, for code scanning)
  --fail-on S    exit 1 if any finding is at least this severe (default: error)
  --now DATE     the date expiry and review checks use (default: today)
  --arch ARCH    OCI only: the architecture the profile is read for (default: this machine's)
Exit status: 0 no finding at or above --fail-on, 1 there is one, 2 the policy could not be read.
`;

type OutputFormat = 'text' | 'json' | 'sarif';
const FORMATS: readonly OutputFormat[] = ['text', 'json', 'sarif'];

function parseFormat(args: ParsedArgs): OutputFormat {
  const text = optionValue(args, 'format') ?? 'text';
  const format = FORMATS.find((candidate) => candidate === text);
  if (format === undefined) throw new UsageError(`unknown format '${text}' (${FORMATS.join(', ')})`);
  return format;
}

function parseFailOn(args: ParsedArgs): Severity {
  const text = optionValue(args, 'fail-on') ?? 'error';
  const severity = SEVERITIES.find((candidate) => candidate === text);
  if (severity === undefined) throw new UsageError(`unknown severity '${text}' (${SEVERITIES.join(', ')})`);
  return severity;
}

/** `file:line:col: severity: message [id]`, then the reason and the fix, indented. */
function formatText(finding: Finding, policyFile: string): string {
  const where = finding.location
    ? `${finding.location.file}:${finding.location.line}:${finding.location.column}`
    : policyFile;
  return `${where}: ${finding.severity}: ${finding.message} [${finding.id}]\n  why: ${finding.reason}\n  fix: ${finding.fix}\n`;
}

function summaryLine(findings: readonly Finding[]): string {
  const counts = SEVERITIES.map(
    (severity) => `${findings.filter((f) => f.severity === severity).length} ${severity}`,
  );
  return `${findings.length} finding(s): ${counts.join(', ')}\n`;
}

/** A finding as plain JSON: the rule is reduced to where it is (its conditions hold bigints). */
function findingJson(finding: Finding, policyFile: string): Record<string, unknown> {
  return {
    id: finding.id,
    severity: finding.severity,
    message: finding.message,
    reason: finding.reason,
    fix: finding.fix,
    file: finding.location?.file ?? policyFile,
    ...(finding.location ? { line: finding.location.line, column: finding.location.column } : {}),
    ...(finding.rule ? { layer: finding.rule.layer, selectors: finding.rule.selectors } : {}),
    ...(finding.syscall === undefined ? {} : { syscall: finding.syscall }),
  };
}

function render(findings: readonly Finding[], format: OutputFormat, policyFile: string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(
        findings.map((f) => findingJson(f, policyFile)),
        null,
        2,
      )}\n`;
    case 'sarif':
      return `${JSON.stringify(toSarif(findings, { policyFile }), null, 2)}\n`;
    case 'text':
      return findings.map((f) => formatText(f, policyFile)).join('') + summaryLine(findings);
  }
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const path = requirePositional(args, 0, 'POLICY');
  if (args.positionals.length > 1) throw new UsageError('check takes one POLICY');
  const format = parseFormat(args);
  const failOn = parseFailOn(args);
  const loaded = await loadAnyPolicy(path, { arch: archOrHost(args) });
  for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);

  const findings = lintPolicy(loaded.policy, { now: nowOption(args) });
  io.stdout(render(findings, format, path));
  const failing = findings.some((f) => severityRank(f.severity) <= severityRank(failOn));
  return failing ? 1 : 0;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'lint a policy: risky syscalls, filter bypasses, dead rules, expiries, overdue reviews',
  usage: USAGE,
  options: [
    { name: 'format', value: true },
    { name: 'fail-on', value: true },
    { name: 'now', value: true },
    { name: 'arch', value: true },
  ],
  run,
};
