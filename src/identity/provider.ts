/**
 * One oidc-provider instance configured to NHS login's profile rather than the engine's defaults
 * (NHS login interface spec §1). Everything environment-specific comes in through `ProviderDeps`.
 */
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { EnvironmentConfig } from '../config/index.ts';
import { findPerson, oidcAdapterFactory, type Db, type EventSink, type PersonRow } from '../storage/index.ts';
import { CLAIMS_BY_SCOPE, SCOPES, personClaims } from './claims.ts';
import { DEFAULT_VTR, matchVector, parseVtr, VtrError } from './vectors.ts';
import { getClientUserMetadata } from './client-user-metadata.ts';
import { applyAssertedLoginIdentity, remoteKeySets, type RemoteKeySets } from './sso.ts';
import { browserMark, MARK_COOKIE } from './run-marks.ts';
import { cookieSigner } from '../security/cookie-signer.ts';
import { because } from './refusals.ts';
import { nhsClient, profileState } from './steps/context.ts';
import { refreshTokenTtl, SPEC_REFRESH_TOKEN_S, withinAbsoluteLimit } from './session-rules.ts';
import { GRANT_PARAMS, JWT_BEARER, jwtBearerGrant } from './users-v2/grant.ts';
import { clientCredentialsGrant } from './provision/grant.ts';

export interface ProviderDeps {
  env: EnvironmentConfig;
  db: Db;
  events: EventSink;
  keys: JWK[];
  cookieKeys: string[];
  /** Renders the NHS-style error page (unknown client, unregistered redirect URI, ...). */
  renderErrorPage(out: { error: string; error_description?: string | undefined }): string;
}

export const TTL = {
  AuthorizationCode: 600,
  IdToken: 3600,
  AccessToken: 300,
  RefreshToken: SPEC_REFRESH_TOKEN_S,
  Interaction: 3600,
  Session: 12 * 3600,
  Grant: 30 * 24 * 3600,
  /** Users Endpoint V2's and Provision Account's tokens (U§3.1 step 9, §3.2.3 Table 2; P§3.1 step 9: `expires_in` 300). */
  ClientCredentials: 300,
};

/** How far the engine lets a relying party's clock be from ours, for the JWTs it sends (client assertions). */
export const CLOCK_TOLERANCE_S = 5;
/**
 * The longest life of a client assertion. RFC 7523 §3: the server may refuse an `exp` unreasonably far in the
 * future (and an `iat` unreasonably far in the past). NHS login's interface spec (Token Request) defers to RFC 7523
 * and names no bound for the client assertion; for its other client-signed assertion, `asserted_login_identity`, it
 * requires an `exp` at most 60 seconds ahead. An assertion is made for one request, so 5 minutes leaves any client
 * library room (openid-client makes them for 60 s) while one dated an hour ahead or valid for ten years is refused,
 * and its single-use marker (kept until `exp`) no longer lives for years.
 */
export const MAX_ASSERTION_LIFETIME_S = 300;

/** Parameters NHS login does not support; refused rather than silently honoured. */
const UNSUPPORTED_PARAMS = ['max_age', 'ui_locales', 'id_token_hint', 'login_hint', 'acr_values', 'request', 'request_uri', 'claims'];

export function trustmarkUrl(env: EnvironmentConfig): string {
  return `${env.issuer}/trustmark/${env.host}`;
}

function requireParam(ctx: KoaContextWithOIDC, name: string) {
  const v = ctx.oidc.params?.[name];
  if (typeof v !== 'string' || v === '')
    throw because('state_nonce_missing', new errors.InvalidRequest(`missing required parameter '${name}'`));
}

/**
 * NHS profile checks on /authorize. oidc-provider runs extraParams validators after it has verified the
 * client and the redirect_uri, so errors raised here are safely redirected back to the relying party.
 */
