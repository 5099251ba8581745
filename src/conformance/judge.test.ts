/** Judging one test from what the browser saw and what the protocol record holds of it, one rule per test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Revisit, Observation } from './driver.ts';
import { judge, judgeAfterIdle, judgeCallbackAgain, type RunEvent } from './judge.ts';
import type { TestSpec } from './plan.ts';

const spec = (s: Partial<TestSpec>): TestSpec => ({
  id: 't',
  title: 't',
  requirement: 'r',
  reference: 'ref',
  group: 'scenario',
  persona: 'P9',
  expect: 'signed_in',
  ...s,
});
const seen = (o: Partial<Observation> = {}): Observation => ({
  steps: [],
  finalUrl: 'https://rp.example/home',
  status: 200,
  text: 'Welcome back',
  loginButton: false,
  links: [],
  screenshot: '',
  ...o,
});
let n = 0;
const event = (e: Partial<RunEvent>): RunEvent => ({
  id: `e${n++}`,
  kind: 'token',
  outcome: 'ok',
  error: null,
  description: null,
  at: 0,
  details: {},
  ...e,
});
const refusedSpec = spec({ expect: 'refused', fault: 'id_token_wrong_aud' });
const signedOut = seen({ text: 'Signed out', loginButton: true });
const signedInText = { text: 'Welcome back' };

test('signed in: a page that looks signed in without a redeemed code fails', () => {
  assert.equal(judge(spec({}), seen(), [], signedInText).status, 'fail');
});

test('signed in: the service\'s signed-in page and a redeemed code pass', () => {
  assert.equal(judge(spec({}), seen(), [event({})], signedInText).status, 'pass');
});

test('invalid_scope: not seen in the record, the run could not tell', () => {
  const events = [event({ kind: 'authorize', outcome: 'error', error: 'invalid_request' })];
  const verdict = judge(spec({ expect: 'error_not_crash' }), seen({ text: 'Sorry' }), events, {});
  assert.equal(verdict.status, 'could_not_run');
});

test('invalid_scope: recorded by its code and answered with an error page, it passes', () => {
  const events = [event({ kind: 'authorize', outcome: 'error', error: 'invalid_scope', description: 'injected fault' })];
  const verdict = judge(spec({ expect: 'error_not_crash' }), seen({ status: 400, text: 'Sorry', loginButton: true }), events, {});
  assert.equal(verdict.status, 'pass');
});

test('invalid_scope: a crash of the service fails', () => {
  const events = [event({ kind: 'authorize', outcome: 'error', error: 'invalid_scope' })];
  assert.equal(judge(spec({ expect: 'error_not_crash' }), seen({ status: 500 }), events, {}).status, 'fail');
});

test('refused: without the fault in the record, the fault was never applied', () => {
  assert.equal(judge(refusedSpec, signedOut, [], signedInText).status, 'could_not_run');
});

test('refused: a refused token request is named, and the test is worth another attempt', () => {
  const events = [
    event({ kind: 'authorize' }),
    event({ kind: 'token', outcome: 'error', error: 'invalid_client', description: 'client assertion expired' }),
  ];
  const verdict = judge(refusedSpec, signedOut, events, signedInText);
  assert.equal(verdict.status, 'could_not_run');
  assert.match(verdict.detail, /the token request was refused \(invalid_client: client assertion expired\)/);
  assert.equal(verdict.retry, true);
});

test('refused: a journey the driver could not finish is not tried again', () => {
  const verdict = judge(refusedSpec, seen({ problem: 'no NHS login button was found' }), [], signedInText);
  assert.equal(verdict.status, 'could_not_run');
  assert.equal(verdict.retry, undefined);
});

test('copes: a failing userinfo met with a page of the service\'s own passes; a crash after it fails', () => {
  const copes = spec({ expect: 'copes', fault: 'userinfo_server_error' });
  const events = [event({ kind: 'fault', details: { fault: 'userinfo_server_error' } })];
  assert.equal(judge(copes, seen({ status: 400, text: 'Sorry' }), events, signedInText).status, 'pass');
  assert.equal(judge(copes, seen({ status: 500, text: 'Internal Server Error' }), events, signedInText).status, 'fail');
  assert.equal(judge(copes, seen(), [], signedInText).status, 'could_not_run', 'never met');
});

test('an /authorize fault is judged by the error it sends: server_error, not invalid_scope', () => {
  const s = spec({ expect: 'error_not_crash', fault: 'authorize_server_error' });
  const page = seen({ status: 400, text: 'Sorry', loginButton: true });
  assert.equal(judge(s, page, [event({ kind: 'authorize', outcome: 'error', error: 'server_error' })], {}).status, 'pass');
  assert.equal(judge(s, page, [event({ kind: 'authorize', outcome: 'error', error: 'invalid_scope' })], {}).status, 'could_not_run');
});

test('refused: signing the person in despite the fault fails, naming the fault', () => {
  const events = [event({ kind: 'fault', details: { fault: 'id_token_wrong_aud' } })];
  const verdict = judge(refusedSpec, seen(), events, signedInText);
  assert.deepEqual(verdict, { status: 'fail', detail: 'The service signed the person in despite: id_token_wrong_aud.' });
});

test('refused: calling userinfo with the bad ID token\'s access token fails', () => {
  const events = [event({ kind: 'fault', details: { fault: 'id_token_wrong_aud' } }), event({ kind: 'userinfo' })];
  const verdict = judge(refusedSpec, signedOut, events, signedInText);
  assert.equal(verdict.status, 'fail');
  assert.match(verdict.detail, /called \/userinfo/);
});

test('refused: refusing and making no further call passes', () => {
  const events = [event({ kind: 'fault', details: { fault: 'id_token_wrong_aud' } })];
  assert.equal(judge(refusedSpec, signedOut, events, signedInText).status, 'pass');
});

const later = (l: Partial<Revisit>): Revisit => ({
  finalUrl: 'https://rp.example/home', status: 200, text: 'Welcome back', loginButton: false, atNhsLogin: false, signInPage: false,
  screenshot: '', idleFrom: 1_000, at: 66_000, ...l,
});
const firstLogin = [event({ kind: 'token', at: 500 })];
const rule = { text: 'Welcome back' };

test('idle: NHS login\'s sign-in page after the wait passes', () => {
  const v = judgeAfterIdle(seen(), later({ finalUrl: 'https://nhs.example/sandpit/interaction/x/sign-in', atNhsLogin: true,
    signInPage: true }), firstLogin, rule, 60);
  assert.equal(v.status, 'pass', v.detail);
  assert.match(v.detail, /65 s without activity/);
});

test('idle: still signed in after the wait fails', () => {
  assert.match(judgeAfterIdle(seen(), later({}), firstLogin, rule, 60).detail, /still showed its signed-in page/);
});

test('idle: signed in again by the NHS login session (no prompt=login) fails', () => {
  const v = judgeAfterIdle(seen(), later({}), [...firstLogin, event({ kind: 'token', at: 66_500 })], rule, 60);
  assert.equal(v.status, 'fail');
  assert.match(v.detail, /without prompt=login or max_age/);
});

test('idle: NHS login\'s page other than sign-in (its session carried on) fails', () => {
  const v = judgeAfterIdle(seen(), later({ atNhsLogin: true, finalUrl: 'https://nhs.example/sandpit/interaction/x/consent' }),
    firstLogin, rule, 60);
  assert.match(v.detail, /rather than its sign-in page/);
});

test('idle: a signed-out page of the service\'s own with a button fails (no user interaction is allowed)', () => {
  const v = judgeAfterIdle(seen(), later({ text: 'Signed out', loginButton: true }), firstLogin, rule, 60);
  assert.equal(v.status, 'fail');
  assert.match(v.detail, /without user interaction/);
});

test('idle: a first sign-in that failed is judged as that', () => {
  const v = judgeAfterIdle(seen(), later({ signInPage: true }), [], rule, 60);
  assert.equal(v.status, 'fail');
  assert.match(v.detail, /^The first sign-in: The service did not redeem the code/);
});

const reopened = later({ finalUrl: 'https://rp.example/callback?code=x&state=y', status: 400, text: 'Your sign-in has expired' });

test('code reuse: a page of its own and no second token request passes', () => {
  assert.equal(judgeCallbackAgain(seen(), reopened, firstLogin, rule).status, 'pass');
});

test('code reuse: the code sent to /token again fails, naming the refusal', () => {
  const again = event({ at: 66_100, outcome: 'error', error: 'invalid_grant', description: 'authorization code already consumed' });
  const v = judgeCallbackAgain(seen(), reopened, [...firstLogin, again], rule);
  assert.equal(v.status, 'fail');
  assert.match(v.detail, /same code to \/token again: NHS login refused it \(invalid_grant: authorization code already consumed\)/);
});

test('code reuse: a new login (authorization request, then its own code) passes', () => {
  const events = [...firstLogin, event({ kind: 'authorize', at: 66_100 }), event({ at: 66_200 })];
  assert.equal(judgeCallbackAgain(seen(), later({}), events, rule).status, 'pass');
});

test('code reuse: a server failure on the reopened callback fails', () => {
  assert.match(judgeCallbackAgain(seen(), later({ status: 500 }), firstLogin, rule).detail, /the service failed: HTTP 500/);
});

test('code reuse: no callback seen could not run', () => {
  assert.equal(judgeCallbackAgain(seen(), undefined, firstLogin, rule).status, 'could_not_run');
});
