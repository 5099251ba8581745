/** Security headers on every kind of response: Fastify's pages and what the OpenID Provider writes itself. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp } from '../test-support/rp.ts';

function directives(res: Response): Map<string, string> {
  const csp = res.headers.get('content-security-policy') ?? '';
  return new Map(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(' ')[0]!, d.slice(d.indexOf(' ') + 1)]));
}

describe('security headers', () => {
  let app: TestApp;
  const pages: [string, string, RequestInit?, RegExp?][] = [];
  before(async () => {
    app = await startTestApp('sqlite');
    const rp = await createRp(app, 'sandpit');
    const authorize = `http://localhost:3000/sandpit/authorize?client_id=${rp.client.clientId}&response_type=code&` +
      `scope=openid&redirect_uri=${encodeURIComponent('https://rp.example.org/callback')}&state=s&nonce=n`;
    const journey = (await app.fetch(authorize, { redirect: 'manual' })).headers.get('location')!;
    pages.push(
      ['a portal page', 'http://localhost:3000/portal/sign-in'],
      ['a console page', 'http://localhost:3000/console/sign-in'],
      ['the home page', 'http://localhost:3000/'],
      ['a page that is not there', 'http://localhost:3000/no/such/page'],
      ['a design system asset', 'http://localhost:3000/nhsuk-frontend/nhsuk/nhsuk-frontend.min.css'],
      ['the API', 'http://localhost:3000/api/v1/openapi.json'],
      ['a journey page', new URL(journey, 'http://localhost:3000').href, {}, /text\/html/],
      ["the engine's discovery document", 'http://localhost:3000/sandpit/.well-known/openid-configuration', {}, /json/],
      ["the engine's JWKS", 'http://localhost:3000/sandpit/.well-known/jwks.json'],
      [
        "the engine's HTML error page (unknown client)",
        'http://localhost:3000/sandpit/authorize?client_id=nobody&response_type=code&' +
          'scope=openid&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s&nonce=n',
        { headers: { accept: 'text/html' } },
        /text\/html/,
      ],
      [
        "the engine's token endpoint",
        rp.tokenEndpoint,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x' },
        /json/,
      ],
    );
  });
  after(() => app.stop());

  test('every response forbids framing and sniffing, and sends no referrer elsewhere', async () => {
    for (const [what, url, init, type] of pages) {
      const res = await app.fetch(url, { redirect: 'manual', ...init });
      if (type) assert.match(res.headers.get('content-type') ?? '', type, `${what}: ${res.status}`);
      assert.equal(directives(res).get('frame-ancestors'), "'none'", what);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', what);
      assert.equal(directives(res).get('script-src-attr'), "'none'", what);
      assert.equal(res.headers.get('strict-transport-security'), null, `${what}: no HSTS on an http PUBLIC_URL`);
    }
  });

  test('scripts come from the toolkit only, with the design system\'s one inline script allowed by its hash', async () => {
    const res = await app.fetch('http://localhost:3000/portal/sign-in');
    const inline = /<script>([^<]+)<\/script>/.exec(await res.text())?.[1];
    assert.ok(inline, 'nhsuk-frontend\'s template sets js-enabled inline');
    const { hash } = await import('node:crypto');
    assert.equal(directives(res).get('script-src'), `'self' 'sha256-${hash('sha256', inline, 'base64')}'`);
    assert.equal(directives(res).get('font-src'), "'self' https://assets.nhs.uk");
    assert.equal(directives(res).get('object-src'), "'none'");
  });

  test('forms post to their own origin, except on the environments, whose journeys end at the relying party', async () => {
    assert.equal(directives(await app.fetch('http://localhost:3000/portal/sign-in')).get('form-action'), "'self'");
    assert.equal(directives(await app.fetch('http://localhost:3000/console/sign-in')).get('form-action'), "'self'");
    assert.equal(directives(await app.fetch('http://localhost:3000/sandpit/settings')).get('form-action'), '*');
  });
});

test('HSTS is sent where the origin is https: PUBLIC_URL, or an issuer on its own https host', async () => {
  const app = await startTestApp('sqlite', { PUBLIC_URL: 'https://toolkit.example.org', INTEGRATION_ISSUER: 'http://aos.example.org' });
  try {
    for (const url of [
      'https://toolkit.example.org/portal/sign-in',
      'https://toolkit.example.org/sandpit/.well-known/openid-configuration',
    ]) {
      assert.equal((await app.fetch(url)).headers.get('strict-transport-security'), 'max-age=31536000', url);
    }
    assert.equal(
      (await app.fetch('http://aos.example.org/.well-known/openid-configuration')).headers.get('strict-transport-security'),
      null,
      'an http issuer',
    );
  } finally {
    await app.stop();
  }
});
