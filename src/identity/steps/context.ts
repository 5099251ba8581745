/**
 * What the profile's steps (this folder, composed per endpoint by ../profile.ts, as oidc-provider composes its
 * lib/actions) share: their dependencies, the request's typed state, and a typed view of our client extensions.
 */
import { hash } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { EnvironmentConfig } from '../../config/index.ts';
import type { Db, EventSink, ExchangeFailure } from '../../storage/index.ts';
import type { AccessTokenCodec } from '../access-token.ts';
import type { RunMark } from '../run-marks.ts';

export interface ProfileDeps {
  provider: Provider;
  codec: AccessTokenCodec;
  config: EnvironmentConfig;
  db: Db;
  events: EventSink;
  signingKey: JWK;
}

/** One step of the profile around an endpoint; it reads and changes the engine's context. */
export type Step = (ctx: KoaContextWithOIDC, d: ProfileDeps) => Promise<void> | void;

/** What the engine's hooks (provider.ts, environment.ts) and the steps leave for the steps after them. */
export interface ProfileState {
  /** How the exchange failed, classified where it was caught (refusals.ts). */
  refusal?: ExchangeFailure | undefined;
  /** The conformance run the request belongs to (run-marks.ts). */
  runMark?: RunMark | undefined;
  /** The opaque handle inside a userinfo request's JWT access token. */
  userinfoHandle?: string | undefined;
  /** The relying party sent no vtr, so the client's default vectors were used. */
  vtrDefaulted?: boolean | undefined;
  /** The service whose asserted_login_identity signed the person in (sso.ts): its client id, `nhs-app` for the NHS App. */
  ssoFrom?: string | undefined;
}

/** The request's state, typed (the engine's ctx.state is an untyped bag shared with Koa). */
export const profileState = (ctx: { state: unknown }): ProfileState => ctx.state as ProfileState;

/** Our client metadata extensions (provider.ts's extraClientMetadata), as the engine's client carries them. */
export interface NhsClient {
  clientId: string;
  /** Set by the NHS login team: a suspended client's tokens stop working; rotate_key refuses new tokens. */
  status: string | undefined;
  vtr: string[];
  im1: boolean;
  /** The services this client may assert its signed-in person to (single sign-on). */
  ssoTo: string[];
  /** A fault the partner armed for the client's next responses (faults.ts). */
  fault: string | null | undefined;
  /** Until when a conformance run drives this client (run-marks.ts). */
  conformanceUntil: number | null | undefined;
  /** The OIDC scopes the team approved. */
  scopes: string[];
  /** Approved for Users Endpoint V2 (users-v2/). */
  usersV2: boolean;
  /** Approved for Provision Account (provision/). */
  provisioning: boolean;
  /** Its session rules in seconds, the documented ones unless shortened in the sandpit (session-rules.ts). */
  /** A sandpit client's session limits (session-rules.ts); null where it set none. */
  sessionIdleS: number | null;
  sessionAbsoluteS: number | null;
}

interface StoredExtensions {
  clientId: string;
  nhs_status?: string;
  nhs_vtr?: string[];
  nhs_im1?: boolean;
  nhs_sso_to?: string[];
  nhs_fault?: string | null;
  nhs_conformance_until?: number | null;
  nhs_users_v2?: boolean;
  nhs_provisioning?: boolean;
  nhs_session_idle?: number | null;
  nhs_session_absolute?: number | null;
  scope?: string;
}

/** The engine's client with our extensions read once, in one place. */
export function nhsClient(client: unknown): NhsClient | undefined {
  if (!client) return undefined;
  const c = client as StoredExtensions;
  return {
    clientId: c.clientId,
    status: c.nhs_status,
    vtr: c.nhs_vtr ?? [],
    im1: Boolean(c.nhs_im1),
    ssoTo: c.nhs_sso_to ?? [],
    fault: c.nhs_fault,
    conformanceUntil: c.nhs_conformance_until,
    scopes: (c.scope ?? '').split(' ').filter(Boolean),
    usersV2: Boolean(c.nhs_users_v2),
    provisioning: Boolean(c.nhs_provisioning),
    sessionIdleS: c.nhs_session_idle ?? null,
    sessionAbsoluteS: c.nhs_session_absolute ?? null,
  };
}

/** A reference to a code or token that names it in the record and in run marks without storing it. */
export function codeRef(code: string): string {
  return hash('sha256', code, 'base64url').slice(0, 16);
}
