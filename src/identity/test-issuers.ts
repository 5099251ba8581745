/**
 * Test issuers: for the two conformance tests that need the relying party to read a discovery document or a JWKS of
 * their own (a spoiled shared one would spoil every partner's sandpit), each client of an environment that runs
 * conformance tests has two issuer addresses a second instance of its service can be configured with, as the OpenID
 * Foundation's RP tests give each test an issuer of its own:
 *
 *  - `<issuer>/test-issuers/<client_id>/unparseable-jwk`: a discovery document naming that address as its issuer and a
 *    JWKS of its own, which holds the environment's keys after one no implementation can import. RFC 7517 §5:
 *    "Implementations SHOULD ignore JWKs within a JWK Set that use "kty" (key type) values that are not understood by
 *    them, that are missing required members, or for which values are out of the supported ranges." The endpoints are
 *    the environment's; a run's ID token for this test names the test issuer (faults.ts `id_token_test_issuer`).
 *  - `<issuer>/test-issuers/<client_id>/issuer-mismatch`: the environment's own discovery document, whose issuer is not
 *    the address it was fetched from. OpenID Connect Discovery 1.0 §4.3: "The issuer value returned MUST be identical to
 *    the Issuer URL that was used as the prefix to /.well-known/openid-configuration ... If these values are not
 *    identical, the data contained in the response MUST NOT be used."
 *
 * When a client's test issuer was last fetched is kept (a day), so a run can tell a service that refused the document
 * from one that was never configured with it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import type { EnvironmentConfig } from '../config/index.ts';
import { getClient, kvGet, kvPut, type Db } from '../storage/index.ts';

export const TEST_ISSUER_KINDS = ['unparseable-jwk', 'issuer-mismatch'] as const;
export type TestIssuerKind = (typeof TEST_ISSUER_KINDS)[number];

const SEEN_TTL_MS = 24 * 60 * 60 * 1000;
/** A fetch within this long of the last one recorded is not written again (anyone may fetch these). */
const SEEN_RESOLUTION_MS = 60 * 1000;
const CLIENT_ID = /^[\w-]{1,100}$/;

/**
 * An RSA key without its modulus (a required member, RFC 7518 §6.3.1): a JWK Set member by its shape, but no key can be
 * made of it. Listed first, so that a service which imports every key before choosing one fails on it.
 */
export const UNPARSEABLE_JWK: JWK = { kty: 'RSA', kid: 'toolkit-unparseable', use: 'sig', alg: 'RS512', e: 'AQAB' };

export const testIssuerUrl = (issuer: string, clientId: string, kind: TestIssuerKind) =>
  `${issuer}/test-issuers/${encodeURIComponent(clientId)}/${kind}`;

const seenKey = (env: string, clientId: string, kind: TestIssuerKind) => `${env}:${clientId}:${kind}`;

/** When a service last fetched this client's test issuer's discovery document, if within a day. */
export function testIssuerSeen(db: Db, env: string, clientId: string, kind: TestIssuerKind): Promise<number | undefined> {
  return kvGet<number>(db, 'test-issuer-seen', seenKey(env, clientId, kind));
}

async function noteSeen(db: Db, env: string, clientId: string, kind: TestIssuerKind) {
  const last = await testIssuerSeen(db, env, clientId, kind);
  if (last === undefined || Date.now() - last > SEEN_RESOLUTION_MS)
    await kvPut(db, 'test-issuer-seen', seenKey(env, clientId, kind), Date.now(), SEEN_TTL_MS);
}

interface Deps {
  env: EnvironmentConfig;
  db: Db;
  /** This app answering its own requests in-process (web/inject-fetch.ts): the environment's documents, as served. */
  fetch: typeof globalThis.fetch;
}

export function registerTestIssuers(scoped: FastifyInstance, { env, db, fetch }: Deps): void {
  const own = async (path: string) => (await (await fetch(`${env.issuer}${path}`)).json()) as Record<string, unknown>;
  type Params = { Params: { clientId: string; kind: string } };
  const params = {
    type: 'object',
    properties: { clientId: { type: 'string', pattern: CLIENT_ID.source }, kind: { type: 'string', enum: [...TEST_ISSUER_KINDS] } },
  };

  // An address of the wrong shape, or of no client of this environment, is no test issuer: the app's not-found answer.
  const options = { schema: { params }, attachValidation: true };
  const known = async (req: FastifyRequest<Params>) =>
    !req.validationError && (await getClient(db, env.name, req.params.clientId)) !== undefined;

  scoped.get<Params>('/test-issuers/:clientId/:kind/.well-known/openid-configuration', options, async (req, reply) => {
    if (!(await known(req))) return reply.callNotFound();
    const { clientId: client, kind } = req.params as { clientId: string; kind: TestIssuerKind };
    await noteSeen(db, env.name, client, kind);
    const document = await own('/.well-known/openid-configuration');
    const self = testIssuerUrl(env.issuer, client, kind);
    // issuer-mismatch: the environment's document as it is, its issuer not this address.
    if (kind === 'unparseable-jwk') Object.assign(document, { issuer: self, jwks_uri: `${self}/jwks.json` });
    return reply.header('cache-control', 'no-store').send(document);
  });

  scoped.get<Params>('/test-issuers/:clientId/:kind/jwks.json', options, async (req, reply) => {
    if (req.params.kind !== 'unparseable-jwk' || !(await known(req))) return reply.callNotFound();
    const { keys } = (await own('/.well-known/jwks.json')) as { keys: JWK[] };
    return reply.header('cache-control', 'no-store').send({ keys: [UNPARSEABLE_JWK, ...keys] });
  });
}
