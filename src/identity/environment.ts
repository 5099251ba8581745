/**
 * One NHS login environment (sandpit, integration or live): its OpenID Provider with the NHS profile, its
 * keys, and the profile middleware (profile.ts) that writes every protocol exchange to the protocol record.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { EnvironmentConfig } from '../config/index.ts';
import { kvGet, kvPutIfAbsent, type Db, type EventSink } from '../storage/index.ts';
import { createAccessTokenCodec, type AccessTokenCodec } from './access-token.ts';
import { loadSigningKeys } from './keys.ts';
import { createProvider } from './provider.ts';
import { profileMiddleware, type OidcError } from './profile.ts';
import { classify } from './refusals.ts';
import { profileState } from './steps/context.ts';

export interface Environment {
  config: EnvironmentConfig;
  readonly provider: Provider;
  readonly codec: AccessTokenCodec;
  /** Hands a request whose URL is relative to the issuer to the OpenID Provider. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Loads the signing keys again; when their rotation state changed, the engine is rebuilt with them. */
  refreshKeys(): Promise<boolean>;
}

/** Cookie signing keys are shared by every instance, so they live in the database (the first written wins). */
async function cookieKeys(db: Db, env: string): Promise<string[]> {
  return (await kvGet<string[]>(db, 'cookie-keys', env)) ?? kvPutIfAbsent(db, 'cookie-keys', env, [randomBytes(32).toString('base64url')]);
}


export async function createEnvironment(
  config: EnvironmentConfig,
  db: Db,
  events: EventSink,
  renderErrorPage: (out: OidcError) => string,
  log: { error(obj: object, msg: string): void },
): Promise<Environment> {
  const cookies = await cookieKeys(db, config.name);

  const assemble = async (keys: JWK[]) => {
    const provider = createProvider({ env: config, db, events, keys, cookieKeys: cookies, renderErrorPage });
    const codec = await createAccessTokenCodec(config, keys);
    for (const name of ['authorization.error', 'grant.error', 'userinfo.error', 'server_error']) {
      // Classified here, once, into the record's closed codes: nothing after reads the engine's wording.
      (provider.on as (event: string, listener: (ctx: KoaContextWithOIDC, err: unknown) => void) => void)(name, (ctx, err) => {
        profileState(ctx).refusal = classify(err);
      });
    }
    provider.on('server_error', (_ctx: unknown, err: Error) => log.error({ err, env: config.name }, 'OpenID Provider server error'));
    provider.use(profileMiddleware(provider, codec, config, db, events, keys[0]!));
    return { provider, codec, callback: provider.callback(), fingerprint: keys.map((k) => k.kid).join(' ') };
  };

  let current = await assemble(await loadSigningKeys(db, config.name));
  return {
    config,
    get provider() {
      return current.provider;
    },
    get codec() {
      return current.codec;
    },
    handle: (req, res) => current.callback(req, res) as unknown as Promise<void>,
    async refreshKeys() {
      const keys = await loadSigningKeys(db, config.name);
      if (keys.map((k) => k.kid).join(' ') === current.fingerprint) return false;
      // Every instance picks the rotation up from the database; state lives there, so swapping the engine
      // instance loses nothing (sessions, interactions and tokens are all stored).
      current = await assemble(keys);
      return true;
    },
  };
}

