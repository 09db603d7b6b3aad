/**
 * When the next review is due. On schedule: metadata.lastReview + metadata.reviewInterval (90d when
 * unset). Due now, whatever the schedule, when the workload was upgraded since the last review, because
 * a new build calls new syscalls: told by `--upgraded`, by an executable absent from the previous
 * review, or by an executable whose path differs from an older one only in its version numbers.
 */
import {
  addInterval,
  DEFAULT_REVIEW_INTERVAL,
  EXPIRY_NOTICE_DAYS,
  formatDay,
  parseDay,
} from '../policy/lint-governance.js';
import type { PolicyMetadata } from '../policy/ir.js';

export type UpgradeEvidence =
  | { readonly kind: 'flag' }
  | { readonly kind: 'new-executable'; readonly exe: string; readonly firstSeen: string }
  | {
      readonly kind: 'new-version';
      readonly exe: string;
      readonly previousExe: string;
      readonly firstSeen: string;
    };

/** overdue: the scheduled day has passed; due-now: upgraded, or no readable schedule; due-soon: within 14 days. */
export type DueStatus = 'overdue' | 'due-now' | 'due-soon' | 'scheduled';

export interface ReviewDue {
  readonly lastReview?: string;
  readonly interval: string;
  /** lastReview + interval; absent when either is missing or unreadable. */
  readonly scheduled?: string;
  /** The day the next review is due: the scheduled day, or today when due now. */
  readonly due: string;
  /** due − today, in days (negative when overdue). */
  readonly daysLeft: number;
  readonly status: DueStatus;
  readonly upgrades: readonly UpgradeEvidence[];
}

/** Executable path → first time (ms) it was seen. */
export type FirstSeen = ReadonlyMap<string, number>;

const MS_PER_DAY = 86_400_000;

function dayOfTime(time: number): number {
  return Math.floor(time / MS_PER_DAY);
}

/** A path with its version numbers masked: /opt/app-2.1/bin/app and /opt/app-2.0/bin/app mask alike. */
export function versionlessPath(exe: string): string {
  return exe.replace(/\d+(?:[._-]\d+)*/g, '#');
}

function newVersions(executables: FirstSeen, since: number): UpgradeEvidence[] {
  const groups = new Map<string, [string, number][]>();
  for (const [exe, firstSeen] of executables) {
    const key = versionlessPath(exe);
    if (key === exe) continue; // no version in the path: nothing to compare
    groups.set(key, [...(groups.get(key) ?? []), [exe, firstSeen]]);
  }
  const evidence: UpgradeEvidence[] = [];
  for (const members of groups.values()) {
    members.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (let i = 1; i < members.length; i++) {
      const [exe, firstSeen] = members[i]!;
      if (dayOfTime(firstSeen) < since) continue;
      evidence.push({
        kind: 'new-version',
        exe,
        previousExe: members[i - 1]![0],
        firstSeen: formatDay(dayOfTime(firstSeen)),
      });
    }
  }
  return evidence;
}

function newExecutables(
  executables: FirstSeen,
  previous: ReadonlySet<string>,
  since: number,
): UpgradeEvidence[] {
  return [...executables]
    .filter(([exe, firstSeen]) => !previous.has(exe) && dayOfTime(firstSeen) >= since)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .map(([exe, firstSeen]) => ({ kind: 'new-executable', exe, firstSeen: formatDay(dayOfTime(firstSeen)) }));
}

/**
 * The upgrade evidence since the last review (`sinceDay`; every executable counts when there is none).
 * `previousExecutables` is the previous review's list, when there is a previous review.
 */
export function detectUpgrades(
  executables: FirstSeen,
  previousExecutables: ReadonlySet<string> | undefined,
  sinceDay: number | undefined,
  flagged: boolean,
): UpgradeEvidence[] {
  const since = sinceDay ?? Number.NEGATIVE_INFINITY;
  const evidence: UpgradeEvidence[] = flagged ? [{ kind: 'flag' }] : [];
  if (previousExecutables !== undefined)
    evidence.push(...newExecutables(executables, previousExecutables, since));
  const named = new Set(evidence.map((item) => ('exe' in item ? item.exe : '')));
  evidence.push(...newVersions(executables, since).filter((item) => 'exe' in item && !named.has(item.exe)));
  return evidence;
}

function statusOf(scheduled: number | undefined, today: number, upgraded: boolean): DueStatus {
  if (scheduled !== undefined && scheduled < today) return 'overdue';
  if (scheduled === undefined || upgraded) return 'due-now';
  return scheduled - today < EXPIRY_NOTICE_DAYS ? 'due-soon' : 'scheduled';
}

/** The next review date from the policy metadata, today (a UTC day number) and any upgrade evidence. */
export function reviewDue(
  metadata: PolicyMetadata | undefined,
  today: number,
  upgrades: readonly UpgradeEvidence[],
): ReviewDue {
  const interval = metadata?.reviewInterval ?? DEFAULT_REVIEW_INTERVAL;
  const last = metadata?.lastReview === undefined ? undefined : parseDay(metadata.lastReview);
  // An unreadable date or interval gives no schedule, so the review is due now: never "not yet due".
  const scheduled = last === undefined ? undefined : addInterval(last, interval);
  const status = statusOf(scheduled, today, upgrades.length > 0);
  const due = status === 'due-now' ? today : scheduled!;
  return {
    ...(metadata?.lastReview === undefined ? {} : { lastReview: metadata.lastReview }),
    interval,
    ...(scheduled === undefined ? {} : { scheduled: formatDay(scheduled) }),
    due: formatDay(due),
    daysLeft: due - today,
    status,
    upgrades,
  };
}
