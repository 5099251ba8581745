/** The pipeline's own rules: stuck, the filters and the order (where each partner stands: lifecycle.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byUrgency, isStuck, matches, STUCK_MS, type PipelineRow } from './pipeline.ts';

const NOW = 100 * STUCK_MS;
const row = (r: Partial<PipelineRow> = {}): Omit<PipelineRow, 'blockers'> => ({
  organisationId: 'o', name: 'Clinic', odsCode: null, stage: 'Apply', status: 'Not started', waitingOn: 'partner', since: NOW,
  stuck: false, nextGate: 'application', deliveryManager: null, ...r,
});

test('stuck: waiting longer than STUCK_MS for the gate ahead', () => {
  assert.equal(isStuck(row({ since: NOW - STUCK_MS - 1 }), NOW), true);
  assert.equal(isStuck(row({ since: NOW - STUCK_MS }), NOW), false);
});

test('never stuck with no gate ahead (live, or the application refused)', () => {
  assert.equal(isStuck(row({ since: 0, nextGate: null }), NOW), false);
});

test('no filter shows every row', () => {
  assert.equal(matches(row(), {}), true);
});

test('the stage filter', () => {
  assert.equal(matches(row({ stage: 'Discovery' }), { stage: 'Discovery' }), true);
  assert.equal(matches(row({ stage: 'Apply' }), { stage: 'Discovery' }), false);
});

test('the waiting-on filter', () => {
  assert.equal(matches(row({ waitingOn: 'team' }), { waitingOn: 'team' }), true);
  assert.equal(matches(row({ waitingOn: 'partner' }), { waitingOn: 'team' }), false);
});

test('the manager filter: a manager\'s partners, or with "none" those without one', () => {
  assert.equal(matches(row({ deliveryManager: 'dm@nhs.example' }), { manager: 'dm@nhs.example' }), true);
  assert.equal(matches(row({ deliveryManager: 'other@nhs.example' }), { manager: 'dm@nhs.example' }), false);
  assert.equal(matches(row(), { manager: 'none' }), true);
  assert.equal(matches(row({ deliveryManager: 'dm@nhs.example' }), { manager: 'none' }), false);
});

test('the stuck filter shows only stuck rows', () => {
  assert.equal(matches(row({ stuck: true }), { stuck: true }), true);
  assert.equal(matches(row(), { stuck: true }), false);
});

test('order: the team\'s work first, then the partners\'; the longest waiting first within each', () => {
  const rows = [
    row({ name: 'p-new', since: 3 }), row({ name: 't-new', waitingOn: 'team', since: 2 }),
    row({ name: 'p-old', since: 1 }), row({ name: 't-old', waitingOn: 'team', since: 0 }),
  ];
  assert.deepEqual(rows.sort(byUrgency).map((r) => r.name), ['t-old', 't-new', 'p-old', 'p-new']);
});
