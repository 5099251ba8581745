/**
 * oidc-provider's storage adapter on our database: every model (sessions, interactions, codes, tokens,
 * grants, replay detection) lives in `oidc_model`, scoped by environment, so several instances on one
 * PostgreSQL behave as one. Clients come from the `client` table.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from './db.ts';
import { findClientRow, clientMetadata } from './clients.ts';

const nowMs = () => Date.now();

class ModelAdapter implements Adapter {
  readonly #db: Db;
  readonly #env: string;
  readonly #model: string;
  constructor(db: Db, env: string, model: string) {
    this.#db = db;
    this.#env = env;
    this.#model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const row = {
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      uid: payload.uid ?? null,
      user_code: payload.userCode ?? null,
      expires_at: expiresIn ? nowMs() + expiresIn * 1000 : null,
      consumed_at: null,
    };
    await this.#db
      .insertInto('oidc_model')
      .values({ env: this.#env, model: this.#model, id, ...row })
      .onConflict((oc) => oc.columns(['env', 'model', 'id']).doUpdateSet(row))
      .execute();
  }

  async #findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    const row = await this.#db
      .selectFrom('oidc_model')
      .select(['payload', 'expires_at', 'consumed_at'])
      .where('env', '=', this.#env)
      .where('model', '=', this.#model)
      .where(column, '=', value)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= nowMs()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }

  find(id: string) {
    return this.#findWhere('id', id);
  }
  findByUid(uid: string) {
    return this.#findWhere('uid', uid);
  }
  findByUserCode(userCode: string) {
    return this.#findWhere('user_code', userCode);
  }

  async consume(id: string): Promise<void> {
    await this.#db
      .updateTable('oidc_model')
      .set({ consumed_at: nowMs() })
      .where('env', '=', this.#env)
      .where('model', '=', this.#model)
      .where('id', '=', id)
      .execute();
  }

  async destroy(id: string): Promise<void> {
    await this.#db
      .deleteFrom('oidc_model')
      .where('env', '=', this.#env)
      .where('model', '=', this.#model)
      .where('id', '=', id)
      .execute();
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // Every model of the grant (codes, access and refresh tokens), e.g. after a code is replayed (RFC 6749 §4.1.2).
    await this.#db.deleteFrom('oidc_model').where('env', '=', this.#env).where('grant_id', '=', grantId).execute();
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
  return (model) => (model === 'Client' ? new ClientAdapter(db, env) : new ModelAdapter(db, env, model));
}

/** Deletes expired rows; run periodically. */
export async function purgeExpired(db: Db, now = nowMs()): Promise<void> {
  await db.deleteFrom('oidc_model').where('expires_at', '<', now).execute();
  await db.deleteFrom('kv').where('expires_at', '<', now).execute();
}
