/**
 * Users Endpoint V2's token: the jwt-bearer authorization grant (RFC 7523 §2.1) as its interface specification
 * v1.1 profiles it (§3.2.1 Table 1, §3.2.3 Tables 2–4, §4.1): a form POST to the environment's /token with
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion` (an RS512 JWT with iss = sub = client_id and
 * aud = the token URL) and `scope`; the answer is a Bearer token for 300 s, no refresh token, no ID token.
 *
 * The engine authenticates clients only with `client_assertion`, and its token route always authenticates one. The
 * grant's assertion is that same JWT (same claims, same key, same replay rule), so the request is handed to the
 * engine with the assertion as its client assertion (`withAssertionAsClientAssertion`): the engine then checks the
 * signature, the algorithm, iss/sub, the audience, the lifetime and the jti exactly as for every other client
 * assertion, and the grant's handler below only adds what is the grant's own. Failures of the assertion are this
 * grant's `invalid_grant` (RFC 7523 §3.1), not the client authentication's `invalid_client` (steps/token.ts).
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { JWT_BEARER } from '../../storage/index.ts';
import { nhsClient } from '../steps/context.ts';
import { usersRetrieveScope, USERS_V2_OPTIONAL_SCOPES } from './scope.ts';

export { JWT_BEARER };
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** oidc-provider's own limit on a request body (lib/shared/selective_body.js). */
const BODY_LIMIT = 56 * 1024;

/** The grant type as a form carries it, with its colon encoded or not. */
const GRANT_NAMED = /grant-type(?:%3a|:)jwt-bearer/i;

/** The body, up to one byte past `limit` (the engine then refuses it by the length the request declared). */
function readUpTo(req: IncomingMessage, limit: number): Promise<{ body: Buffer; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      resolve({ body: Buffer.concat(chunks), size });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done();
      }
    };
    req.on('data', onData).once('end', done).once('error', reject).once('aborted', () => reject(new Error('aborted')));
  });
}

/** The grant's own parameters (provider.registerGrantType); `assertion` is left only when it was not rewritten. */
export const GRANT_PARAMS = ['scope', 'assertion'];
/**
 * Set on a request whose assertion became its client assertion (and removed from any request that arrives with it),
 * so the grant knows the client was authenticated by the grant's own assertion and not by a client_assertion sent
 * in its place.
 */
const REWRITTEN = 'x-toolkit-jwt-bearer-assertion';

/**
 * A token request as the engine reads it. A form whose only grant_type is jwt-bearer and whose only authentication
 * is its `assertion` becomes a client-assertion request (see above); any other request is passed on unchanged. The
 * body is read here, so the engine is given a stream of the (rewritten) body in place of the request.
 */
export async function withAssertionAsClientAssertion(req: IncomingMessage): Promise<IncomingMessage> {
  if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return req;
  const { body: read, size } = await readUpTo(req, BODY_LIMIT);
  let body = read;
  let rewritten = false;
  // Every token request passes here: only one that names the grant is parsed (the code flow's name the assertion type).
  const form = size <= BODY_LIMIT && GRANT_NAMED.test(body.toString('latin1')) ? new URLSearchParams(body.toString('latin1')) : undefined;
  const onlyAssertion = form && ['client_assertion', 'client_assertion_type', 'client_secret'].every((p) => !form.has(p));
  if (form && onlyAssertion && form.getAll('grant_type').length === 1 && form.get('grant_type') === JWT_BEARER
    && form.getAll('assertion').length === 1 && !req.headers.authorization) {
    form.set('client_assertion', form.get('assertion')!);
    form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
    form.delete('assertion');
    body = Buffer.from(form.toString());
    rewritten = true;
  }
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  if (size <= BODY_LIMIT) headers['content-length'] = String(body.length);
  delete headers['transfer-encoding'];
  delete headers[REWRITTEN];
  if (rewritten) headers[REWRITTEN] = '1';
  // Koa reads the method, URL, headers and socket (the client's address) of what it is given.
  return Object.assign(Readable.from([body]), {
    method: req.method,
    url: req.url,
    originalUrl: (req as { originalUrl?: string }).originalUrl,
    headers,
    httpVersion: req.httpVersion,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage;
}

export const MISSING_ASSERTION = "missing required parameter 'assertion' (Users Endpoint V2 §3.2.1, Table 1)";

/** The scopes a Users Endpoint V2 token may be asked for (§3.2.3 Table 2, `scope`). */
export function allowableScopes(env: string): string[] {
  return [usersRetrieveScope(env), ...USERS_V2_OPTIONAL_SCOPES];
}

/** The client's approved scopes as Users Endpoint V2 reads them: Users.retrieve, and its approved OIDC scopes among the optional ones. */
export function approvedScopes(env: string, clientScopes: string[]): string[] {
  return [usersRetrieveScope(env), ...USERS_V2_OPTIONAL_SCOPES.filter((s) => clientScopes.includes(s))];
}

/** The grant's handler (provider.registerGrantType): the engine has authenticated the client by the assertion. */
export const jwtBearerGrant = (env: string) => async (ctx: KoaContextWithOIDC) => {
  const params = ctx.oidc.params as Record<string, string | undefined>;
  if (!ctx.get(REWRITTEN)) {
    // The client was authenticated by something other than the grant's assertion: both were sent, or no assertion.
    throw new errors.InvalidRequest(params.assertion !== undefined
      ? 'send the assertion alone: a jwt-bearer request has no client_assertion, client_secret or Authorization header '
        + '(Users Endpoint V2 §3.2.3, Table 4: more than one authentication mechanism)'
      : MISSING_ASSERTION);
  }
  const client = ctx.oidc.client!;
  const nhs = nhsClient(client)!;
  if (!nhs.usersV2) {
    throw new errors.UnauthorizedClient('this client is not approved for Users Endpoint V2: the NHS login team approves it per client');
  }
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  if (!requested.length) throw new errors.InvalidRequest("missing required parameter 'scope' (Users Endpoint V2 §3.2.1, Table 1)");
  const allowed = allowableScopes(env);
  const unknown = requested.find((s) => !allowed.includes(s));
  if (unknown) {
    const full = usersRetrieveScope(env);
    const hint = unknown.endsWith('Users.retrieve') ? `; send the full scope "${full}"` : `; allowed: ${allowed.join(' ')}`;
    throw new errors.InvalidScope(`"${unknown}" is not a Users Endpoint V2 scope${hint}`, unknown);
  }
  // The token carries the scopes asked for (§4.2 Table 13): the endpoint compares them with the approved ones at each
  // call, so an approval withdrawn later takes effect at once. The answer says what is granted now (Table 2, `scope`).
  const scope = [...new Set(requested)].join(' ');
  const token = new ctx.oidc.provider.ClientCredentials({ client, scope });
  ctx.oidc.entity('ClientCredentials', token);
  const value = await token.save();
  const granted = requested.filter((s) => approvedScopes(env, nhs.scopes).includes(s));
  ctx.body = {
    access_token: value,
    token_type: 'Bearer',
    expires_in: token.expiration,
    ...(granted.length ? { scope: [...new Set(granted)].join(' ') } : {}),
  };
};
