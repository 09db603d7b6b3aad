import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandOf, COMPONENT_CAPS, riskScore, type ScoreInput } from '../../src/review/risk-score.js';

const CLEAN: ScoreInput = {
  allowedRisky: [],
  defaultAllows: false,
  unusedAllowed: 0,
  expiredExceptions: 0,
  dueStatus: 'scheduled',
  neverReviewed: false,
  upgraded: false,
};

function points(input: ScoreInput, id: string): number | undefined {
  return riskScore(input).components.find((item) => item.id === id)?.points;
}

test('the component caps add up to exactly 100', () => {
  assert.equal(
    Object.values(COMPONENT_CAPS).reduce((sum, cap) => sum + cap, 0),
    100,
  );
});

test('a clean policy scores 0, the worst possible one 100', () => {
  assert.equal(riskScore(CLEAN).total, 0);
  const worst = riskScore({
    allowedRisky: Array.from({ length: 5 }, () => ({ level: 'critical' as const, conditional: false })),
    defaultAllows: true,
    unusedAllowed: 50,
    expiredExceptions: 4,
    dueStatus: 'overdue',
    neverReviewed: false,
    upgraded: true,
  });
  assert.equal(worst.total, 100);
  assert.equal(worst.band, 'critical');
});

test('risky syscalls weigh by level, half (rounded down) when only some arguments pass, capped at 45', () => {
  const one = (level: 'critical' | 'high' | 'medium', conditional: boolean): number | undefined =>
    points({ ...CLEAN, allowedRisky: [{ level, conditional }] }, 'allowed-risky');
  assert.deepEqual(
    [
      one('critical', false),
      one('critical', true),
      one('high', false),
      one('high', true),
      one('medium', false),
      one('medium', true),
    ],
    [15, 7, 6, 3, 2, 1],
  );
  const many = {
    ...CLEAN,
    allowedRisky: Array.from({ length: 4 }, () => ({ level: 'critical' as const, conditional: false })),
  };
  assert.equal(points(many, 'allowed-risky'), 45);
});

test('governance components: expired exceptions, overdue or missing review, upgrades', () => {
  assert.equal(points({ ...CLEAN, expiredExceptions: 1 }, 'expired-exceptions'), 5);
  assert.equal(points({ ...CLEAN, expiredExceptions: 3 }, 'expired-exceptions'), 10);
  assert.equal(points({ ...CLEAN, dueStatus: 'overdue' }, 'review-overdue'), 10);
  assert.equal(points({ ...CLEAN, dueStatus: 'due-now', neverReviewed: true }, 'review-overdue'), 10);
  assert.equal(points({ ...CLEAN, dueStatus: 'due-soon' }, 'review-overdue'), 0);
  assert.equal(points({ ...CLEAN, upgraded: true }, 'unreviewed-upgrade'), 5);
  assert.equal(points({ ...CLEAN, defaultAllows: true }, 'default-allow'), 20);
  assert.equal(points({ ...CLEAN, unusedAllowed: 3 }, 'unused-allowed'), 3);
  assert.equal(points({ ...CLEAN, unusedAllowed: 30 }, 'unused-allowed'), 10);
});

test('bands: 0-24 low, 25-49 moderate, 50-74 high, 75-100 critical', () => {
  assert.deepEqual([0, 24, 25, 49, 50, 74, 75, 100].map(bandOf), [
    'low',
    'low',
    'moderate',
    'moderate',
    'high',
    'high',
    'critical',
    'critical',
  ]);
});
