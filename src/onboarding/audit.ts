/**
 * The audit trail: append-only, each entry hash-chained to the one before (SHA-256 over the previous hash and
 * the entry's fields), so editing, deleting or reordering any entry is detectable by `verifyAudit`.
 */
import { createHash } from 'node:crypto';
import { isUniqueViolation, type AuditTable, type Db } from '../storage/index.ts';

const GENESIS = '0'.repeat(64);

export interface AuditInput {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
  /** When it happened, if not now (the demo seed's history); the entry is still appended at the end of the chain. */
  at?: number;
}

function entryHash(prev: string, e: Omit<AuditTable, 'hash' | 'prev_hash'>): string {
  return createHash('sha256').update(JSON.stringify([prev, e.seq, e.at, e.actor, e.action, e.subject, e.details])).digest('hex');
}

/**
 * Appends one entry. Concurrent appenders race on the primary key; the loser retries on the new tail, after a
 * short random pause so that losers do not collide again in step. Every round has a winner, so n appenders at
 * once need at most n attempts (six used to be the limit, and ten at once on PostgreSQL sometimes ran out).
 */
export async function appendAudit(db: Db, input: AuditInput): Promise<AuditTable> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(async (tx) => {
        const tail = await tx.selectFrom('audit').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
        const base = {
          seq: (tail?.seq ?? 0) + 1,
          at: input.at ?? Date.now(),
          actor: input.actor,
          action: input.action,
          subject: input.subject,
          details: JSON.stringify(input.details ?? {}),
        };
        const prev = tail?.hash ?? GENESIS;
        const row: AuditTable = { ...base, prev_hash: prev, hash: entryHash(prev, base) };
        await tx.insertInto('audit').values(row).execute();
        return row;
      });
    } catch (e) {
      // Only losing the race for the next seq is worth another try; anything else (a bad input, the database gone)
      // would fail again the same way.
      if (!isUniqueViolation(e) || attempt >= 24) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
    }
  }
}

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not match, when not ok. */
  brokenAt?: number;
  problem?: string;
  /** The newest entry as `seq:hash`: kept outside the database, it later shows whether entries were cut off the end. */
  head?: string;
}

/** Entries read at a time while walking the chain: the walk's memory stays the same however long the trail grows. */
const WALK_BATCH = 1000;

/**
 * Walks the chain. A chain alone cannot show that its newest entries were removed (what remains is a valid
 * shorter chain), so a head recorded earlier elsewhere (`seq:hash`) can be given: it must still be in the chain.
 */
export async function verifyAudit(db: Db, anchor?: string): Promise<AuditVerdict> {
  const counted = Number((await db.selectFrom('audit').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const [anchorSeq, anchorHash] = anchor ? anchor.split(':') : [];
  let anchored: string | undefined;
  let prev = GENESIS;
  let walked = 0;
  let last: { seq: number; hash: string } | undefined;
  const broken = (seq: number, problem: string): AuditVerdict => ({
    ok: false,
    entries: Math.max(counted, walked),
    brokenAt: seq,
    problem,
  });
  for (;;) {
    const rows = await db.selectFrom('audit').selectAll().where('seq', '>', last?.seq ?? 0).orderBy('seq').limit(WALK_BATCH).execute();
    for (const r of rows) {
      walked++;
      if (r.seq !== walked) return broken(r.seq, `entry ${walked} is missing`);
      if (r.prev_hash !== prev) return broken(r.seq, 'does not link to the entry before it');
      const { hash, prev_hash: _p, ...base } = r;
      if (entryHash(prev, base) !== hash) return broken(r.seq, 'its contents were changed');
      if (String(r.seq) === anchorSeq) anchored = hash;
      prev = hash;
      last = { seq: r.seq, hash };
    }
    if (rows.length < WALK_BATCH) break;
  }
  if (anchor) {
    if (anchored === undefined)
      return broken(Number(anchorSeq) || 0, `the recorded head ${anchor} is no longer in the trail: entries were removed from its end`);
    if (anchored !== anchorHash) return broken(Number(anchorSeq), `entry ${anchorSeq} is not the one recorded as head ${anchor}`);
  }
  return { ok: true, entries: walked, ...(last ? { head: `${last.seq}:${last.hash}` } : {}) };
}

export function auditEntries(db: Db, limit = 1000) {
  return db.selectFrom('audit').selectAll().orderBy('seq', 'desc').limit(limit).execute();
}
