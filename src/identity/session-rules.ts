/**
 * Session rules (session-management.md, A: standalone web applications): "The user must complete a full authentication
 * journey after 30 minutes of inactivity within the application [and] after 12 hours of continuous usage." They are the
 * service's duty: NHS login's own refresh token lives 30 days (Federation spec, Table 18), which is also what a mobile
 * app with user-to-app authentication needs (session-management.md, B: a full authentication every 30 days). So every
 * environment keeps the specification's 30 days, and a partner who wants to see its service meet the rules in minutes
 * sets limits on a sandpit client: then a refresh token lives the idle limit from the moment it was issued (each refresh
 * rotates it, so it is the time since the service last refreshed), never past the absolute limit counted from the
 * person's authentication (`auth_time`), and a service that keeps a person signed in past either is told `invalid_grant`.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { NhsClient } from './steps/context.ts';
import { capabilitiesOf } from '../config/index.ts';
import { ToolkitError } from '../errors.ts';
import { updateClient, type Db } from '../storage/index.ts';

/** NHS login's refresh token lifetime (Federation spec, Table 18): 30 days. */
export const SPEC_REFRESH_TOKEN_S = 30 * 24 * 3600;
export const SESSION_IDLE_S = 30 * 60;
export const SESSION_ABSOLUTE_S = 12 * 3600;
/** What the sandpit accepts (a minute to test idleness, two to see the absolute limit end an active session). */
export const SESSION_BOUNDS = {
  idle: { min: 60, max: SESSION_IDLE_S },
  absolute: { min: 120, max: SESSION_ABSOLUTE_S },
} as const;

const epoch = () => Math.floor(Date.now() / 1000);

/** Seconds of the person's session left under the client's absolute limit (negative once past it); Infinity without one. */
export function absoluteLeft(c: NhsClient | undefined, authTime: number | undefined): number {
  if (!c?.sessionAbsoluteS) return Number.POSITIVE_INFINITY;
  return (authTime ?? epoch()) + c.sessionAbsoluteS - epoch();
}

/**
 * The engine's `ttl.RefreshToken`: the specification's lifetime (the ceiling), or the client's idle limit cut to what is
 * left of its absolute one. The engine calls it with the token it is about to issue (a first one or a rotated one).
 */
export function refreshTokenTtl(ceilingS: number, read: (client: unknown) => NhsClient | undefined) {
  return (_ctx: KoaContextWithOIDC | undefined, token: { authTime?: number }, client: unknown): number => {
    const c = read(client);
    return Math.max(1, Math.min(ceilingS, c?.sessionIdleS ?? ceilingS, absoluteLeft(c, token.authTime)));
  };
}

/** The engine's `issueRefreshToken`: none once the person's session is past the client's absolute limit. */
export function withinAbsoluteLimit(c: NhsClient | undefined, code: { authTime?: number } | undefined): boolean {
  return absoluteLeft(c, code?.authTime) > 0;
}

/**
 * Why a refresh token is refused, in the client's own limits (steps/token.ts adds it to the engine's `invalid_grant`).
 * `ceilingS` is the specification's lifetime, which applies where the client set no limit.
 */
export function refreshRefusalHint(c: NhsClient | undefined, ceilingS = SPEC_REFRESH_TOKEN_S): string {
  const idle = c?.sessionIdleS ? `${duration(c.sessionIdleS)} after it was issued (this client's idle limit)`
    : `${duration(ceilingS)} after it was issued`;
  const absolute = c?.sessionAbsoluteS ? `, or ${duration(c.sessionAbsoluteS)} after the person authenticated (its absolute limit)` : '';
  return `a refresh token is refused once it was used, ${idle}${absolute}: send the person through a full authentication `
    + '(session-management.md)';
}

export function duration(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400} day${s === 86_400 ? '' : 's'}`;
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
 * A partner sets a client's session limits, in minutes, up to the documented 30 minutes and 12 hours (null: none, the
 * specification's refresh token). The sandpit only: integration keeps live's lifetimes (config/capabilities.ts
 * `shortSessions`). Checked here, for every face.
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
    return n * 60;
  };
  const idle = minutes(rules.idleMinutes, 'idle_minutes', SESSION_BOUNDS.idle);
  const absolute = minutes(rules.absoluteMinutes, 'absolute_minutes', SESSION_BOUNDS.absolute);
  await updateClient(db, env, clientId, { sessionIdleS: idle, sessionAbsoluteS: absolute });
}
