/**
 * The protocol record: every protocol event of every environment, appended once. Writes are batched off
 * the request's critical path (a short in-process buffer, flushed every FLUSH_MS or BATCH events).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from './db.ts';
import type { ProtocolEventTable } from './schema.ts';

export interface ProtocolEvent {
  env: string;
  clientId?: string | undefined;
  kind: string;
  outcome: 'ok' | 'error';
  reason?: string | undefined;
  correlationId?: string | undefined;
  person?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface EventSink {
  record(e: ProtocolEvent): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const FLUSH_MS = 100;
const BATCH = 200;
/**
 * Longest text kept from one value. Events record what requests said (state, redirect_uri, the engine's error
 * descriptions quoting parameters), and anyone can send a request: a 15 KB `state` used to be stored as sent,
 * for each request, for the record's 90 days.
 */
export const MAX_RECORDED_TEXT = 512;

const clip = (s: string) => (s.length > MAX_RECORDED_TEXT ? `${s.slice(0, MAX_RECORDED_TEXT)}… (${s.length} characters)` : s);
const clipStrings = (_key: string, value: unknown) => (typeof value === 'string' ? clip(value) : value);

export function createEventSink(db: Db, onError: (err: unknown) => void): EventSink {
  let buffer: ProtocolEventTable[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    if (batch.length) {
      inflight = inflight.then(() => db.insertInto('protocol_event').values(batch).execute().then(() => undefined, onError));
    }
    return inflight;
  };

  return {
    record(e) {
      buffer.push({
        id: randomUUID(),
        env: e.env,
        client_id: e.clientId ?? null,
        at: Date.now(),
        kind: e.kind,
        outcome: e.outcome,
        reason: e.reason === undefined ? null : clip(e.reason),
        correlation_id: e.correlationId === undefined ? null : clip(e.correlationId),
        person: e.person ?? null,
        details: e.details ? JSON.stringify(e.details, clipStrings) : null,
      });
      if (buffer.length >= BATCH) void flush();
      else timer ??= setTimeout(flush, FLUSH_MS).unref();
    },
    flush,
    close: flush,
  };
}

export interface EventQuery {
  env?: string;
  clientId?: string;
  kind?: string;
  limit?: number;
}

export async function queryEvents(db: Db, q: EventQuery) {
  let s = db.selectFrom('protocol_event').selectAll().orderBy('at', 'desc').orderBy('id').limit(q.limit ?? 100);
  if (q.env) s = s.where('env', '=', q.env);
  if (q.clientId) s = s.where('client_id', '=', q.clientId);
  if (q.kind) s = s.where('kind', '=', q.kind);
  return s.execute();
}
