/**
 * Steps of /userinfo: the JWT access token unwrapped to the engine's handle (access-token.ts), PATCH /userinfo
 * (client_user_metadata), and a suspended client's tokens refused.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ExchangeFailure } from '../../storage/index.ts';
import { MAX_CLIENT_USER_METADATA, setClientUserMetadata } from '../client-user-metadata.ts';
import { nhsClient, profileState, type ProfileDeps, type Step } from './context.ts';
import { recordExchange } from './record.ts';

function bearer(ctx: KoaContextWithOIDC): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  return m?.[1];
}

/** RFC 6750 §3.1: 401 with the error in WWW-Authenticate; returned as the record's failure. */
export function invalidToken(ctx: KoaContextWithOIDC, description: string): ExchangeFailure {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', `Bearer realm="${ctx.oidc?.issuer ?? ''}", error="invalid_token", error_description="${description}"`);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'invalid_token', error_description: description };
  return { error: 'invalid_token', description };
}

function readBody(ctx: KoaContextWithOIDC, limit: number): Promise<string> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** PATCH /userinfo: the relying party writes `client_user_metadata` (204 on success); a refusal is returned. */
async function patch(
  ctx: KoaContextWithOIDC,
  d: ProfileDeps,
  handle: string,
  who: { clientId?: string; sub?: string },
): Promise<ExchangeFailure | undefined> {
  const at = await d.provider.AccessToken.find(handle);
  if (!at) return invalidToken(ctx, 'access token is invalid or expired');
  who.clientId = at.clientId;
  who.sub = at.accountId;
  if (!at.scope?.split(' ').includes('client_metadata')) {
    ctx.status = 403;
    ctx.set('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="client_metadata"');
    const description = 'the access token was not issued with the client_metadata scope';
    ctx.body = { error: 'insufficient_scope', error_description: description };
    return { error: 'insufficient_scope', description };
  }
  let value: unknown;
  try {
    value = (JSON.parse(await readBody(ctx, 8 * 1024)) as { client_user_metadata?: unknown }).client_user_metadata;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value.length > MAX_CLIENT_USER_METADATA) {
    ctx.status = 400;
    const description = `body must be JSON {"client_user_metadata": string of at most ${MAX_CLIENT_USER_METADATA} characters}`;
    ctx.body = { error: 'invalid_request', error_description: description };
    return { error: 'invalid_request', description };
  }
  await setClientUserMetadata(d.db, d.config.name, at.clientId!, at.accountId!, value);
  ctx.status = 204;
  return undefined;
}

/**
 * Before the engine sees /userinfo: a JWT access token becomes the engine's handle; one that is not ours is refused
 * here, and PATCH is answered here (the engine has no PATCH /userinfo). Returns whether the request is answered.
 */
export async function unwrapUserinfo(ctx: KoaContextWithOIDC, d: ProfileDeps): Promise<boolean> {
  const token = bearer(ctx);
  const handle = token ? await d.codec.unwrap(token) : undefined;
  if (token && !handle) {
    recordExchange(ctx, d, 'userinfo', invalidToken(ctx, 'access token signature, issuer or format is invalid'), undefined);
    return true;
  }
  if (ctx.method === 'PATCH') {
    const who: { clientId?: string; sub?: string } = {};
    const failed = handle
      ? await patch(ctx, d, handle, who)
      : invalidToken(ctx, 'no access token: send Authorization: Bearer <access token>');
    const common = {
      env: d.config.name,
      clientId: who.clientId,
      kind: 'userinfo_patch',
      person: who.sub,
      details: { status: ctx.status },
    } as const;
    d.events.record(
      failed
        ? { ...common, outcome: 'error', error: failed.error, cause: failed.cause, description: failed.description }
        : { ...common, outcome: 'ok' },
    );
    return true;
  }
  if (handle) ctx.req.headers.authorization = `Bearer ${handle}`;
  profileState(ctx).userinfoHandle = handle;
  return false;
}

/**
 * A suspended client's tokens stop working at once, not only when they expire. The engine has just read the client
 * for this token; its claims are replaced before anything is sent.
 */
export const refuseSuspendedClient: Step = (ctx) => {
  if (ctx.status !== 200 || nhsClient(ctx.oidc.client)?.status !== 'suspended') return;
  invalidToken(ctx, 'the client this token was issued to is suspended by the NHS login team');
  profileState(ctx).refusal = { error: 'invalid_token', cause: 'client_suspended', description: 'client suspended' };
};
