/**
 * `sysfence check`'s engine: runs every lint of the catalogue (lint-catalogue.ts) over a resolved policy.
 * Pure: reads only the IR and the syscall data, so the same findings come out of the CLI, CI and review.
 */
import { severityRank, type Finding } from './lint-catalogue.js';
import { dayOf, lintExpiries, lintMetadata } from './lint-governance.js';
import { lintArchitectures, lintDeadRules, lintKillThread, lintUnknownAction } from './lint-structure.js';
import {
  lintDangerousSyscalls,
  lintEquivalenceHoles,
  lintIoUring,
  lintMultiplexers,
  lintVdsoRestrictions,
  lintEssentialSyscalls,
} from './lint-syscalls.js';
import type { ResolvedPolicy } from './ir.js';

export { LINT_CATALOGUE, lintInfo, severityRank, SEVERITIES } from './lint-catalogue.js';
export type { Finding, LintId, LintInfo, Severity } from './lint-catalogue.js';

export interface LintOptions {
  /** "Today" for expiry and review checks; defaults to the current time. */
  readonly now?: Date;
}

/** Most severe first, then by file, line and column; findings about the whole policy come first. */
function compareFindings(a: Finding, b: Finding): number {
  const bySeverity = severityRank(a.severity) - severityRank(b.severity);
  if (bySeverity !== 0) return bySeverity;
  const fileA = a.location?.file ?? '';
  const fileB = b.location?.file ?? '';
  if (fileA !== fileB) return fileA < fileB ? -1 : 1;
  return (
    (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0)
  );
}

/** Every finding of every lint for `policy`, most severe first. */
export function lintPolicy(policy: ResolvedPolicy, options: LintOptions = {}): Finding[] {
  const today = dayOf(options.now ?? new Date());
  const findings = [
    ...lintDangerousSyscalls(policy),
    ...lintIoUring(policy),
    ...lintEquivalenceHoles(policy),
    ...lintVdsoRestrictions(policy),
    ...lintEssentialSyscalls(policy),
    ...lintMultiplexers(policy),
    ...lintArchitectures(policy),
    ...lintKillThread(policy),
    ...lintUnknownAction(policy),
    ...lintExpiries(policy, today),
    ...lintDeadRules(policy),
    ...lintMetadata(policy, today),
  ];
  return findings.sort(compareFindings);
}
