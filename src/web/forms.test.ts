/** The shape of input at the edge: a form's fields checked one by one, and the pages for requests refused before any route. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkForm, formSchema, list, text } from './forms.ts';
import { startTestApp, type TestApp } from '../test-support/harness.ts';

const FORM = 'application/x-www-form-urlencoded';
const schema = formSchema({ name: text('Name', 5), email: text('Email address', 20), scopes: list('Scopes', 2, 10) });

test('every field\'s problem at once, each naming its field and limit', () => {
  const { problems } = checkForm(schema, { name: 'abcdefg', email: ['a@x.org', 'b@x.org'], scopes: ['a', 'b', 'c'] });
  assert.deepEqual(problems, [
    { href: '#name', text: 'Name must be 5 characters or fewer', field: 'name' },
    { href: '#email', text: 'Enter email address once, as text', field: 'email' },
    { href: '#scopes', text: 'Choose at most 2 scopes', field: 'scopes' },
  ]);
});

test('what was typed is kept to show again, but never a list or an object where text belongs', () => {
  const { values } = checkForm(schema, { name: 'too long here', email: { nested: 'x' }, scopes: 'one' });
  assert.deepEqual(values, { name: 'too long here', scopes: ['one'] });
});

test('NUL is refused and left out of what is shown again', () => {
  const { problems, values } = checkForm(schema, { name: 'a\u0000b' });
  assert.match(problems[0]!.text, /^Name contains a character that cannot be stored/);
  assert.deepEqual(values, { name: 'ab' });
});

test('fields the form does not have, and a body that is not an object, give nothing to the handler', () => {
  assert.deepEqual(checkForm(schema, { constructor: 'x', __proto__: { polluted: 1 }, other: 'y' }), { problems: [], values: {} });
  assert.deepEqual(checkForm(schema, [['name', 'x']]), { problems: [], values: {} });
});

describe('requests refused before any route', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(() => app.stop());
  const post = (path: string, type: string, body: string, headers: Record<string, string> = {}) =>
    app.fetch(`http://localhost:3000${path}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

  test('a form over 64 KB: a page in the portal\'s layout that says the limit and leads back to the form, without the text', async () => {
    const referer = 'http://localhost:3000/portal/organisations/new';
    const res = await post('/portal/organisations/new', FORM, `name=${'Q'.repeat(200_000)}`, { referer });
    assert.equal(res.status, 413);
    const html = await res.text();
    assert.match(html, /What you entered is too long to send/);
    assert.match(html, /at most 64 KB/);
    assert.match(html, /class="nhsuk-header__service-logo" href="\/portal"/, 'the portal header');
    assert.match(html, /<a href="\/portal\/organisations\/new">Return to the page you came from<\/a>/);
    assert.doesNotMatch(html, /QQQQ/);
  });

  test('a form over 64 KB in the console: the console\'s layout, and back to the console when the referer is another site', async () => {
    const res = await post('/console/team', FORM, `email=${'Q'.repeat(70_000)}`, { referer: 'https://elsewhere.example/form' });
    assert.equal(res.status, 413);
    const html = await res.text();
    assert.match(html, /NHS login team console/);
    assert.match(html, /<a href="\/console">Return to the page you came from<\/a>/);
  });

  test('JSON or plain text sent to a form is not parsed: 415 with a page that repeats nothing of the request', async () => {
    const bodies = [['application/json', '{"email":["<b>x</b>"]}'], ['text/plain', 'email=x'], ['application/x-evil+json', '{}']] as const;
    for (const [type, body] of bodies) {
      const res = await post('/portal/sign-in', type, body);
      assert.equal(res.status, 415, type);
      const html = await res.text();
      assert.match(html, /This address takes a form sent from its page/);
      assert.doesNotMatch(html, /evil|&lt;b&gt;/);
    }
  });

  test('an address Fastify cannot route (a parameter over 100 characters, broken encoding) is a not-found page, not JSON', async () => {
    for (const path of [`/portal/organisations/${'z'.repeat(150)}/members`, '/portal/confirm/%E0%A4%A']) {
      const res = await app.fetch(`http://localhost:3000${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      const html = await res.text();
      assert.match(html, /Page not found/);
      assert.doesNotMatch(html, /zzzz|%E0/);
    }
    const api = await app.fetch(`http://localhost:3000/api/v1/clients/${'z'.repeat(150)}`);
    assert.deepEqual([api.status, ((await api.json()) as { error: string }).error], [404, 'not_found']);
  });

  test('a NUL in the address is a 400 page, and in the API a JSON invalid_request', async () => {
    const page = await app.fetch('http://localhost:3000/portal/reset-password/a%00b');
    assert.equal(page.status, 400);
    assert.match(await page.text(), /is not one this page can use/);
    const api = await app.fetch('http://localhost:3000/api/v1/clients/a%00b');
    assert.deepEqual([api.status, ((await api.json()) as { error: string }).error], [400, 'invalid_request']);
  });
});
