/**
 * oidc-provider's storage adapter on our database: every model (sessions, interactions, codes, tokens,
 * grants, replay detection) lives in `oidc_model`, scoped by environment, so several instances on one
 * PostgreSQL behave as one. Clients come from the `client` table.
 */
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';
import { findClientRow, clientMetadata } from './clients.ts';
import { prepared } from './prepared.ts';

const nowMs = () => Date.now();

/** The adapter's queries, compiled once per database (see prepared.ts). */
function modelQueries(db: Db) {
  const select = (column: 'id' | 'uid' | 'user_code') =>
    prepared(
      db,
      (env: string, model: string, value: string) =>
        db
          .selectFrom('oidc_model')
          .select(['payload', 'expires_at', 'consumed_at'])
          .where('env', '=', env)
          .where('model', '=', model)
          .where(column, '=', value),
      3,
    );
  return {
    upsert: prepared(
      db,
      (
        env: string,
        model: string,
        id: string,
        payload: string,
        grantId: string | null,
        uid: string | null,
        userCode: string | null,
        expiresAt: number | null,
      ) => {
        const row = { payload, grant_id: grantId, uid, user_code: userCode, expires_at: expiresAt, consumed_at: null };
        return db
          .insertInto('oidc_model')
          .values({ env, model, id, ...row })
          .onConflict((oc) => oc.columns(['env', 'model', 'id']).doUpdateSet(row));
      },
      8,
    ),
    byId: select('id'),
    byUid: select('uid'),
    byUserCode: select('user_code'),
    // Compare-and-set: only the first of two concurrent redemptions marks the row.
    consume: prepared(
      db,
      (at: number, env: string, model: string, id: string) =>
        db
          .updateTable('oidc_model')
          .set({ consumed_at: at })
          .where('env', '=', env)
          .where('model', '=', model)
          .where('id', '=', id)
          .where('consumed_at', 'is', null),
      4,
    ),
    grantOf: prepared(
      db,
      (env: string, model: string, id: string) =>
        db.selectFrom('oidc_model').select('grant_id').where('env', '=', env).where('model', '=', model).where('id', '=', id),
      3,
    ),
    // Claims a replay marker: inserted (or an expired one revived) by exactly one caller; the others change nothing.
    claim: prepared(
      db,
      (env: string, model: string, id: string, expiresAt: number, now: number) =>
        db
          .insertInto('oidc_model')
          .values({ env, model, id, payload: '{}', grant_id: null, uid: null, user_code: null, expires_at: expiresAt, consumed_at: null })
          .onConflict((oc) =>
            oc.columns(['env', 'model', 'id']).doUpdateSet({ expires_at: expiresAt }).where('oidc_model.expires_at', '<=', now),
          ),
      5,
    ),
    destroy: prepared(
      db,
      (env: string, model: string, id: string) =>
        db.deleteFrom('oidc_model').where('env', '=', env).where('model', '=', model).where('id', '=', id),
      3,
    ),
    revokeGrant: prepared(
      db,
      (env: string, grantId: string) => db.deleteFrom('oidc_model').where('env', '=', env).where('grant_id', '=', grantId),
      2,
    ),
    // The grant itself too: tokens the winner of a concurrent redemption saves after this are then refused.
    revokeGrantEntirely: prepared(
      db,
      (env: string, grantId: string) =>
        db
          .deleteFrom('oidc_model')
          .where('env', '=', env)
          .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])])),
      2,
    ),
  };
}
type ModelQueries = ReturnType<typeof modelQueries>;

