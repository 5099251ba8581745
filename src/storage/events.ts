/**
 * The protocol record: every protocol event of every environment, appended once. An event is part of the answer to
 * the request that caused it: the request waits for `flush()` before its response is sent, so that no token a client
 * has received lacks its entry after a crash (they are evidence and metrics). Writes are group commits: events of one
 * turn of the event loop, and all that arrive while one insert is in flight, go in the next insert together.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from './db.ts';
import type { ProtocolEventTable } from './schema.ts';
import type { ProtocolEvent } from './record.ts';

export type { ProtocolEvent } from './record.ts';

export interface EventSink {
  record(e: ProtocolEvent): void;
  /** Resolves once every event recorded before the call is written (or, after retries, could not be: see onError). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Rows per insert (PostgreSQL takes at most 65,535 parameters in one statement; a row has ten). */
const CHUNK = 1000;
/** A failed insert (the database restarting) is tried again after these pauses, then given up and reported. */
const RETRY_MS = [50, 200, 500, 1000, 2000, 4000];
/**
 * Longest text kept from one value. Events record what requests said (state, redirect_uri, the engine's error
 * descriptions quoting parameters), and anyone can send a request: a 15 KB `state` used to be stored as sent,
 * for each request, for the record's 90 days.
 */
export const MAX_RECORDED_TEXT = 512;

/**
 * Text as it is stored: clipped, and without NUL, which PostgreSQL refuses in text (a `state` of `a%00b` made the
 * whole insert fail, with every other request's entries in it).
 */
const clip = (raw: string) => {
  const s = raw.includes('\0') ? raw.replaceAll('\0', '\uFFFD') : raw;
  return s.length > MAX_RECORDED_TEXT ? `${s.slice(0, MAX_RECORDED_TEXT)}… (${s.length} characters)` : s;
};
const clipped = (s: string | undefined) => (s === undefined ? null : clip(s));
const clipStrings = (_key: string, value: unknown) => (typeof value === 'string' ? clip(value) : value);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Batch {
  rows: ProtocolEventTable[];
  written: Promise<void>;
  done(): void;
}

export function createEventSink(db: Db, onError: (err: unknown) => void): EventSink {
  /** The batch taking new events; it closes when its insert starts. */
  let open: Batch | undefined;
  /** The newest batch's completion, which follows every earlier one's (inserts run one after another). */
  let newest: Promise<void> = Promise.resolve();
  let inserts: Promise<void> = Promise.resolve();

  /**
   * Writes a batch, retrying while the database is away. The pauses are the batch's, not each chunk's (a large batch
   * gives up as soon as a small one). The last try writes row by row, so that a row the database refuses loses only
   * itself.
   */
  async function insert(rows: ProtocolEventTable[]): Promise<void> {
    let attempt = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      for (;;) {
        try {
          await db.insertInto('protocol_event').values(chunk).execute();
          break;
        } catch (err) {
          if (attempt >= RETRY_MS.length) return rowByRow(rows.slice(i), err);
          await pause(RETRY_MS[attempt++]!);
        }
      }
    }
  }

  async function rowByRow(rows: ProtocolEventTable[], first: unknown): Promise<void> {
    let lost = 0;
    let error = first;
    for (const row of rows) {
      await db.insertInto('protocol_event').values(row).execute().catch((err: unknown) => {
        lost++;
        error = err;
      });
    }
    if (lost > 0) onError(Object.assign(new Error(`${lost} protocol record entries could not be written`), { cause: error }));
  }

  function openBatch(): Batch {
    let done!: () => void;
    const written = new Promise<void>((resolve) => (done = resolve));
    const batch: Batch = { rows: [], written, done };
    open = batch;
    newest = written;
    // After this turn of the event loop (its other events join) and after the insert before it.
    inserts = inserts.then(() => new Promise((r) => setImmediate(r))).then(async () => {
      if (open === batch) open = undefined;
      await insert(batch.rows);
      batch.done();
    });
    return batch;
  }

  const flush = () => open?.written ?? newest;
  return {
    record(e) {
      const failed = e.outcome === 'error' ? e : undefined;
      // A fault's name is a detail of the event, not a failure: the spoiled response itself succeeded.
      const details = e.kind === 'fault' ? { ...e.details, fault: e.fault } : e.details;
      (open ?? openBatch()).rows.push({
        id: randomUUID(),
        env: clip(e.env),
        client_id: clipped(e.clientId),
        at: Date.now(),
        kind: e.kind,
        outcome: e.outcome,
        error: failed?.error ?? null,
        cause: failed?.cause ?? null,
        description: clipped(failed?.description),
        correlation_id: clipped(e.correlationId),
        person: clipped(e.person),
        details: details ? JSON.stringify(details, clipStrings) : null,
      });
    },
    flush,
    close: flush,
  };
}
