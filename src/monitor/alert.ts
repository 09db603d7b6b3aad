/**
 * Alerts: what the monitor's rules raise and every output (JSON lines, webhook, syslog, SQLite, metrics)
 * carries. Rule ids are stable: dashboards, Falco exports and runbooks key on them.
 */

import { BUILTIN_RULE_IDS } from '../syscalls/detection-defaults.js';

export { BUILTIN_RULE_IDS };

export type BuiltinRuleId = (typeof BUILTIN_RULE_IDS)[number];

export type Severity = 'info' | 'warning' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'high', 'critical'];

/**
 * What the breaker did about an alert. `none` when the rule only alerts or runs dry; `freeze-skipped` /
 * `kill-skipped` when the pid no longer names the process that triggered it (reused pid) or it is gone.
 */
export type ResponseTaken = 'none' | 'alert' | 'freeze' | 'kill' | 'thaw' | 'freeze-skipped' | 'kill-skipped';

export interface Alert {
  /** When the triggering event happened (ms since epoch). */
  readonly time: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly host: string;
  readonly pid: number;
  /** Executable path, `[comm]` when only the task name is known, '' when neither. */
  readonly exe: string;
  /** Container id, '' when the process is not in a container. */
  readonly container: string;
  readonly response: ResponseTaken;
  /** False when the monitor knew of dropped or lost events while this alert's data was gathered. */
  readonly complete: boolean;
  /** One sentence for humans. */
  readonly message: string;
  /** True when the rule is in dry-run: the response was decided but not carried out. */
  readonly dryRun: boolean;
  /** Rule-specific facts (counts, syscalls, sigma, sequence members), JSON-serialisable. */
  readonly details: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

/** One JSON line for an alert (no newline), the format of `--output` files and stdout. */
export function alertToJsonLine(alert: Alert): string {
  return JSON.stringify(alert);
}
