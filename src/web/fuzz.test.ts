/**
 * Every route of the environments, portal, console and API, fed hostile input (src/test-support/fuzz.ts) with a
 * signed-in partner admin, a signed-in team admin, an API token and a live journey, on both databases: no answer
 * is a 5xx, and every refusal has its face's shape (a page with an error summary, the API's JSON error, the OAuth
 * error). `npm test` runs the systematic pass with a fixed seed; `npm run test:fuzz` adds FUZZ_ITERATIONS random
 * combinations per form (FUZZ_SEED picks them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { partnerIn } from '../test-support/partner.ts';
import { signInToConsole } from '../test-support/team.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { registerClient } from '../identity/index.ts';
import {
  addTeamMember, createApiToken, createOrganisation, createTestUser, invite, requireMembership, uploadDocument,
} from '../onboarding/index.ts';
import {
  BODY_VARIANTS, bodyOf, encodePairs, fill, FORM_MUTATIONS, formPairs, JSON_MUTATIONS, jsonValue, paramNames, PARAM_VALUES, PROTO_KEYS,
  refusedFor, rng, schemaFields, scrapeForms, scrapeLinkQueries, targetsOf, type Mutation, type ScrapedForm, type Target,
} from '../test-support/fuzz.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 1234);
const EXTRA = Number(process.env.FUZZ_ITERATIONS ?? 0);
const ORIGIN = 'http://localhost:3000';
const REDIRECT_URI = 'https://rp.example.org/callback';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

const words = (s: string) => s.split(' ');
/** Protocol endpoints the engine answers (not Fastify routes), with the fields each takes. */
const PROTOCOL: { method: string; url: string; fields: string[] }[] = [
  {
    method: 'GET',
    url: '/sandpit/authorize',
    fields: words('client_id redirect_uri response_type scope state nonce vtr prompt claims max_age'),
  },
  {
    method: 'POST',
    url: '/sandpit/token',
    fields: words('grant_type code redirect_uri client_assertion_type client_assertion refresh_token scope'),
  },
  { method: 'GET', url: '/sandpit/userinfo', fields: ['access_token'] },
  { method: 'POST', url: '/sandpit/userinfo', fields: ['access_token'] },
  { method: 'GET', url: '/sandpit/.well-known/openid-configuration', fields: [] },
  { method: 'GET', url: '/sandpit/.well-known/jwks.json', fields: [] },
];
const protocolFields = (r: Target) => PROTOCOL.find((p) => p.url === r.url && p.method === r.method)?.fields ?? [];

/** Pages that refuse a request before its form is read (no session, no such page, an expired form): no summary. */
const ERROR_TITLES = [
  'Your session has ended',
  'There is a problem with the request',
  'This link does not work',
  'Page not found',
  'This form has expired',
  'Team admins only',
  'This link has expired or has already been used',
];
const ERROR_PAGES = new RegExp(`<h1[^>]*>(${ERROR_TITLES.join('|')})</h1>`);

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

interface World {
  partner: Browser;
  team: Browser;
  journey: Browser;
  token: string;
  csrf: { portal: string; console: string };
  ids: Record<string, string>;
}