class ModelAdapter implements Adapter {
  readonly #q: ModelQueries;
  readonly #env: string;
  readonly #model: string;
  constructor(q: ModelQueries, env: string, model: string) {
    this.#q = q;
    this.#env = env;
    this.#model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    await this.#q.upsert(
      this.#env,
      this.#model,
      id,
      JSON.stringify(payload),
      payload.grantId ?? null,
      payload.uid ?? null,
      payload.userCode ?? null,
      expiresIn ? nowMs() + expiresIn * 1000 : null,
    );
  }

  async #found(q: ModelQueries['byId'], value: string): Promise<AdapterPayload | undefined> {
    if (value.includes('\u0000')) return undefined; // no id has a NUL, and PostgreSQL cannot compare text with one
    const row = (await q(this.#env, this.#model, value)).rows[0];
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= nowMs()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }

  find(id: string) {
    return this.#found(this.#q.byId, id);
  }
  findByUid(uid: string) {
    return this.#found(this.#q.byUid, uid);
  }
  findByUserCode(userCode: string) {
    return this.#found(this.#q.byUserCode, userCode);
  }

  async consume(id: string): Promise<void> {
    const res = await this.#q.consume(nowMs(), this.#env, this.#model, id);
    if (Number(res.numAffectedRows ?? 0n) === 1) return;
    // Redeemed concurrently by another request, which won: treat this one as a replay (RFC 6749 §4.1.2), so
    // the grant's tokens are revoked and this request gets invalid_grant rather than a second set of tokens.
    const grantId = (await this.#q.grantOf(this.#env, this.#model, id)).rows[0]?.grant_id;
    if (grantId) await this.#q.revokeGrantEntirely(this.#env, grantId);
    throw new errors.InvalidGrant(`${this.#model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already consumed`);
  }

  async destroy(id: string): Promise<void> {
    await this.#q.destroy(this.#env, this.#model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // Every model of the grant (codes, access and refresh tokens), e.g. after a code is replayed (RFC 6749 §4.1.2).
    await this.#q.revokeGrant(this.#env, grantId);
  }
}

/**
 * Replay detection (client assertion `jti`s): the engine asks `find` and then saves a marker, which two
 * concurrent requests with the same `jti` could both pass. Here `find` claims the marker atomically (one
 * write, no read), so only one of them sees "not found". The engine's save that follows only needs to
 * write when the assertion outlives the claim.
 */
class ReplayDetectionAdapter extends ModelAdapter {
  readonly #claim: ModelQueries['claim'];
  readonly #env: string;
  constructor(q: ModelQueries, env: string) {
    super(q, env, 'ReplayDetection');
    this.#claim = q.claim;
    this.#env = env;
  }
  override async find(id: string): Promise<AdapterPayload | undefined> {
    if (id.includes('\u0000')) return { jti: id }; // never stored (PostgreSQL refuses NUL): refused as a replay
    const now = nowMs();
    const res = await this.#claim(this.#env, 'ReplayDetection', id, now + CLAIM_MS, now);
    return Number(res.numAffectedRows ?? 0n) === 1 ? undefined : { jti: id };
  }
  override async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (expiresIn && expiresIn * 1000 <= CLAIM_MS) return; // the claim already outlives the assertion
    await super.upsert(id, payload, expiresIn);
  }
}
/** How long a claimed marker lasts before the engine's save (if the assertion lives longer, the save extends it). */
const CLAIM_MS = 10 * 60 * 1000;

class ClientAdapter implements Adapter {
  readonly #db: Db;
  readonly #env: string;
  constructor(db: Db, env: string) {
    this.#db = db;
    this.#env = env;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const row = await findClientRow(this.#db, this.#env, id);
    return row ? (clientMetadata(row) as AdapterPayload) : undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('clients are registered through the toolkit, not the OpenID Provider');
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

/** The factory oidc-provider calls once per model name. */
export function oidcAdapterFactory(db: Db, env: string): (model: string) => Adapter {
  const q = modelQueries(db);
  return (model) =>
    model === 'Client'
      ? new ClientAdapter(db, env)
      : model === 'ReplayDetection'
        ? new ReplayDetectionAdapter(q, env)
        : new ModelAdapter(q, env, model);
}

/** The protocol record keeps this long; journey evidence and traces read recent traffic only. */
export const EVENT_RETENTION_MS = 90 * 24 * 3600 * 1000;

/** Deletes expired rows and protocol events past retention; run periodically. */
export async function purgeExpired(db: Db, now = nowMs()): Promise<void> {
  await db.deleteFrom('oidc_model').where('expires_at', '<', now).execute();
  await db.deleteFrom('kv').where('expires_at', '<', now).execute();
  await db.deleteFrom('attempt_counter').where('expires_at', '<', now).execute();
  await db.deleteFrom('protocol_event').where('at', '<', now - EVENT_RETENTION_MS).execute();
}
