/**
 * Lint findings as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the format code
 * scanning services ingest: one run whose driver lists every catalogue lint as a rule with help text,
 * and one result per finding pointing at the rule's file:line:col (or at the policy file as a whole).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LINT_CATALOGUE, type Finding, type LintInfo, type Severity } from './lint-catalogue.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifLevel = 'error' | 'warning' | 'note';

export interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: { readonly text: string };
  readonly fullDescription: { readonly text: string };
  readonly help: { readonly text: string; readonly markdown: string };
  readonly defaultConfiguration: { readonly level: SarifLevel };
}

export interface SarifLocation {
  readonly physicalLocation: {
    readonly artifactLocation: { readonly uri: string };
    readonly region?: { readonly startLine: number; readonly startColumn: number };
  };
}

export interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: SarifLevel;
  readonly message: { readonly text: string };
  readonly locations: readonly SarifLocation[];
  readonly properties?: { readonly syscall: string };
}

export interface SarifLog {
  readonly $schema: string;
  readonly version: '2.1.0';
  readonly runs: ReadonlyArray<{
    readonly tool: {
      readonly driver: {
        readonly name: string;
        readonly rules: readonly SarifRule[];
      };
    };
    readonly results: readonly SarifResult[];
  }>;
}

export interface SarifOptions {
  /** The policy file findings without a rule point at. */
  readonly policyFile: string;
}

/** SARIF has no "info"; "note" is its lowest level. */
function sarifLevel(severity: Severity): SarifLevel {
  return severity === 'info' ? 'note' : severity;
}

/** A file path as a SARIF artifact URI: relative paths stay relative (to the scan root), absolute ones become file: URLs. */
function artifactUri(file: string): string {
  return isAbsolute(file) ? pathToFileURL(file).href : file.split('\\').join('/');
}

/** `dangerous-syscall-allowed` → `DangerousSyscallAllowed`, SARIF's conventional rule name. */
function ruleName(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, __: string, letter: string) => letter.toUpperCase());
}

function sarifRule(info: LintInfo): SarifRule {
  const severity = info.severityNote === undefined ? '' : ` Severity: ${info.severityNote}.`;
  return {
    id: info.id,
    name: ruleName(info.id),
    shortDescription: { text: info.title },
    fullDescription: { text: `${info.title}: ${info.reason}.${severity}` },
    help: {
      text: `Why: ${info.reason}.\nFix: ${info.fix}.`,
      markdown: `**Why:** ${info.reason}.\n\n**Fix:** ${info.fix}.`,
    },
    defaultConfiguration: { level: sarifLevel(info.severity) },
  };
}

function sarifResult(finding: Finding, options: SarifOptions): SarifResult {
  const location = finding.location;
  const physicalLocation = location
    ? {
        artifactLocation: { uri: artifactUri(location.file) },
        region: { startLine: location.line, startColumn: location.column },
      }
    : { artifactLocation: { uri: artifactUri(options.policyFile) } };
  return {
    ruleId: finding.id,
    ruleIndex: LINT_CATALOGUE.findIndex((info) => info.id === finding.id),
    level: sarifLevel(finding.severity),
    message: { text: `${finding.message}. Why: ${finding.reason}. Fix: ${finding.fix}.` },
    locations: [{ physicalLocation }],
    ...(finding.syscall === undefined ? {} : { properties: { syscall: finding.syscall } }),
  };
}

/** The SARIF 2.1.0 log for one `sysfence check` run. */
export function toSarif(findings: readonly Finding[], options: SarifOptions): SarifLog {
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'sysfence',
            rules: LINT_CATALOGUE.map(sarifRule),
          },
        },
        results: findings.map((finding) => sarifResult(finding, options)),
      },
    ],
  };
}