const checkAuthorizationProfile = (deps: ProviderDeps, remoteKeys: RemoteKeySets) => async (ctx: KoaContextWithOIDC, vtr: unknown) => {
  requireParam(ctx, 'state');
  requireParam(ctx, 'nonce'); // iGov profile: nonce is mandatory for NHS login.
  const p = ctx.oidc.params!;
  const client = ctx.oidc.client!;
  if (p.response_mode !== undefined && p.response_mode !== 'query') {
    p.response_mode = undefined; // answer in the query, the only mode NHS login has
    throw because('response_mode', new errors.InvalidRequest('NHS login only supports response_mode=query'));
  }
  for (const name of UNSUPPORTED_PARAMS) {
    // The engine drops parameters of features that are off (e.g. `claims`) before this runs: look at the query too.
    if (p[name] !== undefined || ctx.query?.[name] !== undefined)
      throw because('unsupported_parameter', new errors.RequestNotSupported(`${name} is not supported by NHS login`));
  }
  const scopes = String(p.scope ?? '').split(' ');
  if (scopes.includes('profile') && scopes.includes('basic_demographics')) {
    throw new errors.InvalidScope('profile and basic_demographics cannot be requested together', 'profile basic_demographics');
  }
  if (p.display !== undefined && p.display !== 'page' && p.display !== 'touch') {
    throw new errors.InvalidRequest('display must be page or touch');
  }
  // A conformance run's test of invalid_scope handling: only requests from the run's own browser.
  const mark = await browserMark(deps.db, deps.env.name, ctx.cookies.get(MARK_COOKIE, { signed: false }));
  if (mark) profileState(ctx).runMark = mark; // read once: the protocol record tags the request with it (steps/record.ts)
  if (mark?.fault === 'authorize_invalid_scope') {
    const scope = String(p.scope ?? '').split(' ').find((s) => s !== 'openid') ?? 'openid';
    throw because('fault_injected', new errors.InvalidScope('injected fault (conformance run): a scope this service may not use', scope));
  }
  // RFC 6749 §4.1.2.1: the server's own failures, returned to the redirect URI like any other error.
  if (mark?.fault === 'authorize_temporarily_unavailable')
    throw because('fault_injected', new errors.TemporarilyUnavailable('injected fault (conformance run): try again later'));
  if (mark?.fault === 'authorize_server_error')
    throw because('fault_injected', new errors.CustomOIDCProviderError('server_error', 'injected fault (conformance run)'));
  if (nhsClient(client)?.status === 'suspended') {
    throw because('client_suspended', new errors.UnauthorizedClient('this client is suspended by the NHS login team'));
  }
  const registered: string[] = nhsClient(client)?.vtr ?? [];
  if (vtr === undefined || vtr === '') {
    // No vtr means NHS login's default array; keep the default vectors this client is registered for, and
    // pin the result in the request so the journey and the ID token's vot use the same vectors.
    const defaults = DEFAULT_VTR.filter((v) => registered.includes(v));
    const none = `no vtr was sent and this client is not registered for any default vector ${JSON.stringify(DEFAULT_VTR)}`;
    if (!defaults.length) throw because('vtr', new errors.InvalidRequest(none));
    p.vtr = JSON.stringify(defaults);
    profileState(ctx).vtrDefaulted = true; // for the protocol record: the relying party sent no vtr
  } else {
    let requested;
    try {
      requested = parseVtr(vtr as string);
    } catch (e) {
      if (e instanceof VtrError) throw because('vtr', new errors.InvalidRequest(e.message));
      throw e;
    }
    const unregistered = requested.filter((v) => !registered.includes(v.value)).map((v) => v.value);
    if (unregistered.length) {
      const listed = `vtr ${JSON.stringify(unregistered)} is not registered for this client (registered: ${JSON.stringify(registered)})`;
      throw because('vtr', new errors.InvalidRequest(listed));
    }
  }
  if (typeof p.asserted_login_identity === 'string' && p.asserted_login_identity) {
    const injected = mark?.fault === 'authorize_sso_refused';
    await applyAssertedLoginIdentity(ctx, deps.db, deps.env, p.asserted_login_identity, remoteKeys, injected);
  }
};

/** One read of the person per request, shared by the vtr check and the account's claims. */
const requestPeople = new WeakMap<object, { sub: string; person: PersonRow | undefined }>();
async function personFor(ctx: KoaContextWithOIDC, deps: ProviderDeps, sub: string): Promise<PersonRow | undefined> {
  const cached = requestPeople.get(ctx);
  if (cached?.sub === sub) return cached.person;
  const person = await findPerson(deps.db, deps.env.name, sub);
  requestPeople.set(ctx, { sub, person });
  return person;
}

