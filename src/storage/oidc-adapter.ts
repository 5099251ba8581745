/**
 * oidc-provider's storage adapter on our database: every model (sessions, interactions, codes, tokens,
 * grants, replay detection) lives in `oidc_model`, scoped by environment, so several instances on one
 * PostgreSQL behave as one. Clients come from the `client` table.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';
import { findClientRow, clientMetadata } from './clients.ts';
import { prepared } from './prepared.ts';

const nowMs = () => Date.now();

/** The adapter's queries, compiled once per database (see prepared.ts). */
function modelQueries(db: Db) {
  const select = (column: 'id' | 'uid' | 'user_code') =>
    prepared(db, (env: string, model: string, value: string) =>
      db.selectFrom('oidc_model').select(['payload', 'expires_at', 'consumed_at']).where('env', '=', env).where('model', '=', model).where(column, '=', value), 3);
  return {
    upsert: prepared(db, (env: string, model: string, id: string, payload: string, grantId: string | null, uid: string | null, userCode: string | null, expiresAt: number | null) => {
      const row = { payload, grant_id: grantId, uid, user_code: userCode, expires_at: expiresAt, consumed_at: null };
      return db.insertInto('oidc_model').values({ env, model, id, ...row }).onConflict((oc) => oc.columns(['env', 'model', 'id']).doUpdateSet(row));
    }, 8),
    byId: select('id'),
    byUid: select('uid'),
    byUserCode: select('user_code'),
    consume: prepared(db, (at: number, env: string, model: string, id: string) =>
      db.updateTable('oidc_model').set({ consumed_at: at }).where('env', '=', env).where('model', '=', model).where('id', '=', id), 4),
    destroy: prepared(db, (env: string, model: string, id: string) =>
      db.deleteFrom('oidc_model').where('env', '=', env).where('model', '=', model).where('id', '=', id), 3),
    revokeGrant: prepared(db, (env: string, grantId: string) => db.deleteFrom('oidc_model').where('env', '=', env).where('grant_id', '=', grantId), 2),
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
    await this.#q.upsert(this.#env, this.#model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null,
      expiresIn ? nowMs() + expiresIn * 1000 : null);
  }

  async #found(q: ModelQueries['byId'], value: string): Promise<AdapterPayload | undefined> {
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
    await this.#q.consume(nowMs(), this.#env, this.#model, id);
  }

  async destroy(id: string): Promise<void> {
    await this.#q.destroy(this.#env, this.#model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // Every model of the grant (codes, access and refresh tokens), e.g. after a code is replayed (RFC 6749 §4.1.2).
    await this.#q.revokeGrant(this.#env, grantId);
  }
}

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
  return (model) => (model === 'Client' ? new ClientAdapter(db, env) : new ModelAdapter(q, env, model));
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
