/**
 * The yardstick: a bare oidc-provider with its in-memory store doing the same token work as our token
 * endpoint (authorization_code, private_key_jwt with RS512, an RS512 ID token, an RS512 JWT access token
 * and a refresh token). Codes are minted out of band (GET /bench/codes?n=) so the measured phase is the token endpoint.
 * For single sign-on it has a signed-in session (GET /bench/session gives its cookie): authorize answers with a
 * code at once, and that code's access token is the engine's opaque one, which its userinfo accepts. So its
 * single sign-on token request makes one RS512 signature where ours makes two (the JWT access token, which
 * our userinfo accepts): a lighter login than ours.
 * With BARE_SQLITE=file it stores its models through the toolkit's own adapter on that SQLite file instead: the
 * difference between the two runs is the cost of persisting, the rest of our gap is the toolkit's own layers.
 *
 *   PORT, CLIENT_ID, CLIENT_JWK (public JWK JSON), REDIRECT_URI, BARE_SQLITE
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { oidcAdapterFactory, openDatabase } from '../src/storage/index.ts';
import { signedCookie } from './support.ts';

const port = Number(process.env.PORT);
const issuer = `http://localhost:${port}`;
const clientId = process.env.CLIENT_ID!;
const redirectUri = process.env.REDIRECT_URI!;
const RESOURCE = `${issuer}/userinfo-api`;
const COOKIE_KEY = 'bare-bench-cookie-key';

const { privateKey } = await generateKeyPair('RS512', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), alg: 'RS512', use: 'sig', kid: 'bare' };

/** An unbounded in-memory store (the engine's own development adapter is an LRU that evicts codes under load). */
const store = new Map<string, { payload: Record<string, unknown>; exp?: number }>();
const grants = new Map<string, Set<string>>();
class MemoryAdapter {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  key(id: string) {
    return `${this.name}:${id}`;
  }
  async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
    store.set(this.key(id), { payload, ...(expiresIn ? { exp: Date.now() + expiresIn * 1000 } : {}) });
    const g = payload.grantId as string | undefined;
    if (g) grants.set(g, (grants.get(g) ?? new Set()).add(this.key(id)));
  }
  async find(id: string) {
    const e = store.get(this.key(id));
    return e && (!e.exp || e.exp > Date.now()) ? e.payload : undefined;
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const e = store.get(this.key(id));
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const k of grants.get(grantId) ?? []) store.delete(k);
    grants.delete(grantId);
  }
}

const adapter = process.env.BARE_SQLITE
  ? oidcAdapterFactory((await openDatabase({ kind: 'sqlite', file: process.env.BARE_SQLITE })).db, 'bare')
  : MemoryAdapter;

const provider = new Provider(issuer, {
  adapter: adapter as never,
  clients: [{
    client_id: clientId,
    redirect_uris: [redirectUri],
    jwks: { keys: [JSON.parse(process.env.CLIENT_JWK!)] },
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS512',
    id_token_signed_response_alg: 'RS512',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  jwks: { keys: [signing as never] },
  cookies: { keys: [COOKIE_KEY] },
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['RS512'], idTokenSigningAlgValues: ['RS512'] },
  features: {
    devInteractions: { enabled: false },
    // A JWT access token signed RS512, so that both servers make the same two signatures per response: the
    // token phase's codes are minted for a resource server. Codes from /authorize (single sign-on) name none, so
    // their access token is for userinfo, and opaque.
    resourceIndicators: {
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS512' } } }),
    },
  },
  scopes: ['openid', 'api', 'profile'],
  claims: { openid: ['sub'], profile: ['family_name', 'given_name', 'birthdate'] },
  ttl: { AccessToken: 300, IdToken: 3600, AuthorizationCode: 600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600, Session: 12 * 3600 },
  // The same token response as NHS login's: a refresh token with every code exchange.
  issueRefreshToken: async () => true,
  // As ours: tokens do not end with the session (and its in-memory store finds no session by uid).
  expiresWithSession: async () => false,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, family_name: 'Bench', given_name: 'Person', birthdate: '1990-01-01' }),
  }),
});

/** A signed-in session that has already granted the client `openid profile`, and its cookie (as Koa signs it). */
async function signedInSession(): Promise<string> {
  const grant = new provider.Grant({ accountId: 'sso-user', clientId });
  grant.addOIDCScope('openid profile');
  const grantId = await grant.save();
  const jti = randomBytes(16).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  await provider.Session.adapter.upsert(jti, {
    jti, kind: 'Session', uid: randomBytes(16).toString('base64url'), accountId: 'sso-user', loginTs: now, iat: now, exp: now + 12 * 3600,
    authorizations: { [clientId]: { sid: randomBytes(8).toString('hex'), grantId } },
  } as never, 12 * 3600);
  return signedCookie('_session', jti, COOKIE_KEY);
}

async function mintCodes(n: number): Promise<string[]> {
  const ctx = provider.createContext(
    new http.IncomingMessage(null as never),
    new http.ServerResponse(new http.IncomingMessage(null as never)),
  );
  void ctx;
  const client = await provider.Client.find(clientId);
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const grant = new provider.Grant({ accountId: `user-${i}`, clientId });
    grant.addOIDCScope('openid');
    grant.addResourceScope(RESOURCE, 'api');
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId: `user-${i}`,
      client: client!,
      grantId,
      redirectUri,
      scope: 'openid api',
      nonce: `n${i}`,
      authTime: Math.floor(Date.now() / 1000),
      resource: RESOURCE,
    } as never);
    codes.push(await code.save());
  }
  return codes;
}

const callback = provider.callback();
http
  .createServer(async (req, res) => {
    const url = new URL(req.url!, issuer);
    if (url.pathname === '/bench/session') {
      res.end(await signedInSession());
      return;
    }
    if (url.pathname === '/bench/codes') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(await mintCodes(Number(url.searchParams.get('n') ?? 1))));
      return;
    }
    callback(req, res);
  })
  .listen(port, '127.0.0.1', () => process.send?.('ready'));

// Exit normally when the bench ends, so that Node flags such as --cpu-prof can write their output.
process.on('SIGTERM', () => process.exit(0));
