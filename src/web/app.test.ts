/** Operations endpoints: health, readiness (a real database round trip) and Prometheus metrics. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login } from '../test-support/rp.ts';

for (const dialect of DIALECTS) {
  describe(`operations endpoints (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect);
    });
    after(() => app.stop());

    test('healthz and readyz', async () => {
      assert.deepEqual(await (await app.fetch('http://localhost:3000/healthz')).json(), { status: 'ok' });
      const ready = await app.fetch('http://localhost:3000/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', database: dialect });
    });

    test('every page starts the design system\'s components from a same-origin module that exists', async () => {
      const html = await (await app.fetch('http://localhost:3000/portal/sign-in')).text();
      const src = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
      assert.ok(src, 'the page loads a module');
      const init = await app.fetch(`http://localhost:3000${src}`);
      assert.equal(init.status, 200);
      assert.match(init.headers.get('content-type') ?? '', /javascript/);
      const code = await init.text();
      assert.match(code, /initAll\(\)/, 'nhsuk-frontend 10 components start only when initAll() is called');
      const imported = /from '([^']+)'/.exec(code)?.[1];
      assert.equal((await app.fetch(`http://localhost:3000${imported}`)).status, 200, `${imported} is served`);
    });

    test('unknown pages and client errors: NHS-style pages', async () => {
      const missing = await app.fetch('http://localhost:3000/no/such/page');
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /Page not found[\s\S]*nhsuk-header|nhsuk-header[\s\S]*Page not found/);
      const big = await app.fetch('http://localhost:3000/portal/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x='.padEnd(2 * 1024 * 1024, 'a'),
      });
      assert.equal(big.status, 413, 'a client error keeps its status');
      const form = await app.fetch('http://localhost:3000/portal/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Array.from({ length: 20_000 }, (_, i) => `p${i}=x`).join('&'),
      });
      assert.equal(form.status, 413, 'forms are limited to 64 KB');
    });

    test('metrics count sign-ins, tokens and errors by code, per environment', async () => {
      const rp = await createRp(app, 'sandpit');
      await login(app, rp, {});
      await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=x',
      });
      const text = (await app.metricsServer.inject('/metrics')).body;
      assert.match(text, /^# TYPE toolkit_http_requests_total counter$/m);
      assert.match(text, /^toolkit_logins_total\{env="sandpit",outcome="ok",method="password"\} 1$/m);
      assert.match(text, /^toolkit_tokens_issued_total\{env="sandpit",grant_type="authorization_code"\} 1$/m);
      assert.match(
        text,
        /^toolkit_protocol_errors_total\{code="invalid_client",env="sandpit",kind="token"\} 1$/m,
        'a token request with no client authentication',
      );
      assert.match(text, /^toolkit_http_requests_total\{env="sandpit",status="2xx"\} \d+$/m);
      assert.match(
        text,
        /^toolkit_http_requests_total\{env="sandpit",status="4xx"\} 1$/m,
        'the refused token request, answered by the engine',
      );
    });

    test("client ids nobody registered add no metric series (hostile input " +
      "cannot grow memory) and are kept in the record's details", async () => {
      for (let i = 0; i < 5; i++) {
        const res = await app.fetch(
          `http://localhost:3000/sandpit/authorize?client_id=made-up-${i}%22x&response_type=code&` +
            `scope=openid&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s&nonce=n`,
        );
        assert.equal(res.status, 400);
      }
      const text = (await app.metricsServer.inject('/metrics')).body;
      assert.doesNotMatch(text, /made-up/, 'no series per made-up client id');
      assert.match(
        text,
        /^toolkit_protocol_errors_total\{code="invalid_client",env="sandpit",kind="authorize"\} 5$/m,
        'still counted, as errors',
      );
      await app.events.flush();
      const rows = await app.database.db
        .selectFrom('protocol_event')
        .select(['client_id', 'details'])
        .where('kind', '=', 'authorize')
        .where('error', '=', 'invalid_client')
        .execute();
      assert.equal(rows.length, 5);
      assert.ok(
        rows.every((r) => r.client_id === null),
        'the client_id column names registered clients only',
      );
      assert.deepEqual(
        rows.map((r) => (JSON.parse(r.details!) as { client_id?: string }).client_id).sort(),
        [0, 1, 2, 3, 4].map((i) => `made-up-${i}"x`),
      );

      // A registered client's request refused before the engine identified the client is still the partner's.
      const rp = await createRp(app, 'sandpit');
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: form,
        body: `grant_type=authorization_code&code=x&client_id=${rp.client.clientId}&client_assertion_type=wrong&client_assertion=x.y.z`,
      });
      const bySub = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ sub: rp.client.clientId })).toString('base64url')}.`;
      await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: form,
        body: `grant_type=authorization_code&code=x&client_assertion_type=wrong&client_assertion=${bySub}`,
      });
      await app.events.flush();
      const own = await app.database.db
        .selectFrom('protocol_event')
        .select(['outcome'])
        .where('client_id', '=', rp.client.clientId)
        .where('kind', '=', 'token')
        .execute();
      assert.deepEqual(
        own.map((r) => r.outcome),
        ['error', 'error'],
        "named by client_id, then by the assertion's subject",
      );
    });

    test('what requests say is recorded clipped: a 15 KB state costs the record at most a few KB', async () => {
      const state = 's'.repeat(15_000);
      const res = await app.fetch(
        `http://localhost:3000/sandpit/authorize?client_id=clipped&response_type=code&` +
          `scope=openid&redirect_uri=https%3A%2F%2Fa.example%2Fcb&nonce=n&state=${state}`,
      );
      assert.equal(res.status, 400);
      await app.events.flush();
      const row = await app.database.db
        .selectFrom('protocol_event')
        .selectAll()
        .where('details', 'like', '%"client_id":"clipped"%')
        .executeTakeFirstOrThrow();
      const details = JSON.parse(row.details!) as { state: string };
      assert.match(details.state, /^s{512}… \(15000 characters\)$/);
      assert.ok(row.correlation_id!.length < 600);
      assert.ok(JSON.stringify(row).length < 3000, `${JSON.stringify(row).length} bytes`);
    });

    test('the protocol record holds each exchange of a login, with the reason for failures', async () => {
      await app.events.flush();
      const rows = await app.database.db
        .selectFrom('protocol_event')
        .select(['kind', 'outcome', 'error'])
        .where('env', '=', 'sandpit')
        .execute();
      const kinds = new Set(rows.map((r) => r.kind));
      for (const k of ['authorize', 'sign_in', 'otp', 'consent', 'token'] as const) assert.ok(kinds.has(k), k);
      assert.ok(rows.some((r) => r.kind === 'token' && r.outcome === 'error' && r.error === 'invalid_client'));
    });
  });
}

test('/metrics is not on the public port unless METRICS_TOKEN is set, and then only for that bearer token', async () => {
  const closed = await startTestApp('sqlite');
  try {
    const res = await closed.fetch('http://localhost:3000/metrics');
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /toolkit_/);
  } finally {
    await closed.stop();
  }
  const token = 'a-metrics-token-of-at-least-32-characters';
  const app = await startTestApp('sqlite', { METRICS_TOKEN: token });
  try {
    for (const authorization of [undefined, 'Bearer not-the-token', `Basic ${token}`, `Bearer ${token}x`]) {
      const res = await app.fetch('http://localhost:3000/metrics', { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, String(authorization));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.doesNotMatch(await res.text(), /toolkit_/);
    }
    const res = await app.fetch('http://localhost:3000/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# TYPE toolkit_http_requests_total counter$/m);
  } finally {
    await app.stop();
  }
});

test('METRICS_PORT: /metrics has a listener of its own, which serves nothing else', async () => {
  const { freePort } = await import('../test-support/ports.ts');
  const port = await freePort();
  const app = await startTestApp('sqlite', { METRICS_PORT: String(port) });
  try {
    assert.deepEqual({ port: app.config.metrics.port, host: app.config.metrics.host }, { port, host: '127.0.0.1' });
    await app.metricsServer.listen({ port, host: app.config.metrics.host });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^toolkit_partners\{stage="Apply"\} 0$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/portal/sign-in`)).status, 404);
    assert.equal((await app.fetch('http://localhost:3000/metrics')).status, 404, 'not on the public port');
  } finally {
    await app.stop();
  }
});

test('an unexpected failure (the database loses a table mid-flight) is an NHS-style 500 page that reveals no internals', async () => {
  const app = await startTestApp('sqlite');
  try {
    await app.database.db.schema.dropTable('web_session').execute();
    const res = await app.fetch('http://localhost:3000/console/', { headers: { cookie: 'toolkit_console=some-session' } });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.match(text, /there is a problem with the service/i);
    assert.match(text, /nhsuk-header/);
    assert.doesNotMatch(text, /web_session|no such table/);
  } finally {
    await app.stop();
  }
});

test('forms show error messages only for fields that have errors', async () => {
  const { createRenderer } = await import('./views.ts');
  const path = await import('node:path');
  const render = createRenderer([
    path.join(import.meta.dirname, '..', 'identity', 'journeys', 'views'),
    path.join(import.meta.dirname, '..', 'portal', 'views'),
  ]);
  const count = (html: string) => (html.match(/nhsuk-error-message/g) ?? []).length;
  assert.equal(count(render('portal/sign-up.njk', { title: 't', csrf: 'c' })), 0, 'a fresh form has none');
  assert.equal(count(render('prove-identity-p5.njk', { title: 't', action: '/x' })), 0);
  assert.equal(
    count(
      render('portal/sign-up.njk', { title: 't', csrf: 'c', errors: [{ href: '#email', text: 'Enter an email address', field: 'email' }] }),
    ),
    1,
  );
  assert.equal(
    count(render('prove-identity-p5.njk', { title: 't', action: '/x', errors: [{ href: '#postcode', text: 'Enter your postcode' }] })),
    1,
  );
});

test('behind the proxies TRUST_PROXY lists, per-address limits count the visitor, not the proxy', async () => {
  const app = await startTestApp('sqlite', { TRUST_PROXY: '127.0.0.1' });
  try {
    const { Browser } = await import('../test-support/browser.ts');
    const b = new Browser(
      (url, init) =>
        app.fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': '203.0.113.9' } }),
      'http://localhost:3000',
    );
    const { csrfOf } = await import('../test-support/browser.ts');
    const form = await b.get('/console/sign-in');
    const page = await b.post(
      '/console/sign-in',
      new URLSearchParams({ _csrf: csrfOf(form), email: 'nobody@nhs.example', password: 'a guess at it', code: '123456' }),
    );
    assert.equal(page.status, 401);
    const keys = (
      await app.database.db.selectFrom('attempt_counter').select('key').where('key', 'like', 'console:address:%').execute()
    ).map((r) => r.key);
    assert.deepEqual(keys, ['console:address:203.0.113.9']);
  } finally {
    await app.stop();
  }
});

test('while password checks are saturated a sign-in is answered 503 busy, and leaves no check in progress', async () => {
  const app = await startTestApp('sqlite');
  try {
    const { Browser } = await import('../test-support/browser.ts');
    const { authorizationUrl } = await import('../test-support/rp.ts');
    const { hashPassword } = await import('../security/passwords.ts');
    const rp = await createRp(app, 'sandpit');
    const b = new Browser(app.fetch, 'http://localhost:3000');
    const start = await b.get(authorizationUrl(rp, { state: 's', nonce: 'n' }));
    const flood = Array.from({ length: 66 }, () => hashPassword('two running and sixty-four waiting')); // the gate's capacity
    const page = await b.post(start.url, { email: 'testuserlive@demo.signin.nhs.uk', password: 'Passw0rd$1' });
    assert.equal(page.status, 503);
    assert.match(page.text, /Too many people are signing in at this moment/);
    await Promise.all(flood);
    const counters = await app.database.db.selectFrom('attempt_counter').select(['key', 'inflight']).execute();
    assert.ok(counters.length >= 1, 'the pair of account and address was checked');
    for (const c of counters) assert.equal(Number(c.inflight), 0, c.key);
  } finally {
    await app.stop();
  }
});

test('a host clock more than 2 s from the database\'s is named at start, with the way to mend it', async () => {
  const { clockSkewWarning } = await import('./app.ts');
  assert.equal(clockSkewWarning(undefined), undefined, 'SQLite: one clock');
  assert.equal(clockSkewWarning(-1500), undefined);
  assert.match(clockSkewWarning(4200)!, /4\.2 s behind the database server's.*NTP/);
  assert.match(clockSkewWarning(-30_000)!, /30\.0 s ahead of the database server's/);
});
