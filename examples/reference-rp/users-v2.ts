/**
 * Users Endpoint V2 from a partner's server, the way we would like partners to call it (its interface specification
 * v1.1): a fresh RS512 assertion per token request (iss = sub = client_id, aud = the token endpoint, a random jti,
 * 60 s), the jwt-bearer grant with the environment's full Users.retrieve scope URL and `profile`, then one GET with
 * the filter URL-encoded. An empty ListResponse is a success: nobody matched.
 */
import { randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';

export interface UsersV2Options {
  issuer: string;
  clientId: string;
  privateKeyPem: string;
  kid?: string | undefined;
  /** The environment's Users.retrieve scope URL, exactly as the portal shows it, and any approved optional scopes. */
  scope: string;
  fetch?: typeof fetch;
}

export interface UsersV2Result {
  status: number;
  /** The SCIM ListResponse on 200; `{"Errors": [...]}` otherwise. */
  body: Record<string, unknown>;
}

export async function lookUpUsers(o: UsersV2Options, filter: string): Promise<UsersV2Result> {
  const f = o.fetch ?? fetch;
  const tokenEndpoint = `${o.issuer}/token`;
  const key = await importPKCS8(o.privateKeyPem, 'RS512');
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS512', typ: 'JWT', ...(o.kid ? { kid: o.kid } : {}) })
    .setIssuer(o.clientId)
    .setSubject(o.clientId)
    .setAudience(tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(randomUUID())
    .sign(key);
  const tokenRes = await f(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, scope: o.scope }),
  });
  const token = (await tokenRes.json()) as Record<string, unknown>;
  if (tokenRes.status !== 200 || typeof token.access_token !== 'string') return { status: tokenRes.status, body: token };
  const res = await f(`${o.issuer}/v2/Users?filter=${encodeURIComponent(filter)}`, {
    headers: { authorization: `Bearer ${token.access_token}`, accept: 'application/scim+json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
