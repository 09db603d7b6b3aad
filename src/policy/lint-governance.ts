/**
 * Governance lints: exceptions past (or near) their expiry date, reviews overdue, policies without an
 * owner. Dates are whole UTC days: an exception that `expires: 2027-03-31` still holds on that day.
 */
import { finding, type Finding } from './lint-catalogue.js';
import { selectorsText } from './lint-decisions.js';
import type { PolicyRule, ResolvedPolicy } from './ir.js';

const MS_PER_DAY = 86_400_000;
/** How far ahead an expiry is announced as info. */
export const EXPIRY_NOTICE_DAYS = 14;
/** Quarterly, when the policy does not say. */
export const DEFAULT_REVIEW_INTERVAL = '90d';
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INTERVAL = /^([1-9][0-9]*)([dwmy])$/;

/** A YYYY-MM-DD date as a UTC day number (days since 1970-01-01), or undefined if it is not a real date. */
export function parseDay(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const back = new Date(time);
  // Date.UTC rolls 2026-02-30 over into March; a date that does not round-trip was not a real date.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day)
    return undefined;
  return time / MS_PER_DAY;
}

/** The UTC day number of an instant. */
export function dayOf(instant: Date): number {
  return Math.floor(instant.getTime() / MS_PER_DAY);
}

/** A day number as YYYY-MM-DD. */
export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The day `interval` ("90d", "12w", "3m", "1y") after `day`, or undefined if the interval is unreadable. */
export function addInterval(day: number, interval: string): number | undefined {
  const match = INTERVAL.exec(interval);
  if (match === null) return undefined;
  const count = Number(match[1]);
  const start = new Date(day * MS_PER_DAY);
  switch (match[2]) {
    case 'd':
      return day + count;
    case 'w':
      return day + 7 * count;
    case 'm':
      return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + count, start.getUTCDate()) / MS_PER_DAY;
    default:
      return Date.UTC(start.getUTCFullYear() + count, start.getUTCMonth(), start.getUTCDate()) / MS_PER_DAY;
  }
}

/** exception-expired and exception-expiring for every rule with an `expires` date. */
export function lintExpiries(policy: ResolvedPolicy, today: number): Finding[] {
  return policy.rules.flatMap((rule) => expiryFindings(rule, today));
}

function expiryFindings(rule: PolicyRule, today: number): Finding[] {
  if (rule.expires === undefined) return [];
  const expires = parseDay(rule.expires);
  const ticket = rule.ticket === undefined ? '' : ` (${rule.ticket})`;
  const what = `exception for ${selectorsText(rule)}${ticket}`;
  if (expires === undefined) {
    // The parser validates dates; an unreadable one here must still not pass as "not expired".
    return [
      finding('exception-expired', {
        rule,
        message: `${what} has an unreadable expiry date '${rule.expires}'`,
      }),
    ];
  }
  if (expires < today) {
    return [finding('exception-expired', { rule, message: `${what} expired on ${rule.expires}` })];
  }
  if (expires - today < EXPIRY_NOTICE_DAYS) {
    const days = expires - today;
    return [
      finding('exception-expiring', {
        rule,
        message: `${what} expires on ${rule.expires}, in ${days} day(s)`,
      }),
    ];
  }
  return [];
}

/** review-overdue, review-date-missing, review-interval-invalid and owner-missing from policy metadata. */
export function lintMetadata(policy: ResolvedPolicy, today: number): Finding[] {
  const metadata = policy.metadata ?? {};
  const findings: Finding[] = [];
  if (metadata.owner === undefined || metadata.owner.trim() === '') {
    findings.push(finding('owner-missing', { message: `policy '${policy.name}' has no metadata.owner` }));
  }
  const interval = metadata.reviewInterval ?? DEFAULT_REVIEW_INTERVAL;
  if (addInterval(0, interval) === undefined) {
    findings.push(
      finding('review-interval-invalid', {
        message: `metadata.reviewInterval '${interval}' is not a duration`,
      }),
    );
  }
  if (metadata.lastReview === undefined) {
    findings.push(
      finding('review-date-missing', { message: `policy '${policy.name}' has no metadata.lastReview` }),
    );
    return findings;
  }
  const last = parseDay(metadata.lastReview);
  const due = last === undefined ? undefined : addInterval(last, interval);
  if (due === undefined) {
    if (last === undefined) {
      findings.push(
        finding('review-date-missing', {
          message: `metadata.lastReview '${metadata.lastReview}' is not a date`,
        }),
      );
    }
    return findings;
  }
  if (due < today) {
    findings.push(
      finding('review-overdue', {
        message: `review was due on ${formatDay(due)} (last review ${metadata.lastReview}, interval ${interval})`,
      }),
    );
  }
  return findings;
}
