/** The one table of error codes, and each face's translation of every code in it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { ERROR_CODES, isErrorCode, ToolkitError, type ErrorCode } from './errors.ts';
import { failWith } from './api/context.ts';
import { formError, formStatus } from './web/problems.ts';
import { exitLine } from './cli/main.ts';
import { ApplicationInvalid, FormProblems, OnboardingError } from './onboarding/index.ts';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** Just what failWith uses of a Fastify reply. */
function fakeReply() {
  const sent: { status?: number; body?: Record<string, unknown>; headers: Record<string, string> } = { headers: {} };
  const reply = {
    code(status: number) {
      sent.status = status;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

test('every code has an HTTP status (a client or server error), a meaning, and a field only if a form field', () => {
  assert.ok(CODES.length > 40);
  for (const code of CODES) {
    const spec: { status: number; field?: string; meaning: string } = ERROR_CODES[code];
    assert.match(code, /^[a-z][a-z0-9_]*$/, code);
    assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, `${code}: ${spec.status}`);
    assert.ok(spec.meaning.length > 5, code);
    if (spec.field !== undefined) assert.match(spec.field, /^[a-z_]+$/, code);
    assert.ok(isErrorCode(code));
  }
  assert.ok(!isErrorCode('toString') && !isErrorCode('nope'), 'the table is closed');
});

test('the two codes that were wrong: the last admin is a conflict (409), a file over the limit is 413', () => {
  assert.equal(new OnboardingError('last_admin', 'An organisation needs at least one partner admin').status, 409);
  assert.equal(new OnboardingError('file_too_large', 'any words at all', 'file').status, 413);
  assert.equal(new OnboardingError('not_a_member', 'Only a partner admin can manage members').status, 403);
});

test('the API answers every code with its status, the code as `error`, the message and the field', () => {
  for (const code of CODES) {
    const { reply, sent } = fakeReply();
    failWith(reply, new ToolkitError(code, `about ${code}`, 'somewhere'));
    assert.equal(sent.status, ERROR_CODES[code].status, code);
    assert.deepEqual(sent.body, { error: code, message: `about ${code}`, field: 'somewhere' }, code);
    assert.equal(sent.headers['cache-control'], 'no-store');
  }
  const { reply, sent } = fakeReply();
  failWith(reply, new ApplicationInvalid([{ field: 'description', message: 'Describe it' }]));
  const problems = [{ field: 'description', message: 'Describe it' }];
  assert.deepEqual([sent.status, sent.body?.error, sent.body?.problems], [400, 'application_incomplete', problems]);
});

test('a form shows every code in its error summary, at its field, with the code\'s status (400 for a conflict)', () => {
  for (const code of CODES) {
    const e = new ToolkitError(code, `about ${code}`);
    const { status, errors } = formError(e, { fallback: 'main' });
    assert.equal(status, ERROR_CODES[code].status === 409 ? 400 : ERROR_CODES[code].status, code);
    assert.equal(formStatus(e), status);
    assert.deepEqual(errors, [{ href: `#${e.field ?? 'main'}`, text: `about ${code}`, field: e.field ?? 'main' }], code);
  }
  // Decided by the code, whatever the words say.
  assert.equal(formError(new OnboardingError('file_too_large', 'Too big', 'file')).status, 413);
  assert.equal(formError(new OnboardingError('invalid_file_type', 'Not under 10 MB of PDF', 'file')).status, 400);
  const name = new OnboardingError('invalid_name', 'Enter your full name', 'name');
  const several = formError(new FormProblems([name, new OnboardingError('email_taken', 'Taken', 'email')]));
  assert.deepEqual(several.errors.map((x) => x.href), ['#name', '#email']);
  assert.equal(formError(new OnboardingError('not_found', 'No such member'), { field: 'members' }).errors[0]!.href, '#members');
});

test('the CLI prints every code on one line (JSON with --json) and exits 2 for usage, 1 otherwise', () => {
  for (const code of CODES) {
    const e = new ToolkitError(code, `about ${code}`);
    const json = exitLine(e, true);
    assert.deepEqual(JSON.parse(json.line), { error: code, message: `about ${code}`, ...(e.field ? { field: e.field } : {}) });
    assert.ok(json.exit === 1 || json.exit === 2, code);
    const text = exitLine(e, false);
    assert.equal(text.line, `Error: about ${code}`);
    assert.equal(text.exit, json.exit);
  }
  assert.equal(exitLine(new ToolkitError('usage', 'x'), false).exit, 2);
  assert.equal(exitLine(new ToolkitError('no_next_key', 'x'), false).exit, 1);
});

test('every error class the toolkit throws on purpose has the one base (the table\'s codes)', () => {
  // The exceptions: Fastify-shaped errors for its error handler (web/errors.ts), and VtrError, which only the provider
  // reads (it answers the specification's invalid_request).
  const allowed = new Set(['src/web/errors.ts', 'src/identity/vectors.ts']);
  const files = fs.globSync('src/**/*.ts').filter((f) => !f.endsWith('.test.ts') && !allowed.has(f.split(path.sep).join('/')));
  const outside = files.filter((f) => /class \w+ extends Error\b/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(outside, []);
});
