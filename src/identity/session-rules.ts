/**
 * Session rules (session-management.md, A: standalone web applications): "The user must complete a full authentication
 * journey after 30 minutes of inactivity within the application [and] after 12 hours of continuous usage." NHS login has
 * no session management for the service, so what an environment can enforce honestly is what it issues: a refresh token
 * lives the client's idle limit from the moment it was issued (each refresh rotates it, so it is the time since the
 * service last refreshed), and never past the absolute limit counted from the person's authentication (`auth_time`).
 * A service that keeps a person signed in past either limit with refresh tokens is then told `invalid_grant`.
 *
 * Choice where the guidance is silent: it states the limits as the service's duty and says nothing of refresh tokens;
 * enforcing them on refresh tokens is this toolkit's, in every environment, with the documented limits (integration and
 * live never shorter or longer). The sandpit alone lets a partner shorten them per client so a test takes minutes.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { NhsClient } from './steps/context.ts';
import { capabilitiesOf } from '../config/index.ts';
import { ToolkitError } from '../errors.ts';
import { updateClient, type Db } from '../storage/index.ts';

export const SESSION_IDLE_S = 30 * 60;
export const SESSION_ABSOLUTE_S = 12 * 3600;
/** What the sandpit accepts (a minute to test idleness, two to see the absolute limit end an active session). */
export const SESSION_BOUNDS = {
  idle: { min: 60, max: SESSION_IDLE_S },
  absolute: { min: 120, max: SESSION_ABSOLUTE_S },
} as const;

const epoch = () => Math.floor(Date.now() / 1000);

/** Seconds of the person's session left under the client's absolute limit (negative once past it). */
export function absoluteLeft(c: NhsClient | undefined, authTime: number | undefined): number {
  const limit = c?.sessionAbsoluteS ?? SESSION_ABSOLUTE_S;
  return (authTime ?? epoch()) + limit - epoch();
}

/**
 * The engine's `ttl.RefreshToken`: the idle limit, cut to what is left of the absolute one, and never more than the
 * engine's ceiling. The engine calls it with the token it is about to issue (a first one or a rotated one).
 */
export function refreshTokenTtl(ceilingS: number, read: (client: unknown) => NhsClient | undefined) {
  return (_ctx: KoaContextWithOIDC | undefined, token: { authTime?: number }, client: unknown): number => {
    const c = read(client);
    return Math.max(1, Math.min(ceilingS, c?.sessionIdleS ?? SESSION_IDLE_S, absoluteLeft(c, token.authTime)));
  };
}

/** The engine's `issueRefreshToken`: none once the person's session is past the client's absolute limit. */
export function withinAbsoluteLimit(c: NhsClient | undefined, code: { authTime?: number } | undefined): boolean {
  return absoluteLeft(c, code?.authTime) > 0;
}

/** Why a refresh token is refused, in the client's own limits (steps/token.ts adds it to the engine's `invalid_grant`). */
export function refreshRefusalHint(c: NhsClient | undefined): string {
  const idle = c?.sessionIdleS ?? SESSION_IDLE_S;
  const absolute = c?.sessionAbsoluteS ?? SESSION_ABSOLUTE_S;
  return `a refresh token is refused once it was used, ${duration(idle)} after it was issued (this client's idle limit), or `
    + `${duration(absolute)} after the person authenticated (its absolute limit): send the person through a full authentication `
    + '(session-management.md, A)';
}

export function duration(s: number): string {
  if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? '' : 's'}`;
  if (s % 60 === 0) return `${s / 60} minute${s === 60 ? '' : 's'}`;
  return `${s} seconds`;
}

export class SessionRulesError extends ToolkitError<'invalid_session_rules'> {
  override name = 'SessionRulesError';
  constructor(message: string, field = 'idle_minutes') {
    super('invalid_session_rules', message, field);
  }
}

/**
 * A partner shortens a client's session limits, in minutes (null: the documented limit). The sandpit only: integration
 * keeps live's limits (config/capabilities.ts `shortSessions`). Checked here, for every face.
 */
export async function setSessionRules(
  db: Db,
  env: string,
  clientId: string,
  rules: { idleMinutes: unknown; absoluteMinutes: unknown },
): Promise<void> {
  if (!capabilitiesOf(env)?.shortSessions) throw new SessionRulesError(`session limits can be shortened in the sandpit only, not ${env}`);
  const minutes = (v: unknown, field: string, b: { min: number; max: number }) => {
    if (v === null || v === undefined || v === '') return null;
    const n = typeof v === 'string' && /^\d{1,4}$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n * 60 < b.min || n * 60 > b.max)
      throw new SessionRulesError(`Enter a whole number of minutes from ${b.min / 60} to ${b.max / 60}`, field);
    return n * 60 === b.max ? null : n * 60;
  };
  const idle = minutes(rules.idleMinutes, 'idle_minutes', SESSION_BOUNDS.idle);
  const absolute = minutes(rules.absoluteMinutes, 'absolute_minutes', SESSION_BOUNDS.absolute);
  await updateClient(db, env, clientId, { sessionIdleS: idle, sessionAbsoluteS: absolute });
}