/** An organisation with a member, an invitation, a sandpit client, tokens, a test user, a document and a run; a team; a journey. */
async function setUp(app: TestApp): Promise<World> {
  const db = app.database.db;
  const now = Date.now();
  const org = await createOrganisation(db, 'user-owner', { name: 'Fuzz Ltd' });
  const partner = await partnerIn(app, org.id, 'fuzz@example.org', 'partner_admin');
  const me = 'user-fuzz@example.org';
  const dev = { id: 'user-dev', email: 'dev@example.org', name: 'Dev', password_hash: 'x', email_confirmed_at: now, created_at: now };
  await db.insertInto('partner_user').values(dev).execute();
  await db.insertInto('membership').values({ organisation_id: org.id, user_id: 'user-dev', role: 'developer', created_at: now }).execute();
  const membership = await requireMembership(db, me, org.id);
  await invite({ db, mailer: app.mailer, publicUrl: app.config.publicUrl }, membership, me, 'invitee@example.org', 'developer');
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const client = await registerClient(db, {
    env: 'sandpit', organisationId: org.id, name: 'Fuzz service', redirectUris: [REDIRECT_URI], scopes: ['openid', 'email'],
    vtr: ['P9.Cp.Cd'], publicKeyPem: publicKey,
  });
  // For the integration environment's own routes of a client (its test issuers).
  const integration = await registerClient(db, {
    env: 'integration', organisationId: org.id, name: 'Fuzz service', redirectUris: ['https://rp.example.org/callback'], scopes: ['openid'],
    vtr: ['P9.Cp.Cd'], publicKeyPem: publicKey,
  });
  const pds = [...app.identity.people.pds.values()].find((r) => !r.date_of_death)!;
  const testUser = { nhsNumber: pds.nhs_number, level: 'P9', otpDisabled: false, phonePdsMatched: true };
  const runId = randomUUID();
  await db.insertInto('conformance_run').values({
    id: runId, env: 'sandpit', client_id: client.clientId, organisation_id: org.id, start_url: 'https://rp.example.org/', options: '{}',
    status: 'failed',
    created_by: 'fuzz', created_at: now, finished_at: now, report: null,
  }).execute();
  const { b: team } = await signInToConsole(app, 'admin@nhs.example', 'team_admin');
  const journey = new Browser(app.fetch, ORIGIN);
  const authorize = {
    client_id: client.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid email', state: 's', nonce: 'n',
    vtr: '["P9.Cp.Cd"]',
  };
  const start = await journey.get(`/sandpit/authorize?${new URLSearchParams(authorize)}`);
  const uid = /\/interaction\/([^/]+)\//.exec(start.url)?.[1];
  assert.ok(uid, `the journey started: ${start.url}`);
  return {
    partner, team, journey,
    token: (await createApiToken(db, org.id, me, 'fuzz')).token,
    csrf: { portal: csrfOf(await partner.get(`/portal/organisations/${org.id}/members`)), console: csrfOf(await team.get('/console')) },
    ids: {
      orgId: org.id, memberId: 'user-dev', clientId: client.clientId, integrationClientId: integration.clientId, runId, uid,
      invitationId: (await db.selectFrom('invitation').select('id').executeTakeFirstOrThrow()).id,
      tokenId: (await createApiToken(db, org.id, me, 'spare')).id,
      personId: (await createTestUser(db, app.identity.people, org.id, testUser)).id,
      docId: (await uploadDocument(db, org.id, me, 'scal', 'scal.pdf', Buffer.from('%PDF-1.4\n%fuzz\n'))).id,
      teamMemberId: (await addTeamMember(db, { email: 'cli' }, 'dm@nhs.example', 'delivery_manager')).user.id,
    },
  };
}

/** What is wrong with an answer, if anything. */
function problem(s: Sent): string | undefined {
  if (s.status >= 500) return `answered ${s.status}`;
  // A journey step not yet reached sends the browser back to the journey without reading the form.
  const backToJourney = s.target.face === 'journey' && s.status === 303 && /\/interaction\/[^/]+$/.test(s.location ?? '');
  if (s.mustRefuse && s.status < 400 && !backToJourney) return `accepted a wrong shape of ${s.mustRefuse} (${s.status})`;
  if (s.status < 400) return undefined;
  const json = () => {
    try {
      return JSON.parse(s.text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const { face, url, method } = s.target;
  if (face === 'api') {
    const body = json();
    if (!body || typeof body.error !== 'string' || typeof body.message !== 'string')
      return `API refusal without { error, message }: ${s.text.slice(0, 80)}`;
    if (s.mustRefuse && s.status === 400 && body.field !== s.mustRefuse)
      return `API refusal names ${String(body.field)}, not ${s.mustRefuse}`;
    return undefined;
  }
  if (face === 'protocol' && /\/v2\/Users/.test(url)) {
    // SCIM's error shape (Users Endpoint V2 §3.3.3, Tables 9 and 10), its code the status as a string.
    const e = (json()?.Errors as { description?: unknown; code?: unknown }[] | undefined)?.[0];
    const shaped = typeof e?.description === 'string' && e.code === String(s.status);
    return shaped ? undefined : `SCIM refusal without Errors: ${s.text.slice(0, 120)}`;
  }
  if (face === 'protocol' && /\/provision-account/.test(url)) {
    // Provision Account's error shape (spec-Provision_Account_v1 §3.3.3 T10): a code of digits and its description.
    const e = json();
    return typeof e?.description === 'string' && /^\d+$/.test(String(e.code)) ? undefined
      : `Provision Account refusal without { code, description }: ${s.text.slice(0, 120)}`;
  }
  if (face === 'protocol' && /\/gp-system\//.test(url)) {
    // The stand-in GP system's shape (identity/gp-system/endpoint.ts): a stable error code and its message.
    const e = json();
    return typeof e?.error === 'string' && typeof e.Message === 'string' ? undefined
      : `GP system refusal without { error, Message }: ${s.text.slice(0, 120)}`;
  }
  if (face === 'protocol' && /\/(token|userinfo)$/.test(url)) {
    return typeof json()?.error === 'string' ? undefined : `OAuth refusal without an error code: ${s.text.slice(0, 120)}`;
  }
  if (!s.type.startsWith('text/html')) return `refusal is ${s.type || 'untyped'}, not a page: ${s.text.slice(0, 120)}`;
  // A form refused for what was typed shows the form again with its error summary; GET pages and requests refused
  // before their form is read get an error page.
  if (s.status === 400 && method !== 'GET' && face !== 'protocol' && !s.text.includes('nhsuk-error-summary') && !ERROR_PAGES.test(s.text)) {
    return `form refusal without an error summary: ${/<h1[^>]*>([^<]*)/.exec(s.text)?.[1] ?? s.text.slice(0, 80)}`;
  }
  return undefined;
}

type OpenApi = {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object; $ref?: string } }> } }>>;
  components: { schemas: Record<string, { properties?: object }> };
};

