/**
 * The periodic review of a policy against what its workload did: built once, as plain data, from a
 * resolved policy and traces; the HTML, Markdown and JSON renderers only present it. Pure: the caller
 * reads files and chooses "now".
 */
import { formatAction } from '../policy/action.js';
import type { ResolvedPolicy } from '../policy/ir.js';
import { dayOf, EXPIRY_NOTICE_DAYS, parseDay } from '../policy/lint-governance.js';
import type { Trace } from '../learn/trace.js';
import type { Arch } from '../syscalls/arch.js';
import { errnoName } from '../syscalls/errno.js';
import { RISK_CATALOGUE, riskOf, type RiskCategory, type RiskLevel } from '../syscalls/risk.js';
import { deniedSyscalls, type DeniedSyscall } from './denied.js';
import { driftBetween, type BaselineKind, type ReviewDrift, type ReviewSnapshot } from './drift.js';
import { detectUpgrades, reviewDue, type ReviewDue } from './due.js';
import {
  existsForPolicy,
  isPermissive,
  permissionOf,
  permittingRule,
  syscallsNamedAsPermitted,
} from './permission.js';
import { riskScore, type RiskScore } from './risk-score.js';
import { usageOverTime, type UsageOverTime } from './usage.js';
import { entriesInWindow, windowEnding, type ReviewWindow, type WindowedEntry } from './window.js';

export const REVIEW_FORMAT = 'sysfence-review/1';
export const RISK_LEVELS: readonly RiskLevel[] = ['critical', 'high', 'medium'];

export interface PolicySummary {
  readonly name: string;
  readonly file: string;
  readonly owner?: string;
  readonly version?: string;
  readonly architectures: readonly Arch[];
  readonly defaultAction: string;
  readonly rules: number;
}

export interface TraceSummary {
  readonly files: readonly string[];
  readonly runs: number;
  readonly hosts: readonly string[];
  /** Calls inside the window. */
  readonly calls: number;
  readonly executables: number;
}

export interface RiskInfo {
  readonly level: RiskLevel;
  readonly category: RiskCategory;
  readonly reason: string;
}