function buildPolicy(deps: ProviderDeps) {
  const base = interactionPolicy.base();
  const login = base.get('login')!;
  // prompt=none without a session is NHS login's `sso_login_required`, not OIDC's `login_required`.
  login.checks.remove('no_session');
  login.checks.add(
    new interactionPolicy.Check('no_session', 'no NHS login session', 'sso_login_required', (ctx) =>
      ctx.oidc.session!.accountId ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
    0,
  );
  login.checks.add(
    new interactionPolicy.Check(
      'vtr_not_met',
      'the session does not meet the requested vector of trust',
      'sso_login_required',
      async (ctx) => {
        const session = ctx.oidc.session!;
        if (!session.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const person = await personFor(ctx, deps, session.accountId);
        if (!person) return interactionPolicy.Check.REQUEST_PROMPT;
        const match = matchVector(parseVtr(ctx.oidc.params!.vtr as string | undefined), {
          level: person.proofing_level,
          credentials: session.amr ?? [],
        });
        if (!match) return interactionPolicy.Check.REQUEST_PROMPT;
        // The session holds the last vector achieved; single sign-on for a different request re-derives it so
        // that the code (and the ID token's `vot`) carries the vector this request asked for.
        if (!ctx.oidc.result?.login && session.acr !== match.value) session.acr = match.value;
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  return base;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { env, db } = deps;
  const configuration: Configuration = {
    adapter: oidcAdapterFactory(db, env.name) as unknown as Configuration['adapter'],
    jwks: { keys: deps.keys as never },
    cookies: {
      keys: cookieSigner(deps.cookieKeys),
      names: { session: `_nhsl_${env.name}`, interaction: `_nhsl_${env.name}_i`, resume: `_nhsl_${env.name}_r` },
    },
    routes: { authorization: '/authorize', token: '/token', userinfo: '/userinfo', jwks: '/.well-known/jwks.json' },
    scopes: [...SCOPES],
    claims: CLAIMS_BY_SCOPE,
    responseTypes: ['code'],
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS512'],
      idTokenSigningAlgValues: ['RS512'],
      requestObjectSigningAlgValues: ['RS512'],
      userinfoSigningAlgValues: ['RS512'],
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'RS512',
    },
    extraClientMetadata: {
      properties: ['nhs_vtr', 'nhs_im1', 'nhs_sso_to', 'nhs_status', 'nhs_fault', 'nhs_conformance_until', 'nhs_users_v2',
        'nhs_provisioning', 'nhs_session_idle', 'nhs_session_absolute'],
    },
    extraParams: {
      vtr: checkAuthorizationProfile(deps, remoteKeySets(env.name)),
      asserted_login_identity: null,
      allow_registration: null,
      fido_auth_response: null,
    } as never,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      revocation: { enabled: false },
      introspection: { enabled: false },
      registration: { enabled: false },
      claimsParameter: { enabled: false },
      userinfo: { enabled: true },
      dPoP: { enabled: false },
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    // PKCE: accepted (S256) when sent, never required (interface facts: "uncertain", RP-friendly choice).
    pkce: { required: () => false },
    // None once the person authenticated longer ago than the client's absolute session limit, where it set one (session-rules.ts).
    issueRefreshToken: async (_ctx, client, code) => withinAbsoluteLimit(nhsClient(client), code as { authTime?: number }),
    // NHS login has no logout: the relying party owns its session, so tokens outlive the NHS login session.
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
    conformIdTokenClaims: false,
    clockTolerance: CLOCK_TOLERANCE_S,
    // A refresh token lives 30 days, or a sandpit client's idle limit, never past its absolute one (session-rules.ts).
    ttl: { ...TTL, RefreshToken: refreshTokenTtl(TTL.RefreshToken, nhsClient) as never },
    // The engine replaces a token's `extra` with what this returns: keep the grant's own marker (provision/grant.ts).
    extraTokenClaims: async (_ctx, token) =>
      token.kind === 'ClientCredentials' ? (token as { extra?: Record<string, unknown> }).extra : undefined,
    // RFC 7523 §3 as profiled by NHS login: iss = sub = client_id, aud = the token endpoint URL.
    async assertJwtClientAuthClaimsAndHeader(ctx, claims) {
      // The NHS login team's client administration: a suspended client, or one asked to rotate its key, cannot
      // get tokens (so it cannot refresh them either).
      const status = nhsClient(ctx.oidc.client)?.status;
      const refuse = (description: string) => Object.assign(new errors.InvalidClientAuth(description), { error_description: description });
      if (status === 'suspended') throw because('client_suspended', refuse('this client is suspended by the NHS login team'));
      if (status === 'rotate_key')
        throw refuse(
          'the NHS login team asked you to register a new public key for this client: register it, then sign with its private key',
        );
      if (claims.sub !== ctx.oidc.client!.clientId) {
        throw because('assertion_subject', new errors.InvalidClientAuth('sub (JWT subject) must be the client_id'));
      }
      const tokenEndpoint = `${env.issuer}/token`;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(tokenEndpoint)) {
        const detail = `client assertion aud was ${JSON.stringify(claims.aud)}, expected the token endpoint ${tokenEndpoint}`;
        throw because('assertion_audience', new errors.InvalidClientAuth(detail));
      }
      // The engine has checked exp (and iat, nbf) are numbers and exp has not passed; it checks iat only when exp is
      // absent, so an assertion dated in the future, or valid for years, got through (RFC 7523 §3, see above).
      const now = Math.floor(Date.now() / 1000);
      const { iat, exp } = claims as { iat?: number; exp: number };
      if (iat !== undefined && iat > now + CLOCK_TOLERANCE_S) {
        const ahead = `client assertion iat is ${iat - now} s ahead of our clock (at most ${CLOCK_TOLERANCE_S} s)`;
        throw because('assertion_lifetime', new errors.InvalidClientAuth(ahead));
      }
      // Counted from iat (which is at most the tolerance ahead), or from now when the assertion has none.
      if (exp - (iat ?? now) > MAX_ASSERTION_LIFETIME_S) {
        const life = iat !== undefined ? `exp is ${exp - iat} s after iat` : `exp is ${exp - now} s from now and there is no iat`;
        const long = `client assertion must expire within ${MAX_ASSERTION_LIFETIME_S} s of being issued: ${life}`;
        throw because('assertion_lifetime', new errors.InvalidClientAuth(long));
      }
    },
    async findAccount(ctx, sub, token) {
      const person = await personFor(ctx, deps, sub);
      if (!person) return undefined;
      const client = ctx.oidc.client;
      return {
        accountId: sub,
        async claims(use) {
          const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken ?? token) as { acr?: string } | undefined;
          const scopes = String(ctx.oidc.params?.scope ?? (token as { scope?: string } | undefined)?.scope ?? '');
          return {
            sub,
            ...personClaims(use as 'id_token' | 'userinfo', {
              env: env.name,
              person,
              vot: source?.acr,
              vtm: trustmarkUrl(env),
              clientIm1: Boolean(nhsClient(client)?.im1),
              clientUserMetadata:
                client && use === 'userinfo' && scopes.includes('client_metadata')
                  ? await getClientUserMetadata(db, env.name, client.clientId, sub)
                  : undefined,
            }),
          };
        },
      };
    },
    interactions: {
      url: (_ctx, interaction) => `${env.mountPath}/interaction/${interaction.uid}`,
      policy: buildPolicy(deps),
    },
    discovery: {
      // No fido_uaf_* endpoints: FIDO UAF (Federation spec §6) is for native apps with a UAF client and UAFV1TLV
      // assertions, which the toolkit does not implement; advertising endpoints that answer 404 misleads a partner
      // (issue 15 §5). README "Known differences" says so.
      vtr_supported: ['P0.Cp', 'P0.Cp.Cd', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'],
      trustmark: trustmarkUrl(env),
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = deps.renderErrorPage(out);
    },
  };
  const provider = new Provider(env.issuer, configuration);
  provider.proxy = true;
  provider.registerGrantType(JWT_BEARER, jwtBearerGrant(env.name), GRANT_PARAMS);
  // No parameters of its own: P§3.2.1 T1 has no `scope`, so one sent is not read (brief §4).
  provider.registerGrantType('client_credentials', clientCredentialsGrant, []);
  return provider;
}