for (const dialect of DIALECTS) {
  describe(`fuzz every route (${dialect})`, () => {
    let app: TestApp;
    let w: World;
    let targets: Target[];
    /** The first answer of every GET route, and the forms and links on those pages. */
    const pages: Sent[] = [];
    const forms = new Map<string, ScrapedForm>();
    const queries = new Map<string, Set<string>>();

    /** The value of a path parameter for a route; undefined if the fuzzer does not know it (a test then fails). */
    const param = (url: string, name: string): string | undefined => {
      const { ids } = w;
      const id = url.includes('/documents/') ? ids.docId : url.includes('/test-users/') ? ids.personId
        : url.includes('/invitations/') ? ids.invitationId : url.includes('/conformance-runs/') ? ids.runId : randomUUID();
      const byName: Record<string, string | undefined> = {
        ...ids, userId: url.startsWith('/console') ? ids.teamMemberId : ids.memberId, id, env: 'sandpit', gate: 'application',
        clientId: url.startsWith('/integration/') ? ids.integrationClientId : ids.clientId,
        criterion: 'pib_review',
        secret: 'not-a-secret', token: 'not-a-claiming-link', eventId: randomUUID(), testId: 'p9_login',
        file: 'report.json', host: 'rp.example.org', patientId: ids.personId, kind: 'unparseable-jwk',
      };
      return Object.hasOwn(byName, name) ? byName[name] : undefined;
    };
    const pathOf = (r: Target) => fill(r.url, (n) => param(r.url, n))!;

    type Init = { query?: string; type?: string; body?: string; mustRefuse?: string };
    async function send(target: Target, label: string, path: string, init: Init = {}): Promise<Sent> {
      const url = new URL(`${path}${init.query ? `?${init.query}` : ''}`, ORIGIN);
      const browser = target.face === 'console' ? w.team : target.face === 'journey' || target.face === 'protocol' ? w.journey : w.partner;
      const headers: Record<string, string> = { cookie: browser.cookieHeader(url) };
      if (target.face === 'api') headers.authorization = `Bearer ${w.token}`;
      if (init.type) headers['content-type'] = init.type;
      const withBody = init.body !== undefined && target.method !== 'GET';
      const started = performance.now();
      const res = await app.fetch(url.href, {
        method: target.method,
        headers,
        redirect: 'manual',
        ...(withBody ? { body: init.body } : {}),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      const ms = performance.now() - started;
      return { target, label, mustRefuse: init.mustRefuse, status: res.status, type, text, location: res.headers.get('location'), ms };
    }

    before(async () => {
      app = await startTestApp(dialect);
      w = await setUp(app);
      targets = targetsOf(app.routes).filter((r) => r.face !== 'other' || r.url === '/');
      for (const p of PROTOCOL) targets.push({ method: p.method, url: p.url, face: 'protocol' });
      // Read every page first: its forms and links tell which fields each route takes.
      for (const r of targets.filter((x) => x.method === 'GET' && paramNames(x.url).every((n) => param(x.url, n) !== undefined))) {
        const s = await send(r, 'page', pathOf(r));
        pages.push(s);
        if (!s.type.startsWith('text/html')) continue;
        for (const f of scrapeForms(s.text, pathOf(r))) if (!forms.has(`${f.method} ${f.action}`)) forms.set(`${f.method} ${f.action}`, f);
        for (const [p, keys] of scrapeLinkQueries(s.text, pathOf(r))) queries.set(p, new Set([...(queries.get(p) ?? []), ...keys]));
      }
    });
    after(() => app.stop());

    test('every route is reached: its parameters have values here, and no page is the not-found page', () => {
      const unknown = targets.filter((r) => paramNames(r.url).some((n) => param(r.url, n) === undefined)).map((r) => `${r.method} ${r.url}`)
        .sort();
      assert.deepEqual(unknown, [], 'a route parameter the fuzzer has no value for');
      const notFound = /If you typed the web address|No such API route/;
      const unreached = pages.filter((s) => notFound.test(s.text)).map((s) => `${s.target.method} ${s.target.url}`);
      assert.deepEqual(unreached, []);
    });

    test('the limit a page states for a field is the limit its route enforces', () => {
      const drift: string[] = [];
      for (const r of targets.filter((x) => x.method === 'POST')) {
        const props = (bodyOf(r.schema, 'body')?.properties ?? {}) as Record<string, { maxLength?: number }>;
        for (const [name, stated] of forms.get(`POST ${pathOf(r)}`)?.limits ?? []) {
          const enforced = Object.hasOwn(props, name) ? props[name]!.maxLength : undefined;
          if (enforced !== stated) drift.push(`${r.url} ${name}: the page says ${stated}, the route enforces ${enforced}`);
        }
      }
      assert.deepEqual(drift, []);
    });

    test('every route answers hostile input with its own refusal, never a 5xx', async (t) => {
      const random = rng(SEED);
      const results: Sent[] = [...pages];
      const openapi = (await (await app.fetch(`${ORIGIN}/api/v1/openapi.json`)).json()) as OpenApi;
      const apiFields = (r: Target) => {
        const op = openapi.paths[r.url.replace(/^\/api\/v1/, '').replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
        const schema = op?.requestBody?.content['application/json']?.schema;
        const props = schema?.$ref ? openapi.components.schemas[schema.$ref.split('/').pop()!]?.properties : schema?.properties;
        return Object.keys(props ?? {});
      };

      // Sessions end last: signing out mid-run would leave the rest unauthenticated.
      const order = (r: Target) => (/sign-out$/.test(r.url) ? 2 : r.method === 'GET' ? 0 : 1);
      for (const r of [...targets].sort((a, b) => order(a) - order(b))) {
        const path = pathOf(r);
        const declared = schemaFields(r.schema, r.method === 'GET' ? 'querystring' : 'body');
        const refuse = (name: string, m: Mutation) => {
          const field = declared.get(name);
          return refusedFor(field?.type, m, field?.maxLength) ? name : undefined;
        };

        // Path parameters: each in turn takes a hostile value.
        for (const name of paramNames(r.url)) {
          for (const v of PARAM_VALUES) {
            const bad = fill(r.url, (n) => (n === name ? v : param(r.url, n)))!;
            results.push(await send(r, `param ${name}=${JSON.stringify(v.slice(0, 20))}`, bad));
          }
        }

        if (r.method === 'GET') {
          const names = new Set([...declared.keys(), ...(queries.get(path) ?? []), ...(forms.get(`GET ${path}`)?.fields.keys() ?? [])]);
          for (const f of protocolFields(r)) names.add(f);
          const base: [string, string][] =
            r.url === '/sandpit/authorize'
              ? [
                  ...new URLSearchParams({
                    client_id: w.ids.clientId!,
                    redirect_uri: REDIRECT_URI,
                    response_type: 'code',
                    scope: 'openid',
                    state: 's',
                    nonce: 'n',
                  }),
                ]
              : [];
          for (const name of names) {
            for (const m of ['duplicate', 'long', 'unicode', 'nul', 'empty'] as Mutation[]) {
              const was = base.find(([k]) => k === name)?.[1] ?? 'a';
              const pairs = [...base.filter(([k]) => k !== name), ...formPairs(name, was, m, random)];
              results.push(await send(r, `query ${name} ${m}`, path, { query: encodePairs(pairs), mustRefuse: refuse(name, m) }));
            }
          }
          results.push(await send(r, 'query own keys', path, { query: encodePairs(PROTO_KEYS.map((k) => [k, 'x'])) }));
          continue;
        }

        if (r.face === 'api') {
          const names = new Set([...declared.keys(), ...apiFields(r)]);
          // Every other field of the right type, so the one mutated is the only thing wrong.
          const sample = (n: string) => {
            const type = declared.get(n)?.type ?? 'string';
            return type === 'array' ? ['a'] : type === 'boolean' ? true : type === 'integer' ? 1 : type === 'object' ? {} : 'a';
          };
          const base = Object.fromEntries([...names].map((n) => [n, sample(n)]));
          results.push(await send(r, 'json baseline', path, { type: JSON_TYPE, body: JSON.stringify(base) }));
          for (const name of names) {
            for (const m of JSON_MUTATIONS) {
              const body: Record<string, unknown> = { ...base };
              if (m === 'missing') delete body[name];
              else body[name] = jsonValue(base[name], m, random);
              results.push(
                await send(r, `json ${name} ${m}`, path, { type: JSON_TYPE, body: JSON.stringify(body), mustRefuse: refuse(name, m) }),
              );
            }
          }
          for (const v of BODY_VARIANTS) results.push(await send(r, `body ${v.label}`, path, { type: v.type, body: v.body }));
          continue;
        }

        // A form: its fields from its schema, its page's form and the protocol's list, with the page's values.
        const scraped = forms.get(`POST ${path}`);
        const names = new Set([...declared.keys(), ...(scraped?.fields.keys() ?? []), ...protocolFields(r)]);
        const sessionCsrf = r.face === 'console' ? w.csrf.console : w.csrf.portal;
        const value = (n: string) => scraped?.fields.get(n)?.[0] ?? (n === '_csrf' ? sessionCsrf : 'a');
        const base: [string, string][] = [...names].map((n) => [n, value(n)]);
        if (!names.has('_csrf') && (r.face === 'portal' || r.face === 'console')) base.push(['_csrf', sessionCsrf]);
        // Signing out ends the session the other requests need: its valid form goes last.
        const endsSession = /sign-out$/.test(r.url);
        if (!endsSession) results.push(await send(r, 'form baseline', path, { type: FORM, body: encodePairs(base) }));
        for (const name of names) {
          for (const m of FORM_MUTATIONS) {
            const pairs = [...base.filter(([k]) => k !== name), ...formPairs(name, value(name), m, random)];
            const mustRefuse = m === 'oversized' ? undefined : refuse(name, m); // the body limit refuses the whole form first
            results.push(await send(r, `form ${name} ${m}`, path, { type: FORM, body: encodePairs(pairs), mustRefuse }));
          }
          // The same form as JSON, with this field a list or an object (what a script, not a browser, sends).
          for (const m of ['array', 'object'] as Mutation[]) {
            const body: Record<string, unknown> = Object.fromEntries(base);
            body[name] = jsonValue(body[name], m, random);
            results.push(
              await send(r, `json ${name} ${m}`, path, { type: JSON_TYPE, body: JSON.stringify(body), mustRefuse: refuse(name, m) }),
            );
          }
        }
        for (const v of BODY_VARIANTS) results.push(await send(r, `body ${v.label}`, path, { type: v.type, body: v.body }));
        if (endsSession) results.push(await send(r, 'form baseline', path, { type: FORM, body: encodePairs(base) }));
        // Random combinations (npm run test:fuzz): several fields mutated at once.
        for (let i = 0; i < EXTRA; i++) {
          let pairs = base;
          for (const name of names) {
            if (random() < 0.5) continue;
            const m = FORM_MUTATIONS[Math.floor(random() * FORM_MUTATIONS.length)]!;
            pairs = [...pairs.filter(([k]) => k !== name), ...formPairs(name, value(name), m, random)];
          }
          results.push(await send(r, `random ${i}`, path, { type: FORM, body: encodePairs(pairs) }));
        }
      }

      const failures = results.map((s) => ({ s, p: problem(s) })).filter((x) => x.p);
      const fives = results.filter((s) => s.status >= 500).length;
      t.diagnostic(
        `${results.length} requests to ${targets.length} routes (seed ${SEED}): ${fives} answered 5xx, ${failures.length} wrong`,
      );
      const slow = [...results]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 3)
        .map((s) => `${s.target.url} ${s.label} ${s.ms.toFixed(0)} ms`);
      t.diagnostic(`slowest: ${slow.join('; ')}`);
      const byRoute = new Map<string, string[]>();
      for (const { s, p } of failures) {
        const key = `${s.target.method} ${s.target.url}`;
        byRoute.set(key, [...(byRoute.get(key) ?? []), `${s.label}: ${p}`]);
      }
      const report = [...byRoute].map(([k, v]) => `${k} (${v.length})\n    ${v.slice(0, 4).join('\n    ')}`).join('\n');
      assert.equal(failures.length, 0, `${failures.length} answers were wrong:\n${report}`);
    });
  });
}