/** Where a rule was written, for "remove it here". */
export interface RuleRef {
  readonly layer: string;
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

export interface UnusedSyscall {
  readonly syscall: string;
  readonly permission: 'always' | 'conditionally';
  readonly risk?: RiskInfo;
  readonly rule?: RuleRef;
}

export interface AllowedRisky extends RiskInfo {
  readonly syscall: string;
  readonly permission: 'always' | 'conditionally';
  /** Called in the window: removing it needs a workload change, not just a policy edit. */
  readonly used: boolean;
}

export type ExceptionStatus = 'expired' | 'expiring' | 'active';

export interface ExceptionInfo {
  readonly selectors: readonly string[];
  readonly expires: string;
  readonly ticket?: string;
  readonly status: ExceptionStatus;
  /** Days until expiry (negative: expired that many days ago); undefined for an unreadable date. */
  readonly daysLeft?: number;
  readonly rule: RuleRef;
}

export interface RiskBreakdown {
  readonly byLevel: readonly { readonly level: RiskLevel; readonly count: number }[];
  readonly byCategory: readonly { readonly category: RiskCategory; readonly count: number }[];
}

export interface ReviewReport {
  readonly format: typeof REVIEW_FORMAT;
  /** When the review ran (ISO time). */
  readonly generatedAt: string;
  readonly policy: PolicySummary;
  readonly window: ReviewWindow;
  readonly traces: TraceSummary;
  readonly score: RiskScore;
  readonly due: ReviewDue;
  readonly unused: readonly UnusedSyscall[];
  readonly denied: readonly DeniedSyscall[];
  readonly allowedRisky: readonly AllowedRisky[];
  readonly riskBreakdown: RiskBreakdown;
  readonly exceptions: readonly ExceptionInfo[];
  readonly usage: UsageOverTime;
  readonly drift?: ReviewDrift;
  readonly snapshot: ReviewSnapshot;
}

export interface ReviewBaseline {
  readonly kind: BaselineKind;
  readonly file: string;
  readonly snapshot: ReviewSnapshot;
}

export interface ReviewInput {
  readonly policy: ResolvedPolicy;
  readonly policyFile: string;
  /** The traces, merged. */
  readonly trace: Trace;
  readonly traceFiles: readonly string[];
  readonly now: Date;
  readonly windowDays: number;
  /** The operator says the workload was upgraded (`--upgraded`). */
  readonly upgraded: boolean;
  readonly baseline?: ReviewBaseline;
}

const LEVEL_RANK: Readonly<Record<RiskLevel, number>> = { critical: 0, high: 1, medium: 2 };

function levelRank(level: RiskLevel | undefined): number {
  return level === undefined ? RISK_LEVELS.length : LEVEL_RANK[level];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ruleRef(rule: { layer: string; location: { file: string; line: number }; reason: string }): RuleRef {
  return { layer: rule.layer, file: rule.location.file, line: rule.location.line, reason: rule.reason };
}

/** The snapshot of what a set of in-window entries shows: used, denied and executables. */
function snapshotOf(
  entries: readonly WindowedEntry[],
  denied: readonly DeniedSyscall[],
  window: ReviewWindow,
): ReviewSnapshot {
  const executables = new Set(entries.map((windowed) => windowed.entry.exe).filter((exe) => exe !== ''));
  return {
    window,
    used: [...new Set(entries.map((windowed) => windowed.entry.syscall))].sort(byName),
    denied: denied.map((item) => item.syscall).sort(byName),
    executables: [...executables].sort(byName),
  };
}

/** Executable → first time seen, over the whole trace (an upgrade may predate the window). */
function firstSeenByExecutable(trace: Trace): Map<string, number> {
  const firstSeen = new Map<string, number>();
  for (const entry of trace.entries) {
    if (entry.exe === '') continue;
    firstSeen.set(entry.exe, Math.min(firstSeen.get(entry.exe) ?? Number.POSITIVE_INFINITY, entry.firstSeen));
  }
  return firstSeen;
}

function allowedRiskySyscalls(policy: ResolvedPolicy, used: ReadonlySet<string>): AllowedRisky[] {
  const allowed: AllowedRisky[] = [];
  for (const [syscall, risk] of Object.entries(RISK_CATALOGUE)) {
    if (!existsForPolicy(policy, syscall)) continue;
    const permission = permissionOf(policy, syscall);
    if (permission === 'never') continue;
    allowed.push({ syscall, permission, ...risk, used: used.has(syscall) });
  }
  return allowed.sort((a, b) => levelRank(a.level) - levelRank(b.level) || byName(a.syscall, b.syscall));
}

function unusedSyscalls(policy: ResolvedPolicy, used: ReadonlySet<string>): UnusedSyscall[] {
  return syscallsNamedAsPermitted(policy)
    .filter((syscall) => !used.has(syscall))
    .map((syscall): UnusedSyscall => {
      const risk = riskOf(syscall);
      const rule = permittingRule(policy, syscall);
      return {
        syscall,
        permission: permissionOf(policy, syscall) === 'always' ? 'always' : 'conditionally',
        ...(risk === undefined
          ? {}
          : { risk: { level: risk.level, category: risk.category, reason: risk.reason } }),
        ...(rule === undefined ? {} : { rule: ruleRef(rule) }),
      };
    })
    .sort((a, b) => levelRank(a.risk?.level) - levelRank(b.risk?.level) || byName(a.syscall, b.syscall));
}

function exceptionStatus(expires: number | undefined, today: number): ExceptionStatus {
  // An unreadable date must not pass as "still valid".
  if (expires === undefined || expires < today) return 'expired';
  return expires - today < EXPIRY_NOTICE_DAYS ? 'expiring' : 'active';
}

function exceptionsOf(policy: ResolvedPolicy, today: number): ExceptionInfo[] {
  return policy.rules.flatMap((rule): ExceptionInfo[] => {
    if (rule.expires === undefined) return [];
    const expires = parseDay(rule.expires);
    return [
      {
        selectors: rule.selectors,
        expires: rule.expires,
        ...(rule.ticket === undefined ? {} : { ticket: rule.ticket }),
        status: exceptionStatus(expires, today),
        ...(expires === undefined ? {} : { daysLeft: expires - today }),
        rule: ruleRef(rule),
      },
    ];
  });
}

function riskBreakdown(allowed: readonly AllowedRisky[]): RiskBreakdown {
  const categories = new Map<RiskCategory, number>();
  for (const item of allowed) categories.set(item.category, (categories.get(item.category) ?? 0) + 1);
  return {
    byLevel: RISK_LEVELS.map((level) => ({
      level,
      count: allowed.filter((item) => item.level === level).length,
    })),
    byCategory: [...categories]
      .map(([category, count]) => ({ category, count }))
      .sort((a, b) => b.count - a.count || byName(a.category, b.category)),
  };
}

function policySummary(policy: ResolvedPolicy, file: string): PolicySummary {
  const metadata = policy.metadata ?? {};
  return {
    name: policy.name,
    file,
    ...(metadata.owner === undefined ? {} : { owner: metadata.owner }),
    ...(metadata.version === undefined ? {} : { version: metadata.version }),
    architectures: policy.architectures,
    defaultAction: formatAction(policy.defaultAction, errnoName),
    rules: policy.rules.length,
  };
}

/** The due date, with upgrade evidence since the last review. */
function dueOf(input: ReviewInput, today: number): ReviewDue {
  const metadata = input.policy.metadata;
  const lastReview = metadata?.lastReview === undefined ? undefined : parseDay(metadata.lastReview);
  const previous = input.baseline === undefined ? undefined : new Set(input.baseline.snapshot.executables);
  const executables = firstSeenByExecutable(input.trace);
  return reviewDue(metadata, today, detectUpgrades(executables, previous, lastReview, input.upgraded));
}

function scoreOf(
  policy: ResolvedPolicy,
  parts: Pick<ReviewReport, 'allowedRisky' | 'unused' | 'exceptions' | 'due'>,
): RiskScore {
  return riskScore({
    allowedRisky: parts.allowedRisky.map((item) => ({
      level: item.level,
      conditional: item.permission !== 'always',
    })),
    defaultAllows: isPermissive(policy.defaultAction),
    unusedAllowed: parts.unused.length,
    expiredExceptions: parts.exceptions.filter((item) => item.status === 'expired').length,
    dueStatus: parts.due.status,
    neverReviewed: parts.due.scheduled === undefined,
    upgraded: parts.due.upgrades.length > 0,
  });
}

/** Builds the whole review report. */
export function buildReview(input: ReviewInput): ReviewReport {
  const { policy, trace, baseline } = input;
  const today = dayOf(input.now);
  const window = windowEnding(input.now, input.windowDays);
  const entries = entriesInWindow(trace, window);
  const denied = deniedSyscalls(policy, entries);
  const snapshot = snapshotOf(entries, denied, window);
  const used = new Set(snapshot.used);
  const allowedRisky = allowedRiskySyscalls(policy, used);
  const parts = {
    allowedRisky,
    unused: unusedSyscalls(policy, used),
    exceptions: exceptionsOf(policy, today),
    due: dueOf(input, today),
  };
  return {
    format: REVIEW_FORMAT,
    generatedAt: input.now.toISOString(),
    policy: policySummary(policy, input.policyFile),
    window,
    traces: {
      files: input.traceFiles,
      runs: trace.runs,
      hosts: trace.hosts,
      calls: entries.reduce((sum, windowed) => sum + windowed.count, 0),
      executables: snapshot.executables.length,
    },
    score: scoreOf(policy, parts),
    ...parts,
    denied,
    riskBreakdown: riskBreakdown(allowedRisky),
    usage: usageOverTime(entries),
    ...(baseline === undefined
      ? {}
      : { drift: driftBetween(snapshot, baseline.snapshot, baseline.kind, baseline.file) }),
    snapshot,
  };
}

/** The snapshot of an older trace, for drift against a trace window instead of a previous report. */
export function snapshotOfTrace(policy: ResolvedPolicy, trace: Trace, window: ReviewWindow): ReviewSnapshot {
  const entries = entriesInWindow(trace, window);
  return snapshotOf(entries, deniedSyscalls(policy, entries), window);
}
