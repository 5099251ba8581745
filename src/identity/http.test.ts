/** Mounting: issuers under PUBLIC_URL paths or on their own hosts; /authorize as a POSTed form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp } from '../test-support/harness.ts';
import { createRp, login } from '../test-support/rp.ts';

test('an issuer on its own host serves discovery, journeys and tokens there', async () => {
  const app = await startTestApp('sqlite', { SANDPIT_ISSUER: 'https://auth.sandpit.example.org' });
  try {
    const d = (await (await app.fetch('https://auth.sandpit.example.org/.well-known/openid-configuration')).json()) as Record<
      string,
      string
    >;
    assert.equal(d.issuer, 'https://auth.sandpit.example.org');
    assert.equal(d.token_endpoint, 'https://auth.sandpit.example.org/token');
    assert.equal((await app.fetch('http://localhost:3000/sandpit/.well-known/openid-configuration')).status, 404);
    const integration = (await (await app.fetch('http://localhost:3000/integration/.well-known/openid-configuration')).json()) as Record<
      string,
      string
    >;
    assert.equal(integration.issuer, 'http://localhost:3000/integration');
    // The journey runs on the issuer's host: the cookie jar follows it there.
    const rp = await createRp(app, 'sandpit');
    const { Browser } = await import('../test-support/browser.ts');
    const r = await login(app, rp, { browser: new Browser(app.fetch, 'https://auth.sandpit.example.org') });
    assert.equal(r.claims.iss, 'https://auth.sandpit.example.org');
  } finally {
    await app.stop();
  }
});

test('all three issuers on their own hosts: each serves its own discovery, journeys and settings', async () => {
  const hosts = { sandpit: 'auth.sandpit.example.org', integration: 'auth.aos.example.org', live: 'auth.login.example.org' } as const;
  const app = await startTestApp('sqlite', {
    SANDPIT_ISSUER: `https://${hosts.sandpit}`,
    INTEGRATION_ISSUER: `https://${hosts.integration}`,
    LIVE_ISSUER: `https://${hosts.live}`,
  });
  try {
    for (const [env, host] of Object.entries(hosts)) {
      const d = (await (await app.fetch(`https://${host}/.well-known/openid-configuration`)).json()) as Record<string, string>;
      assert.equal(d.issuer, `https://${host}`, env);
      const settings = await app.fetch(`https://${host.toUpperCase()}/settings`);
      assert.equal(settings.status, 200, `${env} settings page on its host (any case)`);
      const trustmark = (await (await app.fetch(`https://${host}/trustmark/${host}`)).json()) as Record<string, string>;
      assert.equal(trustmark.idp, `https://${host}`);
    }
    assert.equal((await app.fetch('https://elsewhere.example.org/settings')).status, 404);
    const rp = await createRp(app, 'integration');
    const { Browser } = await import('../test-support/browser.ts');
    const r = await login(app, rp, {
      browser: new Browser(app.fetch, `https://${hosts.integration}`),
      email: 'testuserlive+1@demo.signin.nhs.uk',
    });
    assert.equal(r.claims.iss, `https://${hosts.integration}`);
  } finally {
    await app.stop();
  }
});

test('/authorize accepts a POSTed form (NHS login allows GET or POST)', async () => {
  const app = await startTestApp('sqlite');
  try {
    const rp = await createRp(app, 'sandpit');
    const res = await app.fetch('http://localhost:3000/sandpit/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: rp.client.clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'https://rp.example.org/callback',
        state: 's',
        nonce: 'n',
      }).toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    const next = await app.fetch(new URL(res.headers.get('location')!, 'http://localhost:3000').href, { redirect: 'manual' });
    assert.match(next.headers.get('location') ?? '', /\/sandpit\/interaction\//);
  } finally {
    await app.stop();
  }
});

test('a POSTed /authorize that is not a form (a JSON array) is invalid_request on an error page, never a 500', async () => {
  const app = await startTestApp('sqlite');
  try {
    const res = await app.fetch('http://localhost:3000/sandpit/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[["client_id","x"],["scope"]]',
    });
    assert.equal(res.status, 415);
    const html = await res.text();
    assert.match(html, /Error code: <code>invalid_request<\/code>/);
    assert.match(html, /Sandpit/, 'in the environment\'s layout');
  } finally {
    await app.stop();
  }
});

test('a parameter repeated in a POSTed /authorize reaches the engine repeated, which refuses it as invalid_request', async () => {
  const app = await startTestApp('sqlite');
  try {
    const rp = await createRp(app, 'sandpit');
    const form = new URLSearchParams({
      client_id: rp.client.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://rp.example.org/callback',
      state: 's',
      nonce: 'n',
    });
    form.append('state', 't');
    const res = await app.fetch('http://localhost:3000/sandpit/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /state=s&state=t/);
    const next = await app.fetch(new URL(res.headers.get('location')!, 'http://localhost:3000').href, { redirect: 'manual' });
    const answer = next.headers.get('location')
      ? new URL(next.headers.get('location')!).searchParams.get('error')
      : /invalid_request/.exec(await next.text())?.[0];
    assert.equal(answer, 'invalid_request');
  } finally {
    await app.stop();
  }
});
