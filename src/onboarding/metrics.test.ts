/** The onboarding figures' rules, on stage entries alone: percentiles, conversion, time in each stage, cohorts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohorts, conversion, percentile, stageTimes, type StageEntry } from './metrics.ts';

const DAY = 24 * 3600 * 1000;
const entry = (entered: StageEntry['entered'], cohort: string | null = '2025-01'): StageEntry => ({ organisationId: 'o', cohort, entered });

test('percentile: the nearest rank; null for no values', () => {
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([4, 1, 3, 2], 50), 2);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.equal(percentile([7], 90), 7);
});

test('conversion: of those that reached a stage, the share that reached the next', () => {
  const rates = conversion([entry({ Apply: 0, Discovery: 1 }), entry({ Apply: 0 })]);
  assert.deepEqual(rates[0], { from: 'Apply', to: 'Discovery', rate: 0.5 });
});

test('conversion from a stage no one reached is null, not zero', () => {
  assert.deepEqual(conversion([entry({ Apply: 0 })]).at(-1), { from: 'Go live', to: 'Live', rate: null });
});

test('time in a stage runs until the next stage was entered', () => {
  const [apply] = stageTimes([entry({ Apply: 0, Discovery: 3 * DAY })], 10 * DAY);
  assert.deepEqual(apply, { stage: 'Apply', median: 3, p90: 3, count: 1 });
});

test('time in a stage runs until now for a partner still in it', () => {
  const discovery = stageTimes([entry({ Apply: 0, Discovery: 3 * DAY })], 10 * DAY)[1];
  assert.deepEqual(discovery, { stage: 'Discovery', median: 7, p90: 7, count: 1 });
});

test('application to live counts only partners that are live', () => {
  const total = stageTimes([entry({ Apply: 0, Live: 40 * DAY }), entry({ Apply: 0 })], 100 * DAY).at(-1);
  assert.deepEqual(total, { stage: 'Application to live', median: 40, p90: 40, count: 1 });
});

test('cohorts: by month of application, oldest first; a partner not yet submitted is in none', () => {
  const entries = ['2025-03', '2025-01', '2025-03', null].map((month) => entry({ Apply: 0 }, month));
  const byMonth = cohorts(entries, DAY);
  assert.deepEqual(byMonth.map((c) => [c.cohort, c.partners]), [['2025-01', 1], ['2025-03', 2]]);
});
