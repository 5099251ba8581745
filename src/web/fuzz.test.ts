/**
 * Every route of the environments, portal, console and API, fed hostile input (src/test-support/fuzz.ts) with a
 * signed-in partner admin, a signed-in team admin, an API token and a live journey, on both databases: no answer
 * is a 5xx, and every refusal has its face's shape (a page with an error summary, the API's JSON error, the OAuth
 * error). `npm test` runs the systematic pass with a fixed seed; `npm run test:fuzz` adds FUZZ_ITERATIONS random
 * combinations per route (FUZZ_SEED picks them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { partnerIn } from '../test-support/partner.ts';
import { signInToConsole } from '../test-support/team.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { registerClient } from '../identity/index.ts';
import { addTeamMember, createApiToken, createOrganisation, createTestUser, invite, requireMembership, uploadDocument } from '../onboarding/index.ts';
import {
  BODY_VARIANTS, bodyOf, encodePairs, refusedFor, fill, FORM_MUTATIONS, formPairs, JSON_MUTATIONS, jsonValue, paramNames, PARAM_VALUES, PROTO_KEYS, rng, schemaFields,
  scrapeForms, scrapeLinkQueries, targetsOf, type Face, type Mutation, type ScrapedForm, type Target,
} from '../test-support/fuzz.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 1234);
const EXTRA = Number(process.env.FUZZ_ITERATIONS ?? 0);
const ORIGIN = 'http://localhost:3000';
const publicKey = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey;

/** Protocol endpoints the engine answers (not Fastify routes), with the fields each takes. */
const PROTOCOL: { method: string; url: string; fields: string[] }[] = [
  { method: 'GET', url: '/sandpit/authorize', fields: ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'vtr', 'prompt', 'claims', 'max_age'] },
  { method: 'POST', url: '/sandpit/token', fields: ['grant_type', 'code', 'redirect_uri', 'client_assertion_type', 'client_assertion', 'refresh_token', 'scope'] },
  { method: 'GET', url: '/sandpit/userinfo', fields: ['access_token'] },
  { method: 'POST', url: '/sandpit/userinfo', fields: ['access_token'] },
  { method: 'GET', url: '/sandpit/.well-known/openid-configuration', fields: [] },
  { method: 'GET', url: '/sandpit/.well-known/jwks.json', fields: [] },
];

interface Sent {
  target: Target;
  label: string;
  /** The request should be refused at the edge: a wrong shape of a field its schema declares. */
  mustRefuse?: string;
  status: number;
  type: string;
  text: string;
  location: string | null;
  ms: number;
}

/** Pages that refuse a request before its form is read (no session, no such page, an expired form): no summary. */
const ERROR_PAGES = /<h1[^>]*>(Your session has ended|There is a problem with the request|This link does not work|Page not found|This form has expired|Team admins only)<\/h1>/;

