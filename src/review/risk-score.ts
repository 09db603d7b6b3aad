/**
 * The review's risk score, 0–100: a sum of capped components whose caps add up to exactly 100, so each
 * component's share of the score is visible and no single kind of problem can hide the others.
 *
 *   allowed-risky       Σ over risky syscalls the policy lets through (risk catalogue):
 *                       critical 15, high 6, medium 2 points; half that (rounded down) when only some
 *                       argument values pass                                                 cap 45
 *   default-allow       20 when the default action lets calls through (a deny-list policy)    cap 20
 *   unused-allowed      1 per allowed syscall not called in the window                       cap 10
 *   expired-exceptions  5 per exception past its `expires` date                              cap 10
 *   review-overdue      10 when the scheduled review date has passed, or there is no readable
 *                       schedule (lastReview missing or unreadable, interval unreadable)      cap 10
 *   unreviewed-upgrade  5 when the workload was upgraded since the last review                cap 5
 *
 * Bands: 0–24 low, 25–49 moderate, 50–74 high, 75–100 critical.
 */
import type { RiskLevel } from '../syscalls/risk.js';
import type { DueStatus } from './due.js';

export type ScoreComponentId =
  | 'allowed-risky'
  | 'default-allow'
  | 'unused-allowed'
  | 'expired-exceptions'
  | 'review-overdue'
  | 'unreviewed-upgrade';

export type RiskBand = 'low' | 'moderate' | 'high' | 'critical';

export interface ScoreComponent {
  readonly id: ScoreComponentId;
  readonly points: number;
  readonly max: number;
  /** How many things the component counted. */
  readonly count: number;
}

export interface RiskScore {
  readonly total: number;
  readonly band: RiskBand;
  readonly components: readonly ScoreComponent[];
}

/** Points per allowed risky syscall: [always allowed, allowed for some arguments]. */
export const RISK_WEIGHTS: Readonly<Record<RiskLevel, readonly [number, number]>> = {
  critical: [15, 7],
  high: [6, 3],
  medium: [2, 1],
};

export const COMPONENT_CAPS: Readonly<Record<ScoreComponentId, number>> = {
  'allowed-risky': 45,
  'default-allow': 20,
  'unused-allowed': 10,
  'expired-exceptions': 10,
  'review-overdue': 10,
  'unreviewed-upgrade': 5,
};

/** Lower bounds of the bands, most severe first. */
const BANDS: readonly (readonly [RiskBand, number])[] = [
  ['critical', 75],
  ['high', 50],
  ['moderate', 25],
  ['low', 0],
];

export interface ScoreInput {
  readonly allowedRisky: readonly { readonly level: RiskLevel; readonly conditional: boolean }[];
  readonly defaultAllows: boolean;
  readonly unusedAllowed: number;
  readonly expiredExceptions: number;
  readonly dueStatus: DueStatus;
  /** True when there is no readable schedule (lastReview or reviewInterval missing/unreadable). */
  readonly neverReviewed: boolean;
  readonly upgraded: boolean;
}

function component(id: ScoreComponentId, rawPoints: number, count: number): ScoreComponent {
  const max = COMPONENT_CAPS[id];
  return { id, points: Math.min(rawPoints, max), max, count };
}

/** The band a total falls in. */
export function bandOf(total: number): RiskBand {
  return BANDS.find(([, floor]) => total >= floor)![0];
}

/** Computes every component and the total (see the table at the top of this file). */
export function riskScore(input: ScoreInput): RiskScore {
  const riskyPoints = input.allowedRisky.reduce(
    (sum, item) => sum + RISK_WEIGHTS[item.level][item.conditional ? 1 : 0],
    0,
  );
  const overdue = input.dueStatus === 'overdue' || input.neverReviewed;
  const components = [
    component('allowed-risky', riskyPoints, input.allowedRisky.length),
    component('default-allow', input.defaultAllows ? 20 : 0, input.defaultAllows ? 1 : 0),
    component('unused-allowed', input.unusedAllowed, input.unusedAllowed),
    component('expired-exceptions', 5 * input.expiredExceptions, input.expiredExceptions),
    component('review-overdue', overdue ? 10 : 0, overdue ? 1 : 0),
    component('unreviewed-upgrade', input.upgraded ? 5 : 0, input.upgraded ? 1 : 0),
  ];
  const total = components.reduce((sum, item) => sum + item.points, 0);
  return { total, band: bandOf(total), components };
}
