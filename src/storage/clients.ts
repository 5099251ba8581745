/** Client registrations, one row per client per environment. */
import type { Db } from './db.ts';
import type { ClientTable } from './schema.ts';
import { perDatabase, prepared } from './prepared.ts';

/** RFC 7523 §2.1: the grant Users Endpoint V2's tokens are asked for with (its interface specification §3.2.1, Table 1). */
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface ClientRecord {
  env: string;
  clientId: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  vtr: string[];
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
  im1: boolean;
  ssoTo: string[];
  status: 'active' | 'suspended' | 'rotate_key';
  createdAt: number;
  organisationId: string | null;
  fault: FaultSequenceRecord | null;
  /** Approved by the NHS login team for Users Endpoint V2 (off until then). */
  usersV2: boolean;
  /** Approved by the NHS login team for Provision Account (off until then), and the ODS codes it may provision for. */
  provisioning: boolean;
  provisioningOds: string[];
  /** Session rules in seconds (identity/session-rules.ts); null = the documented limits (30 minutes idle, 12 hours). */
  sessionIdleS?: number | null;
  sessionAbsoluteS?: number | null;
  /** The page of the service the NHS App opens with `?assertedLoginIdentity=` (identity/nhs-app); null: not set. */
  nhsAppUrl?: string | null;
}

/**
 * The faults armed for a client, in order (identity/fault-sequence.ts). Kept after the last step is used up, so that
 * what fired can still be seen, until the partner clears or replaces it.
 */
export interface FaultSequenceRecord {
  steps: FaultStepRecord[];
  armedAt: number;
}

export interface FaultStepRecord {
  kind: string;
  /** Responses to spoil; with `seconds` null too, until cleared. */
  count: number | null;
  /** How long the step lasts once it starts, instead of a count. */
  seconds: number | null;
  /** A latency step's delay. */
  ms: number | null;
  /** Responses this step has spoiled so far. */
  fired: number;
  /** When the step became the one that applies (epoch ms); null while an earlier step still does. */
  startedAt: number | null;
}

interface StoredMetadata {
  redirect_uris: string[];
  scope: string;
  jwks?: { keys: Record<string, unknown>[] };
  jwks_uri?: string;
}

// Read on every token request (client authentication), so compiled once.
const clientById = perDatabase((db) =>
  prepared(
    db,
    (env: string, clientId: string) => db.selectFrom('client').selectAll().where('env', '=', env).where('client_id', '=', clientId),
    2,
  ),
);

export async function findClientRow(db: Db, env: string, clientId: string): Promise<ClientTable | undefined> {
  if (clientId.includes('\u0000')) return undefined; // no client_id has a NUL, and PostgreSQL cannot compare text with one
  return (await clientById(db)(env, clientId)).rows[0];
}

export function toClientRecord(row: ClientTable): ClientRecord {
  const m = JSON.parse(row.metadata) as StoredMetadata;
  return {
    env: row.env,
    clientId: row.client_id,
    name: row.name,
    redirectUris: m.redirect_uris,
    scopes: m.scope.split(' ').filter(Boolean),
    vtr: JSON.parse(row.vtr) as string[],
    ...(m.jwks ? { jwks: m.jwks } : {}),
    ...(m.jwks_uri ? { jwksUri: m.jwks_uri } : {}),
    im1: row.im1 === 1,
    ssoTo: JSON.parse(row.sso_to) as string[],
    status: row.status,
    createdAt: row.created_at,
    organisationId: row.organisation_id,
    fault: row.fault ? (JSON.parse(row.fault) as FaultSequenceRecord) : null,
    usersV2: row.users_v2 === 1,
    provisioning: row.provisioning === 1,
    provisioningOds: row.provisioning_ods ? (JSON.parse(row.provisioning_ods) as string[]) : [],
    sessionIdleS: row.session_idle_s ?? null,
    sessionAbsoluteS: row.session_absolute_s ?? null,
    nhsAppUrl: row.nhs_app_url ?? null,
  };
}

