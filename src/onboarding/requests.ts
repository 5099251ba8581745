/**
 * Requests for the next environment: integration (after discovery) and live (go-live). Each needs its gate's
 * computed criteria met; the form says exactly which are missing. The team decides (gates.ts); once a request
 * is approved the partner registers clients in that environment — live clients only through an approved request.
 */
import { randomUUID } from 'node:crypto';
import { capabilitiesOf } from '../config/index.ts';
import type { Db } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';
import { getApplication } from './applications.ts';
import { SCOPES } from '../identity/claims.ts';
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { GATE_OF_ENV, type RequestedEnv } from './lifecycle.ts';
import { approved, readiness, type Criterion } from './readiness.ts';

export type { RequestedEnv } from './lifecycle.ts';

/** Whether `env` is reached by a request the team approves (integration, live), not open to every partner. */
export function isRequestedEnv(env: unknown): env is RequestedEnv {
  return typeof env === 'string' && capabilitiesOf(env)?.access === 'request';
}

export function environmentReadiness(db: Db, organisationId: string, env: RequestedEnv): Promise<Criterion[]> {
  return readiness(db, organisationId, GATE_OF_ENV[env]);
}

export async function requestEnvironment(db: Db, organisationId: string, userId: string, env: RequestedEnv): Promise<string> {
  const missing = (await environmentReadiness(db, organisationId, env)).filter((c) => !c.met);
  // Only a leading article is lowered: names keep their capitals (NHS, Data Security and Protection Toolkit).
  const missed = missing.map((m) => m.label.replace(/^(The|A|An) /, (a) => a.toLowerCase()));
  if (missing.length) throw new OnboardingError('not_ready', `Not yet: ${missed.join('; ')}`);
  // One open request at a time: a pending or approved one stands; after changes or a rejection, ask again.
  const open = await db
    .selectFrom('environment_request')
    .select(['id', 'status'])
    .where('organisation_id', '=', organisationId)
    .where('env', '=', env)
    .where('status', 'in', ['pending', 'approved'])
    .executeTakeFirst();
  if (open) return open.id;
  const id = randomUUID();
  await db
    .insertInto('environment_request')
    .values({ id, organisation_id: organisationId, env, status: 'pending', requested_by: userId, created_at: Date.now(), decided_at: null })
    .execute();
  return id;
}


/** Whether the organisation may register clients in `env`: always in the sandpit, else by an approved request. */
export async function mayRegisterIn(db: Db, organisationId: string, env: string): Promise<boolean> {
  if (capabilitiesOf(env)?.access === 'open') return true;
  return isRequestedEnv(env) && approved(db, organisationId, env);
}

/**
 * The vectors and scopes a partner may give a client in `env`: any in the sandpit (except IM1's, which the team
 * approves); in integration and live, once the request is approved, those of the approved application.
 */
export async function clientChoices(
  db: Db,
  organisationId: string,
  env: string,
): Promise<{ vectors: string[]; scopes: string[] } | undefined> {
  if (capabilitiesOf(env)?.access === 'open') {
    return { vectors: [...SUPPORTED_VECTORS], scopes: SCOPES.filter((s) => s !== 'gp_integration_credentials') };
  }
  if (!isRequestedEnv(env) || !(await mayRegisterIn(db, organisationId, env))) return undefined;
  const a = (await getApplication(db, organisationId)).answers;
  return { vectors: a.vectors ?? [], scopes: ['openid', ...(a.scopes ?? []).filter((s) => s !== 'gp_integration_credentials')] };
}

/** The vectors and scopes asked for that the choices do not allow (empty when all are allowed). */
export function outsideChoices(choice: { vectors: string[]; scopes: string[] }, vtr: string[], scopes: string[]): string[] {
  return [...vtr.filter((v) => !choice.vectors.includes(v)), ...scopes.filter((s) => !choice.scopes.includes(s))];
}

export function latestRequest(db: Db, organisationId: string, env: RequestedEnv) {
  return db
    .selectFrom('environment_request')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('env', '=', env)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}
