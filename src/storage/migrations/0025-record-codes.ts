/**
 * Migration 0025: the protocol record's `reason` text becomes a closed code, a cause and a description (storage/
 * record.ts). Rows written before held "error: description" for exchanges, a bare code for journeys, the fault's
 * name for faults; they are rewritten here once, so that readers only ever see codes. The wording matched below is
 * the engine's and the toolkit's as it was when those rows were written: frozen with the migration, never updated
 * (identity/refusals.ts classifies what is written from now on).
 */
import type { Kysely, Migration } from 'kysely';
import { EXCHANGE_KINDS, isErrorCode, type Cause, type ErrorCode } from '../record.ts';

/** The wording of old reasons and error details, in the order the trace used to try it (onboarding/trace.ts then). */
const LEGACY_CAUSES: [RegExp, Cause][] = [
  [/aud was/, 'assertion_audience'],
  [/only be used once/, 'assertion_replayed'],
  [/sub \(JWT subject\)|iss \(JWT issuer\)/, 'assertion_subject'],
  [/client assertion iat is|must expire within/, 'assertion_lifetime'],
  [/"exp" claim|expired|expiration/, 'assertion_expired'],
  [/alg mismatch/, 'assertion_alg'],
  [/signature|no applicable key|matching key/, 'assertion_signature'],
  [/no client authentication mechanism|client_secret/, 'no_client_authentication'],
  [/redirect_uri/, 'redirect_uri'],
  [/grant request is invalid|authorization code/, 'code_invalid'],
  [/'nonce'|'state'/, 'state_nonce_missing'],
  [/vtr/, 'vtr'],
  [/not supported by NHS login/, 'unsupported_parameter'],
  [/response_mode/, 'response_mode'],
  [/asserted_login_identity/, 'sso_assertion'],
  [/suspended/, 'client_suspended'],
  [/injected fault/, 'fault_injected'],
];

export interface LegacyParts {
  error: ErrorCode | null;
  cause: Cause | null;
  description: string | null;
  /** A fault's name, which moves into the details. */
  fault?: string;
}

/** Splits an old `reason` (and the error detail recorded with it) into the columns that replace it. */
export function fromLegacyReason(kind: string, reason: string | null, detail: string | undefined): LegacyParts {
  if (reason === null) return { error: null, cause: null, description: null };
  if (kind === 'fault') return { error: null, cause: null, description: null, fault: reason };
  const at = reason.indexOf(': ');
  const head = at < 0 ? reason : reason.slice(0, at);
  const rest = at < 0 ? null : reason.slice(at + 2);
  // The engine's server_error listener was given a bare Error, which had neither error nor description.
  if (head === '') return { error: 'server_error', cause: null, description: null };
  const known = isErrorCode(head);
  const text = [detail, reason].filter(Boolean).join(' ');
  const cause = LEGACY_CAUSES.find(([test]) => test.test(detail ?? '') || test.test(reason) || test.test(text))?.[1] ?? null;
  const exchange = (EXCHANGE_KINDS as readonly string[]).includes(kind);
  return { error: known ? head : 'unclassified', cause: exchange ? cause : null, description: known ? rest : reason };
}

type LegacyRow = { id: string; kind: string; reason: string | null; details: string | null };

/** A stored row (or a kept copy of one) in the new shape. */
function convert<T extends LegacyRow>(row: T): Omit<T, 'reason'> & LegacyParts {
  const { reason, ...rest } = row;
  let details: Record<string, unknown> | undefined;
  try {
    details = row.details ? (JSON.parse(row.details) as Record<string, unknown>) : undefined;
  } catch {
    details = undefined;
  }
  const { fault, ...parts } = fromLegacyReason(row.kind, reason, typeof details?.detail === 'string' ? details.detail : undefined);
  return { ...rest, ...parts, ...(fault !== undefined ? { details: JSON.stringify({ ...details, fault }) } : {}) };
}

export const RECORD_CODES: Migration = {
  async up(db: Kysely<any>) {
    for (const column of ['error', 'cause', 'description'])
      await db.schema.alterTable('protocol_event').addColumn(column, 'text').execute();
    // Only failures and faults have a reason; they are read in pages, in id order.
    let after = '';
    for (;;) {
      const rows = (await db.selectFrom('protocol_event').select(['id', 'kind', 'reason', 'details']).where('reason', 'is not', null)
        .where('id', '>', after).orderBy('id').limit(500).execute()) as LegacyRow[];
      for (const row of rows) {
        const c = convert(row);
        await db
          .updateTable('protocol_event')
          .set({ error: c.error, cause: c.cause, description: c.description, details: c.details })
          .where('id', '=', row.id)
          .execute();
      }
      if (rows.length < 500) break;
      after = rows.at(-1)!.id;
    }
    await db.schema.alterTable('protocol_event').dropColumn('reason').execute();
    // Journey checklist ticks keep copies of their evidence events (onboarding/evidence.ts): the same rewrite.
    const ticks = (await db.selectFrom('evidence_tick').select(['env', 'client_id', 'item_id', 'evidence']).execute()) as
      { env: string; client_id: string; item_id: string; evidence: string }[];
    for (const t of ticks) {
      const evidence = (JSON.parse(t.evidence) as LegacyRow[]).map((e) => ('reason' in e ? convert(e) : e));
      await db.updateTable('evidence_tick').set({ evidence: JSON.stringify(evidence) })
        .where('env', '=', t.env).where('client_id', '=', t.client_id).where('item_id', '=', t.item_id).execute();
    }
  },
};