for (const dialect of DIALECTS) {
  describe(`fuzz every route (${dialect})`, () => {
    let app: TestApp;
    let partner: Browser;
    let team: Browser;
    let journey: Browser;
    let token: string;
    const ids: Record<string, string> = {};
    before(async () => {
      app = await startTestApp(dialect);
      const db = app.database.db;
      const org = await createOrganisation(db, 'user-owner', { name: 'Fuzz Ltd' });
      ids.orgId = org.id;
      partner = await partnerIn(app, org.id, 'fuzz@example.org', 'partner_admin');
      await db.insertInto('partner_user').values({ id: 'user-dev', email: 'dev@example.org', name: 'Dev', password_hash: 'x', email_confirmed_at: Date.now(), created_at: Date.now() }).execute();
      await db.insertInto('membership').values({ organisation_id: org.id, user_id: 'user-dev', role: 'developer', created_at: Date.now() }).execute();
      ids.memberId = 'user-dev';
      const membership = await requireMembership(db, 'user-fuzz@example.org', org.id);
      await invite({ db, mailer: app.mailer, publicUrl: app.config.publicUrl }, membership, 'user-fuzz@example.org', 'invitee@example.org', 'developer');
      ids.invitationId = (await db.selectFrom('invitation').select('id').executeTakeFirstOrThrow()).id;
      const client = await registerClient(db, { env: 'sandpit', organisationId: org.id, name: 'Fuzz service', redirectUris: ['https://rp.example.org/callback'], scopes: ['openid', 'email'], vtr: ['P9.Cp.Cd'], publicKeyPem: publicKey });
      ids.clientId = client.clientId;
      token = (await createApiToken(db, org.id, 'user-fuzz@example.org', 'fuzz')).token;
      ids.tokenId = (await createApiToken(db, org.id, 'user-fuzz@example.org', 'spare')).id;
      const pds = [...app.identity.people.pds.values()].find((r) => !r.date_of_death)!;
      ids.personId = (await createTestUser(db, app.identity.people, org.id, { nhsNumber: pds.nhs_number, level: 'P9', otpDisabled: false, phonePdsMatched: true })).id;
      ids.docId = (await uploadDocument(db, org.id, 'user-fuzz@example.org', 'scal', 'scal.pdf', Buffer.from('%PDF-1.4\n%fuzz\n'))).id;
      ids.runId = randomUUID();
      await db.insertInto('conformance_run').values({ id: ids.runId, env: 'sandpit', client_id: client.clientId, organisation_id: org.id, start_url: 'https://rp.example.org/', options: '{}', status: 'failed', created_by: 'fuzz', created_at: Date.now(), finished_at: Date.now(), report: null }).execute();
      ({ b: team } = await signInToConsole(app, 'admin@nhs.example', 'team_admin'));
      ids.teamMemberId = (await addTeamMember(db, { email: 'cli' }, 'dm@nhs.example', 'delivery_manager')).user.id;
      journey = new Browser(app.fetch, ORIGIN);
      const start = await journey.get(`/sandpit/authorize?${new URLSearchParams({ client_id: client.clientId, redirect_uri: 'https://rp.example.org/callback', response_type: 'code', scope: 'openid email', state: 'fuzz-state', nonce: 'fuzz-nonce', vtr: '["P9.Cp.Cd"]' })}`);
      ids.uid = /\/interaction\/([^/]+)\//.exec(start.url)?.[1] ?? '';
      assert.ok(ids.uid, `the journey started: ${start.url}`);
    });
    after(() => app.stop());

    /** The value of a path parameter for a route; undefined if the fuzzer does not know it (the test then fails). */
    const param = (url: string, name: string): string | undefined => {
      const byName: Record<string, string | undefined> = {
        orgId: ids.orgId, clientId: ids.clientId, tokenId: ids.tokenId, invitationId: ids.invitationId, personId: ids.personId, docId: ids.docId, runId: ids.runId,
        uid: ids.uid, env: 'sandpit', gate: 'application', criterion: 'pib_review', secret: 'not-a-secret', eventId: randomUUID(), testId: 'p9_login', file: 'report.json', host: 'rp.example.org',
        userId: url.startsWith('/console') ? ids.teamMemberId : ids.memberId,
        id: url.includes('/documents/') ? ids.docId : url.includes('/test-users/') ? ids.personId : url.includes('/invitations/') ? ids.invitationId : url.includes('/conformance-runs/') ? ids.runId : randomUUID(),
      };
      return byName[name];
    };

    const browserFor = (face: Face) => (face === 'console' ? team : face === 'journey' || face === 'protocol' ? journey : partner);

    async function send(target: Target, label: string, path: string, init: { query?: string; type?: string; body?: string; mustRefuse?: string } = {}): Promise<Sent> {
      const url = new URL(`${path}${init.query ? `?${init.query}` : ''}`, ORIGIN);
      const headers: Record<string, string> = { cookie: browserFor(target.face).cookieHeader(url) };
      if (target.face === 'api') headers.authorization = `Bearer ${token}`;
      if (init.type) headers['content-type'] = init.type;
      const withBody = init.body !== undefined && target.method !== 'GET';
      const started = performance.now();
      const res = await app.fetch(url.href, { method: target.method, headers, ...(withBody ? { body: init.body } : {}), redirect: 'manual' });
      const text = await res.text();
      return { target, label, mustRefuse: init.mustRefuse, status: res.status, type: res.headers.get('content-type') ?? '', text, location: res.headers.get('location'), ms: performance.now() - started };
    }

    /** What is wrong with an answer, if anything. */
    function problem(s: Sent): string | undefined {
      if (s.status >= 500) return `answered ${s.status}`;
      // A journey step not yet reached sends the browser back to the journey without reading the form.
      const backToJourney = s.target.face === 'journey' && s.status === 303 && /\/interaction\/[^/]+$/.test(s.location ?? '');
      if (s.mustRefuse && s.status < 400 && !backToJourney) return `accepted a wrong shape of ${s.mustRefuse} (${s.status})`;
      if (s.status < 400) return undefined;
      const face = s.target.face;
      const url = s.target.url;
      const json = () => { try { return JSON.parse(s.text) as Record<string, unknown>; } catch { return undefined; } };
      if (face === 'api') {
        const body = json();
        if (!body || typeof body.error !== 'string' || typeof body.message !== 'string') return `API refusal without { error, message }: ${s.text.slice(0, 120)}`;
        if (s.mustRefuse && s.status === 400 && body.field !== s.mustRefuse) return `API refusal names field ${String(body.field)}, not ${s.mustRefuse}`;
        return undefined;
      }
      if (face === 'protocol' && /\/(token|userinfo)$/.test(url)) {
        const body = json();
        return body && typeof body.error === 'string' ? undefined : `OAuth refusal without an error code: ${s.text.slice(0, 120)}`;
      }
      if (!s.type.startsWith('text/html')) return `refusal is ${s.type || 'untyped'}, not a page: ${s.text.slice(0, 120)}`;
      // A form refused for what was typed shows the form again with its error summary; GET pages and requests
      // refused before their form is read get an error page.
      if (s.status === 400 && s.target.method !== 'GET' && face !== 'protocol' && !s.text.includes('nhsuk-error-summary') && !ERROR_PAGES.test(s.text)) {
        return `form refusal without an error summary: ${/<h1[^>]*>([^<]*)/.exec(s.text)?.[1] ?? s.text.slice(0, 80)}`;
      }
      return undefined;
    }

    test('every route answers hostile input with its own refusal, never a 5xx', async (t) => {
      const random = rng(SEED);
      const targets = targetsOf(app.routes).filter((r) => r.face !== 'other' || r.url === '/');
      for (const p of PROTOCOL) targets.push({ method: p.method, url: p.url, face: 'protocol' });
      const unknown = targets.filter((r) => paramNames(r.url).some((n) => param(r.url, n) === undefined)).map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(unknown, [], 'every route parameter has a value here, so every route is reached');

      // Read every page first: its forms and links tell which fields each route takes.
      const forms = new Map<string, ScrapedForm>();
      const queries = new Map<string, Set<string>>();
      const unreached: string[] = [];
      const results: Sent[] = [];
      const gets = targets.filter((r) => r.method === 'GET');
      for (const r of gets) {
        const path = fill(r.url, (n) => param(r.url, n))!;
        const s = await send(r, 'page', path);
        results.push(s);
        if (/If you typed the web address|No such API route/.test(s.text)) unreached.push(`${r.method} ${r.url}`);
        if (!s.type.startsWith('text/html')) continue;
        for (const f of scrapeForms(s.text, path)) if (!forms.has(`${f.method} ${f.action}`)) forms.set(`${f.method} ${f.action}`, f);
        for (const [p, keys] of scrapeLinkQueries(s.text, path)) queries.set(p, new Set([...(queries.get(p) ?? []), ...keys]));
      }
      const openapi = (await (await app.fetch(`${ORIGIN}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; $ref?: string } }> } }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
      const apiFields = (r: Target) => {
        const op = openapi.paths[r.url.replace(/^\/api\/v1/, '').replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
        const schema = op?.requestBody?.content['application/json']?.schema;
        const props = schema?.$ref ? openapi.components.schemas[schema.$ref.split('/').pop()!]?.properties : schema?.properties;
        return Object.keys(props ?? {});
      };

      // A limit a page states is the limit its route enforces.
      const drift: string[] = [];
      for (const r of targets.filter((x) => x.method === 'POST')) {
        const form = forms.get(`POST ${fill(r.url, (n) => param(r.url, n))}`);
        const props = bodyOf(r.schema, 'body')?.properties ?? {};
        for (const [name, stated] of form?.limits ?? []) {
          const enforced = Object.hasOwn(props, name) ? props[name]!.maxLength : undefined;
          if (enforced !== stated) drift.push(`${r.url} ${name}: the page says ${stated}, the route enforces ${enforced}`);
        }
      }
      assert.deepEqual(drift, [], 'stated limits match the route schemas');

      // Sessions end last: signing out mid-run would leave the rest unauthenticated.
      const order = (r: Target) => (/sign-out$/.test(r.url) ? 2 : r.method === 'GET' ? 0 : 1);
      targets.sort((a, b) => order(a) - order(b));
      for (const r of targets) {
        const path = fill(r.url, (n) => param(r.url, n))!;
        const declared = schemaFields(r.schema, r.method === 'GET' ? 'querystring' : 'body');
        const refuse = (name: string, m: Mutation) => (refusedFor(declared.get(name)?.type, m) ? name : undefined);

        // Path parameters: each in turn takes a hostile value.
        for (const name of paramNames(r.url)) {
          for (const v of PARAM_VALUES) {
            const bad = fill(r.url, (n) => (n === name ? v : param(r.url, n)))!;
            results.push(await send(r, `param ${name}=${JSON.stringify(v.slice(0, 20))}`, bad));
          }
        }

        if (r.method === 'GET') {
          const names = new Set([...declared.keys(), ...(queries.get(path) ?? []), ...(forms.get(`GET ${path}`)?.fields.keys() ?? []), ...PROTOCOL.find((p) => p.url === r.url && p.method === 'GET')?.fields ?? []]);
          const base: [string, string][] = r.url === '/sandpit/authorize'
            ? [...new URLSearchParams({ client_id: ids.clientId!, redirect_uri: 'https://rp.example.org/callback', response_type: 'code', scope: 'openid', state: 's', nonce: 'n' })]
            : [];
          for (const name of names) {
            for (const m of ['duplicate', 'long', 'unicode', 'nul', 'empty'] as Mutation[]) {
              const pairs = [...base.filter(([k]) => k !== name), ...formPairs(name, base.find(([k]) => k === name)?.[1] ?? 'a', m, random)];
              results.push(await send(r, `query ${name} ${m}`, path, { query: encodePairs(pairs), mustRefuse: refuse(name, m) }));
            }
          }
          results.push(await send(r, 'query own keys', path, { query: encodePairs(PROTO_KEYS.map((k) => [k, 'x'])) }));
          continue;
        }

        if (r.face === 'api') {
          const names = new Set([...declared.keys(), ...apiFields(r)]);
          // Every other field of the right type, so the one mutated is the only thing wrong.
          const types = (r.schema as { body?: { properties?: Record<string, { type?: unknown }> } } | undefined)?.body?.properties ?? {};
          const sample = (n: string) => {
            const t = [Object.hasOwn(types, n) ? types[n]!.type : 'string'].flat()[0];
            return t === 'array' ? ['a'] : t === 'boolean' ? true : t === 'integer' ? 1 : t === 'object' ? {} : 'a';
          };
          const base = Object.fromEntries([...names].map((n) => [n, sample(n)]));
          const json = (body: unknown) => JSON.stringify(body);
          results.push(await send(r, 'json baseline', path, { type: 'application/json', body: json(base) }));
          for (const name of names) {
            for (const m of JSON_MUTATIONS) {
              const body: Record<string, unknown> = { ...base };
              if (m === 'missing') delete body[name];
              else body[name] = jsonValue(base[name], m, random);
              results.push(await send(r, `json ${name} ${m}`, path, { type: 'application/json', body: json(body), mustRefuse: refuse(name, m) }));
            }
          }
          for (const v of BODY_VARIANTS) results.push(await send(r, `body ${v.label}`, path, { type: v.type, body: v.body }));
          continue;
        }

        // A form: its fields from its schema, its page's form and the protocol's list, with the page's values.
        const scraped = forms.get(`POST ${path}`);
        const names = new Set([...declared.keys(), ...(scraped?.fields.keys() ?? []), ...PROTOCOL.find((p) => p.url === r.url && p.method === r.method)?.fields ?? []]);
        const csrf = scraped?.fields.get('_csrf')?.[0];
        const value = (n: string) => (n === '_csrf' ? csrf ?? sessionCsrf(r.face) : scraped?.fields.get(n)?.[0] ?? 'a');
        const base: [string, string][] = [...names].map((n) => [n, value(n)]);
        if (!names.has('_csrf') && (r.face === 'portal' || r.face === 'console')) base.push(['_csrf', sessionCsrf(r.face)]);
        const form = 'application/x-www-form-urlencoded';
        // Signing out ends the session the other requests need: its valid form goes last.
        const endsSession = /sign-out$/.test(r.url);
        if (!endsSession) results.push(await send(r, 'form baseline', path, { type: form, body: encodePairs(base) }));
        for (const name of names) {
          for (const m of FORM_MUTATIONS) {
            const pairs = [...base.filter(([k]) => k !== name), ...formPairs(name, value(name), m, random)];
            results.push(await send(r, `form ${name} ${m}`, path, { type: form, body: encodePairs(pairs), mustRefuse: m === 'oversized' ? undefined : refuse(name, m) }));
          }
          // The same form as JSON, with this field a list or an object (what a script, not a browser, sends).
          for (const m of ['array', 'object'] as Mutation[]) {
            const body = Object.fromEntries(base);
            body[name] = jsonValue(body[name], m, random) as string;
            results.push(await send(r, `json ${name} ${m}`, path, { type: 'application/json', body: JSON.stringify(body), mustRefuse: refuse(name, m) }));
          }
        }
        for (const v of BODY_VARIANTS) results.push(await send(r, `body ${v.label}`, path, { type: v.type, body: v.body }));
        if (endsSession) results.push(await send(r, 'form baseline', path, { type: form, body: encodePairs(base) }));
        // Random combinations (npm run test:fuzz): several fields mutated at once.
        for (let i = 0; i < EXTRA; i++) {
          let pairs = base;
          for (const name of names) {
            if (random() < 0.5) continue;
            const m = FORM_MUTATIONS[Math.floor(random() * FORM_MUTATIONS.length)]!;
            pairs = [...pairs.filter(([k]) => k !== name), ...formPairs(name, value(name), m, random)];
          }
          results.push(await send(r, `random ${i}`, path, { type: form, body: encodePairs(pairs) }));
        }
      }

      const failures = results.map((s) => ({ s, p: problem(s) })).filter((x) => x.p);
      const fives = results.filter((s) => s.status >= 500).length;
      t.diagnostic(`${results.length} requests to ${targets.length} routes (seed ${SEED}): ${fives} answered 5xx, ${failures.length} problems`);
      const byRoute = new Map<string, string[]>();
      for (const { s, p } of failures) {
        const key = `${s.target.method} ${s.target.url}`;
        byRoute.set(key, [...(byRoute.get(key) ?? []), `${s.label}: ${p}`]);
      }
      const slow = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5).map((s) => `${s.target.method} ${s.target.url} ${s.label} ${s.ms.toFixed(0)} ms`);
      t.diagnostic(`slowest: ${slow.join('; ')}`);
      const kinds = new Map<string, number>();
      for (const r of results) kinds.set(r.label.split(' ')[0]!, (kinds.get(r.label.split(' ')[0]!) ?? 0) + 1);
      t.diagnostic(`requests by kind: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; by face: ${['portal', 'console', 'api', 'journey', 'protocol', 'other'].map((f) => `${f} ${results.filter((r) => r.target.face === f).length}`).join(', ')}`);
      const report = [...byRoute].map(([k, v]) => `${k} (${v.length})\n    ${v.slice(0, 4).join('\n    ')}`).join('\n');
      assert.deepEqual(unreached, [], 'every GET route is reached (not the not-found page)');
      assert.equal(failures.length, 0, `${failures.length} answers were wrong:\n${report}`);
    });

    function sessionCsrf(face: Face): string {
      return face === 'console' ? consoleCsrf : portalCsrf;
    }
    let portalCsrf = '';
    let consoleCsrf = '';
    before(async () => {
      portalCsrf = csrfOf(await partner.get(`/portal/organisations/${ids.orgId}/members`));
      consoleCsrf = csrfOf(await team.get('/console'));
    });
  });
}
