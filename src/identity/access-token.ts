/**
 * NHS login access tokens are RS512 JWTs that the userinfo endpoint accepts (interface spec §1, "signing").
 * oidc-provider issues JWT access tokens only for resource servers and keeps userinfo tokens opaque, so the
 * environment wraps the engine's opaque token in a signed JWT whose `jti` is the opaque handle: userinfo
 * verifies the signature, then hands the handle to the engine, which still enforces expiry and revocation
 * (e.g. every token of a grant is revoked when its code is replayed).
 */
import { importJWK, jwtVerify, SignJWT, createLocalJWKSet, type JWK, type CryptoKey } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { EnvironmentConfig } from '../config/index.ts';
import { publicJwk } from './keys.ts';
import { trustmarkUrl } from './provider.ts';

export interface AccessTokenCodec {
  wrap(ctx: KoaContextWithOIDC, body: Record<string, unknown>): Promise<void>;
  /** The engine's opaque handle, or undefined when the JWT is not ours, is tampered with or is not a JWT. */
  unwrap(token: string): Promise<string | undefined>;
}

export async function createAccessTokenCodec(env: EnvironmentConfig, keys: JWK[]): Promise<AccessTokenCodec> {
  const signing = keys[0]!;
  const key = (await importJWK(signing, 'RS512')) as CryptoKey;
  const jwks = createLocalJWKSet({ keys: keys.map(publicJwk) });
  return {
    async wrap(ctx, body) {
      const handle = body.access_token;
      if (typeof handle !== 'string') return;
      const sign = (claims: Record<string, unknown>, sub: string, aud: string) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ ...claims, token_use: 'access' })
          .setProtectedHeader({ alg: 'RS512', typ: 'JWT', kid: signing.kid! })
          .setIssuer(env.issuer)
          .setSubject(sub)
          .setAudience(aud)
          .setIssuedAt(now)
          .setExpirationTime(now + Number(body.expires_in ?? 300))
          .setJti(handle)
          .sign(key);
      };
      const at = ctx.oidc.entities.AccessToken as unknown as { accountId: string; clientId: string; scope?: string } | undefined;
      const cc = ctx.oidc.entities.ClientCredentials as unknown as { clientId: string; scope?: string } | undefined;
      if (at) {
        const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as
          { acr?: string; authTime?: number } | undefined;
        const claims = { client_id: at.clientId, scope: at.scope, vot: source?.acr, vtm: trustmarkUrl(env), auth_time: source?.authTime };
        body.access_token = await sign(claims, at.accountId, at.clientId);
      } else if (cc && !cc.scope) {
        // Provision Account's token (P§4.2 T14): iss, sub, aud, iat, exp, and our jti and token_use; no scope.
        body.access_token = await sign({}, cc.clientId, cc.clientId);
      } else if (cc) {
        // Users Endpoint V2's token (its interface specification v1.1, §4.2 Table 13): about the client, not a person.
        const claims = {
          scope: cc.scope, version: 0, client_id: cc.clientId, reason_for_request: 'directcare', requesting_system: cc.clientId,
        };
        body.access_token = await sign(claims, cc.clientId, cc.clientId);
      }
    },
    async unwrap(token) {
      if (token.split('.').length !== 3) return undefined;
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: env.issuer, algorithms: ['RS512'], typ: 'JWT' });
        return typeof payload.jti === 'string' && payload.token_use === 'access' ? payload.jti : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
