/**
 * The NHS profile around the engine, as Koa middleware: JWT access tokens, PATCH /userinfo, the discovery
 * document's shape, no RFC 9207 `iss`, no-store token responses, faults, and the protocol record. Each concern is
 * one step (steps/*.ts), composed here per endpoint, as oidc-provider composes its lib/actions.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { EnvironmentConfig } from '../config/index.ts';
import type { Db, EventSink } from '../storage/index.ts';
import type { AccessTokenCodec } from './access-token.ts';
import type { ProfileDeps, Step } from './steps/context.ts';
import { nhsDiscovery, stripIss } from './steps/discovery.ts';
import { injectFault, spoilAuthorizationState } from './steps/faults.ts';
import { recordAs } from './steps/record.ts';
import { publishRunKeys, trackRun } from './steps/run.ts';
import { answerJwtBearer, answerNoClientAuthentication, explainRefreshRefusal, noStore, shapeIssuedTokens } from './steps/token.ts';
import { refuseSuspendedClient, unwrapUserinfo } from './steps/userinfo.ts';

export interface OidcError {
  error?: string;
  error_description?: string;
  error_detail?: string;
}

/** The steps after the engine has answered, per route (the engine's route names); other routes are left as they are. */
const AFTER: Record<string, Step[]> = {
  authorization: [trackRun, stripIss, spoilAuthorizationState, recordAs('authorize')],
  resume: [trackRun, stripIss, spoilAuthorizationState, recordAs('authorize')],
  token: [
    answerJwtBearer, answerNoClientAuthentication, explainRefreshRefusal, trackRun, shapeIssuedTokens, noStore, injectFault('token'),
    recordAs('token'),
  ],
  userinfo: [refuseSuspendedClient, trackRun, injectFault('userinfo'), recordAs('userinfo')],
  jwks: [publishRunKeys],
  discovery: [nhsDiscovery],
};

/** NHS profile around the engine: JWT access tokens, PATCH /userinfo, discovery shape, the protocol record. */
export function profileMiddleware(
  provider: Provider,
  codec: AccessTokenCodec,
  config: EnvironmentConfig,
  db: Db,
  events: EventSink,
  signingKey: JWK,
) {
  const d: ProfileDeps = { provider, codec, config, db, events, signingKey };
  return async (koaCtx: unknown, next: () => Promise<void>) => {
    const ctx = koaCtx as KoaContextWithOIDC;
    try {
      // Before the engine: only /userinfo has steps, and they may answer it themselves.
      if (ctx.path === '/userinfo' && (await unwrapUserinfo(ctx, d))) return;
      await next();
      for (const step of AFTER[ctx.oidc?.route ?? ''] ?? []) await step(ctx, d);
    } finally {
      // The engine sends the response once this returns: what was recorded of the exchange is written first, so a
      // client never holds a token whose entry a crash could lose (storage/events.ts).
      await events.flush();
    }
  };
}
