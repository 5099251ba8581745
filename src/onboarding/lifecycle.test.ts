/** The lifecycle's rules, on facts alone: where a partner stands, when it entered each stage, the gates ahead. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  awaitsDecision, decisionAction, gateAhead, positionOf, stageEntries, STAGES, TRANSITIONS, type PartnerFacts,
} from './lifecycle.ts';

type AppStatus = NonNullable<PartnerFacts['application']>['status'];
const app = (status: AppStatus, submitted_at: number | null = null) => ({ status, created_at: 10, updated_at: 20, submitted_at });
type RequestStatus = PartnerFacts['requests'][number]['status'];
const request = (env: 'integration' | 'live', status: RequestStatus, created_at: number, decided_at: number | null = null) =>
  ({ env, status, created_at, decided_at });
const facts = (f: Partial<PartnerFacts> = {}): PartnerFacts => ({ createdAt: 1, application: undefined, requests: [], ...f });

test('the transitions lead through every stage in order, each from the stage before', () => {
  assert.deepEqual(TRANSITIONS.map((t) => [t.from, t.to]), STAGES.slice(1).map((s, i) => [STAGES[i], s]));
});

test('the gate ahead of each stage: Integrate\'s is go-live (asking to go live is not a gate); none once live', () => {
  assert.deepEqual(STAGES.map(gateAhead), ['application', 'integration', 'go_live', 'go_live', null]);
});

test('a submitted application, a pending request wait for the team\'s decision; nothing else does', () => {
  assert.equal(awaitsDecision('application', 'submitted'), true);
  assert.equal(awaitsDecision('integration', 'pending'), true);
  assert.equal(awaitsDecision('application', 'pending'), false);
  assert.equal(awaitsDecision('go_live', 'approved'), false);
  assert.equal(awaitsDecision('go_live', null), false);
});

test('decisions are audited as gate.<gate>.<decision>', () => {
  assert.equal(decisionAction('application', 'approve'), 'gate.application.approve');
});

test('no application: Apply, not started, since the organisation was created', () => {
  assert.deepEqual(positionOf(facts()), { stage: 'Apply', status: 'Not started', waitingOn: 'partner', since: 1, nextGate: 'application' });
});

test('a draft application: Apply, on the partner, since it was last saved', () => {
  const p = positionOf(facts({ application: app('draft') }));
  assert.deepEqual(p, { stage: 'Apply', status: 'Application in draft', waitingOn: 'partner', since: 20, nextGate: 'application' });
});

test('a submitted application waits on the team since it was submitted', () => {
  const p = positionOf(facts({ application: app('submitted', 15) }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since], ['Apply', 'Application awaiting review', 'team', 15]);
});

test('changes asked for to the application: back with the partner', () => {
  const p = positionOf(facts({ application: app('changes_requested') }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.nextGate], ['Apply', 'Application: changes requested', 'partner', 'application']);
});

test('a refused application has no gate ahead', () => {
  const p = positionOf(facts({ application: app('rejected') }));
  assert.deepEqual([p.stage, p.status, p.nextGate], ['Apply', 'Application not approved', null]);
});

test('an approved application: Discovery, exploring the sandpit, the integration gate ahead', () => {
  const p = positionOf(facts({ application: app('approved') }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since], ['Discovery', 'Exploring the sandpit', 'partner', 20]);
  assert.equal(p.nextGate, 'integration');
});

test('a pending integration request: still Discovery, waiting on the team since it was asked', () => {
  const p = positionOf(facts({ application: app('approved'), requests: [request('integration', 'pending', 30)] }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since], ['Discovery', 'Integration access requested', 'team', 30]);
});

test('a refused integration request: Discovery, on the partner since the decision', () => {
  const p = positionOf(facts({ application: app('approved'), requests: [request('integration', 'rejected', 30, 35)] }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since], ['Discovery', 'Integration access not approved', 'partner', 35]);
});

test('the latest request counts: an older refusal does not hide a newer pending request', () => {
  const p = positionOf(facts({ requests: [request('integration', 'pending', 40), request('integration', 'changes_requested', 30, 35)] }));
  assert.equal(p.status, 'Integration access requested');
});

test('integration approved: Integrate, the go-live gate ahead, since the decision', () => {
  const p = positionOf(facts({ application: app('approved'), requests: [request('integration', 'approved', 30, 35)] }));
  assert.deepEqual([p.stage, p.status, p.since, p.nextGate], ['Integrate', 'Technical conformance in integration', 35, 'go_live']);
});

test('a go-live request moves the partner to Go live, waiting on the team', () => {
  const p = positionOf(facts({ requests: [request('live', 'pending', 50), request('integration', 'approved', 30, 35)] }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since, p.nextGate], ['Go live', 'Go-live requested', 'team', 50, 'go_live']);
});

test('changes asked for to the go-live request: Go live, on the partner', () => {
  const p = positionOf(facts({ requests: [request('live', 'changes_requested', 50, 55)] }));
  assert.deepEqual([p.stage, p.status, p.waitingOn, p.since], ['Go live', 'Go-live: changes requested', 'partner', 55]);
});

test('go-live approved: Live, no gate ahead', () => {
  const p = positionOf(facts({ requests: [request('live', 'approved', 50, 60)] }));
  assert.deepEqual([p.stage, p.status, p.since, p.nextGate], ['Live', 'Live: support', 60, null]);
});

test('stage entries: Apply when the application was started, or the organisation without one', () => {
  assert.deepEqual(stageEntries(facts()), { Apply: 1 });
  assert.deepEqual(stageEntries(facts({ application: app('draft') })), { Apply: 10 });
});

test('stage entries: Discovery at the application gate\'s approval, Integrate and Live at their requests\' approval', () => {
  const requests = [request('live', 'approved', 50, 60), request('integration', 'approved', 30, 35)];
  const f = facts({ application: app('approved'), applicationApprovedAt: 25, requests });
  assert.deepEqual(stageEntries(f), { Apply: 10, Discovery: 25, Integrate: 35, 'Go live': 50, Live: 60 });
});

test('stage entries: Go live when the first go-live request was made, whatever became of it', () => {
  const f = facts({ requests: [request('live', 'pending', 70), request('live', 'rejected', 50, 55)] });
  assert.deepEqual(stageEntries(f), { Apply: 1, 'Go live': 50 });
});