/**
 * The metadata oidc-provider sees. NHS login's profile is fixed here, per client, so that a stored row can
 * never widen it: code flow only, private_key_jwt with RS512, RS512 ID tokens (NHS login interface spec §1).
 * A suspended client is still found (so its requests fail with a clear error, not "unknown client").
 */
export function clientMetadata(row: ClientTable): Record<string, unknown> {
  const c = toClientRecord(row);
  return {
    client_id: c.clientId,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    scope: c.scopes.join(' '),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    response_types: ['code'],
    // Every client may ask for the jwt-bearer and client_credentials grants: whether it is approved for Users Endpoint V2 or
    // Provision Account is the grant's own check, so an unapproved client is told `unauthorized_client`
    // (identity/users-v2/grant.ts, identity/provision/grant.ts), not that the grant is unknown.
    grant_types: ['authorization_code', 'refresh_token', JWT_BEARER, 'client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS512',
    id_token_signed_response_alg: 'RS512',
    nhs_vtr: c.vtr,
    nhs_im1: c.im1,
    nhs_sso_to: c.ssoTo,
    nhs_status: c.status,
    // Only whether a fault is armed: the hot path reads the fault row just for those clients.
    nhs_fault: c.fault ? 'armed' : null,
    nhs_conformance_until: row.conformance_until,
    nhs_users_v2: c.usersV2,
    nhs_provisioning: c.provisioning,
    nhs_session_idle: c.sessionIdleS,
    nhs_session_absolute: c.sessionAbsoluteS,
  };
}

/** `ifAbsent`: a client that is already registered (another instance made it first) is left as it is. */
export async function insertClient(db: Db, c: ClientRecord, o: { ifAbsent?: boolean } = {}): Promise<void> {
  const metadata: StoredMetadata = {
    redirect_uris: c.redirectUris,
    scope: c.scopes.join(' '),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
  };
  await db
    .insertInto('client')
    .values({
      env: c.env,
      client_id: c.clientId,
      name: c.name,
      metadata: JSON.stringify(metadata),
      vtr: JSON.stringify(c.vtr),
      im1: c.im1 ? 1 : 0,
      sso_to: JSON.stringify(c.ssoTo),
      status: c.status,
      created_at: c.createdAt,
      organisation_id: c.organisationId,
      fault: null,
      conformance_until: null,
      users_v2: c.usersV2 ? 1 : 0,
      provisioning: c.provisioning ? 1 : 0,
      provisioning_ods: c.provisioningOds.length ? JSON.stringify(c.provisioningOds) : null,
      session_idle_s: c.sessionIdleS ?? null,
      session_absolute_s: c.sessionAbsoluteS ?? null,
      nhs_app_url: c.nhsAppUrl ?? null,
    })
    .$if(Boolean(o.ifAbsent), (q) => q.onConflict((oc) => oc.columns(['env', 'client_id']).doNothing()))
    .execute();
}

/** Changes a client's registration (approvals, keys, status); only the fields given. */
export async function updateClient(
  db: Db,
  env: string,
  clientId: string,
  c: {
    scopes?: string[];
    redirectUris?: string[];
    vtr?: string[];
    im1?: boolean;
    jwks?: { keys: Record<string, unknown>[] };
    jwksUri?: string;
    status?: ClientRecord['status'];
    usersV2?: boolean;
    provisioning?: boolean;
    provisioningOds?: string[];
    /** Session rules in seconds; null returns to the documented limit. */
    sessionIdleS?: number | null;
    sessionAbsoluteS?: number | null;
    /** Null clears it. */
    nhsAppUrl?: string | null;
  },
): Promise<void> {
  const row = await findClientRow(db, env, clientId);
  if (!row) return;
  const m = JSON.parse(row.metadata) as StoredMetadata;
  if (c.scopes) m.scope = c.scopes.join(' ');
  if (c.redirectUris) m.redirect_uris = c.redirectUris;
  if (c.jwks) {
    m.jwks = c.jwks;
    delete m.jwks_uri;
  }
  if (c.jwksUri) {
    m.jwks_uri = c.jwksUri;
    delete m.jwks;
  }
  await db.updateTable('client').set({
    metadata: JSON.stringify(m),
    ...(c.vtr ? { vtr: JSON.stringify(c.vtr) } : {}),
    ...(c.im1 !== undefined ? { im1: c.im1 ? 1 : 0 } : {}),
    ...(c.status ? { status: c.status } : {}),
    ...(c.usersV2 !== undefined ? { users_v2: c.usersV2 ? 1 : 0 } : {}),
    ...(c.provisioning !== undefined ? { provisioning: c.provisioning ? 1 : 0 } : {}),
    ...(c.provisioningOds !== undefined ? { provisioning_ods: JSON.stringify(c.provisioningOds) } : {}),
    ...(c.sessionIdleS !== undefined ? { session_idle_s: c.sessionIdleS } : {}),
    ...(c.sessionAbsoluteS !== undefined ? { session_absolute_s: c.sessionAbsoluteS } : {}),
    ...(c.nhsAppUrl !== undefined ? { nhs_app_url: c.nhsAppUrl } : {}),
  }).where('env', '=', env).where('client_id', '=', clientId).execute();
}

export async function listClients(db: Db, env?: string, organisationId?: string): Promise<ClientRecord[]> {
  let q = db.selectFrom('client').selectAll().orderBy('created_at');
  if (env) q = q.where('env', '=', env);
  if (organisationId) q = q.where('organisation_id', '=', organisationId);
  return (await q.execute()).map(toClientRecord);
}

/** An organisation's client in whichever environment it is registered; another organisation's is undefined. */
export async function findOrganisationClient(db: Db, organisationId: string, clientId: string): Promise<ClientRecord | undefined> {
  const row = await db
    .selectFrom('client')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row ? toClientRecord(row) : undefined;
}

export async function getClient(db: Db, env: string, clientId: string): Promise<ClientRecord | undefined> {
  const row = await findClientRow(db, env, clientId);
  return row ? toClientRecord(row) : undefined;
}

export async function setClientSsoTo(db: Db, env: string, clientId: string, ssoTo: string[]): Promise<void> {
  await db.updateTable('client').set({ sso_to: JSON.stringify(ssoTo) }).where('env', '=', env).where('client_id', '=', clientId).execute();
}

export async function setClientFault(db: Db, env: string, clientId: string, fault: FaultSequenceRecord | null): Promise<void> {
  await db
    .updateTable('client')
    .set({ fault: fault ? JSON.stringify(fault) : null })
    .where('env', '=', env)
    .where('client_id', '=', clientId)
    .execute();
}

/**
 * Changes the client's fault sequence as `change` says (undefined: leave it), by compare-and-swap on the stored text:
 * two instances applying the same step at once never both count it, on either database. Returns what was written.
 */
export async function updateClientFault(
  db: Db,
  env: string,
  clientId: string,
  change: (current: FaultSequenceRecord) => FaultSequenceRecord | undefined,
): Promise<FaultSequenceRecord | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = await db.selectFrom('client').select('fault').where('env', '=', env).where('client_id', '=', clientId).executeTakeFirst();
    if (!row?.fault) return undefined;
    const next = change(JSON.parse(row.fault) as FaultSequenceRecord);
    if (!next) return undefined;
    const written = await db.updateTable('client').set({ fault: JSON.stringify(next) })
      .where('env', '=', env).where('client_id', '=', clientId).where('fault', '=', row.fault).executeTakeFirst();
    if (Number(written.numUpdatedRows) === 1) return next;
  }
  return undefined; // ten others won the race: this response goes unspoiled rather than spoiled twice
}

/** Records that a conformance run may drive this client until `until` (epoch ms); never shortens it. */
export async function markClientInConformance(db: Db, env: string, clientId: string, until: number): Promise<void> {
  await db.updateTable('client').set({ conformance_until: until }).where('env', '=', env).where('client_id', '=', clientId)
    .where((eb) => eb.or([eb('conformance_until', 'is', null), eb('conformance_until', '<', until)])).execute();
}
