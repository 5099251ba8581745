/**
 * Journey evidence: the NHS technical-conformance scenarios as a checklist per client, each item ticked only by
 * matching events in the sandpit's own protocol record (never by a form the partner ticks), with links to them.
 */
import type { Db, ProtocolEventTable } from '../storage/index.ts';

export interface ChecklistItem {
  id: string;
  title: string;
  why: string;
  done: boolean;
  /** The events that tick it (newest first, at most 3). */
  evidence: ProtocolEventTable[];
}

interface ClientLike {
  env: string;
  clientId: string;
  vtr: string[];
}

const details = (e: ProtocolEventTable): Record<string, unknown> => (e.details ? (JSON.parse(e.details) as Record<string, unknown>) : {});

/** Every event of the client (and the settings visits of people it signed in), newest first, bounded. */
async function eventsFor(db: Db, c: ClientLike): Promise<ProtocolEventTable[]> {
  const own = await db.selectFrom('protocol_event').selectAll().where('env', '=', c.env).where('client_id', '=', c.clientId).orderBy('at', 'desc').limit(5000).execute();
  const people = [...new Set(own.filter((e) => e.kind === 'token' && e.outcome === 'ok' && e.person).map((e) => e.person!))];
  const settings = people.length
    ? await db.selectFrom('protocol_event').selectAll().where('env', '=', c.env).where('kind', '=', 'settings').where('outcome', '=', 'ok').where('person', 'in', people).orderBy('at', 'desc').limit(50).execute()
    : [];
  return [...own, ...settings].sort((a, b) => b.at - a.at);
}

export async function journeyChecklist(db: Db, c: ClientLike): Promise<ChecklistItem[]> {
  const events = await eventsFor(db, c);
  const item = (id: string, title: string, why: string, match: (e: ProtocolEventTable) => boolean): ChecklistItem => {
    const evidence = events.filter(match).slice(0, 3);
    return { id, title, why, done: evidence.length > 0, evidence };
  };
  const ok = (kind: string) => (e: ProtocolEventTable) => e.kind === kind && e.outcome === 'ok';
  const codeToken = (e: ProtocolEventTable) => ok('token')(e) && details(e).grant_type === 'authorization_code';

  const items: ChecklistItem[] = [];
  for (const v of c.vtr) {
    items.push(item(`login-${v}`, `A login completed with vector ${v}`, 'Login with users at each level you support (NHS login conformance: P0, P5, P9 logins).', (e) => codeToken(e) && details(e).vot === v));
  }
  for (const level of ['P5', 'P9'] as const) {
    if (c.vtr.some((v) => v.startsWith(level))) {
      items.push(item(`uplift-${level}`, `A user below ${level} proved their identity and returned to your service`, 'A user below the level is asked to uplift, then returns to the service.', (e) => ok('uplift')(e) && details(e).to === level));
    }
  }
  items.push(
    item('registration', 'A new user created an NHS login from your service', 'Registration of a new user at your level.', ok('registration')),
    item('consent-declined', 'A user declined consent (access_denied, ConsentNotGiven)', 'Your service must show its own no-consent screen.', (e) => e.kind === 'consent' && e.outcome === 'error' && e.reason === 'ConsentNotGiven'),
    item('invalid-scope', 'A request with a scope your client may not use was answered invalid_scope', 'Your service must handle invalid_scope with a suitable error.', (e) => e.kind === 'authorize' && e.outcome === 'error' && (e.reason ?? '').startsWith('invalid_scope')),
    item('vtr-sent', 'Your service sent an explicit vtr and received the matching vot', 'The vot in the ID token must match a vector in the vtr you sent.', (e) => e.kind === 'authorize' && e.outcome === 'ok' && typeof details(e).vtr === 'string' && !details(e).vtr_defaulted),
    item('userinfo', 'Your service fetched /userinfo with an access token', 'Claims beyond the ID token come from /userinfo.', ok('userinfo')),
    item('refresh', 'Your service used a refresh token', 'Refresh tokens last 30 days; a refresh may narrow scope, never widen it.', (e) => ok('token')(e) && details(e).grant_type === 'refresh_token'),
    item('settings', 'A user signed in through your service reached the NHS login settings page', 'Services must link to the settings page without a new sign-in.', ok('settings')),
  );
  return items;
}
