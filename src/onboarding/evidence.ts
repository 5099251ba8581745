/**
 * Journey evidence: the NHS technical-conformance scenarios as a checklist per client, each item ticked only by
 * matching events in the sandpit's own protocol record (never by a form the partner ticks), with links to them.
 *
 * A login counts when the relying party finished it: the journey's events (sign-in, uplift, consent, sharing
 * the interaction's correlation id) lead to an authorize that issued a code (`code_ref`), and a token request
 * of this client redeemed that code.
 */
import { countRequest, EVENT_RETENTION_MS, getClient, type Db, type ProtocolEventTable } from '../storage/index.ts';

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
  im1?: boolean;
  usersV2?: boolean;
  provisioning?: boolean;
  nhsAppUrl?: string | null | undefined;
}

type Event = ProtocolEventTable & { d: Record<string, unknown> };

const LEVELS = ['P0', 'P5', 'P9'] as const;
const rank = (level: string) => LEVELS.indexOf(level as (typeof LEVELS)[number]);

/** Every event of the client, newest first, bounded. */
async function eventsFor(db: Db, c: ClientLike): Promise<Event[]> {
  const rows = await db
    .selectFrom('protocol_event')
    .selectAll()
    .where('env', '=', c.env)
    .where('client_id', '=', c.clientId)
    .orderBy('at', 'desc')
    .limit(5000)
    .execute();
  return rows.map((e) => ({ ...e, d: e.details ? (JSON.parse(e.details) as Record<string, unknown>) : {} }));
}

/** Completed logins: each journey that ended in a code this client redeemed, with the events that show it. */
function completedJourneys(events: Event[]) {
  const redeemed = new Map<string, Event>();
  for (const e of events)
    if (e.kind === 'token' && e.outcome === 'ok' && e.d.grant_type === 'authorization_code' && typeof e.d.code_ref === 'string')
      redeemed.set(e.d.code_ref, e);
  const journeys: { steps: Event[]; token: Event; authorize: Event }[] = [];
  for (const a of events) {
    if (a.kind !== 'authorize' || a.outcome !== 'ok' || typeof a.d.code_ref !== 'string') continue;
    const token = redeemed.get(a.d.code_ref);
    if (!token) continue;
    const steps = a.correlation_id ? events.filter((e) => e.correlation_id === a.correlation_id && e.kind !== 'authorize') : [];
    journeys.push({ steps, token, authorize: a });
  }
  return journeys;
}

/**
 * The checklist as it stands: items ticked by the traffic now on record, and items ticked before (kept with
 * a copy of their evidence by keepEvidence, so ticks survive the protocol record's retention). It writes nothing:
 * pages, the API and the gates read it on every view.
 */
export async function journeyChecklist(db: Db, c: ClientLike): Promise<ChecklistItem[]> {
  const [items, stored] = await Promise.all([
    checklistFromRecord(db, c),
    db.selectFrom('evidence_tick').selectAll().where('env', '=', c.env).where('client_id', '=', c.clientId).execute(),
  ]);
  const kept = new Map(stored.map((t) => [t.item_id, t]));
  return items.map((i) => {
    const tick = kept.get(i.id);
    return i.done || !tick ? i : { ...i, done: true, evidence: JSON.parse(tick.evidence) as ProtocolEventTable[] };
  });
}

/** How long before the protocol record lets an event go its ticks are kept: a day, so every hourly pass gets a chance. */
const KEEP_AHEAD_MS = 24 * 3600 * 1000;
/** Each client's ticks are kept once per window (countRequest's), by whichever instance claims it first. */
const keepKey = (env: string, clientId: string) => `evidence-kept:${JSON.stringify([env, clientId])}`;

/**
 * Keeps the ticks of every client whose events the protocol record will soon let go (storage's purgeExpired), with
 * a copy of their evidence. Run before each purge; each client is claimed in the database, so one instance does it.
 */
export async function keepEvidence(db: Db, now = Date.now()): Promise<void> {
  const soon = now - EVENT_RETENTION_MS + KEEP_AHEAD_MS;
  const ending = await db.selectFrom('protocol_event').select(['env', 'client_id']).distinct()
    .where('at', '<', soon).where('client_id', 'is not', null).execute();
  for (const { env, client_id } of ending) {
    const c = await getClient(db, env, client_id!);
    if (!c || !(await countRequest(db, keepKey(env, c.clientId), 1))) continue;
    const done = (await checklistFromRecord(db, c)).filter((i) => i.done);
    if (done.length === 0) continue;
    await db.insertInto('evidence_tick')
      .values(done.map((i) => ({ env, client_id: c.clientId, item_id: i.id, ticked_at: now, evidence: JSON.stringify(i.evidence) })))
      .onConflict((oc) => oc.columns(['env', 'client_id', 'item_id']).doNothing()).execute();
  }
}

/** An evidence event by id: from the protocol record, or from a kept tick once the record has let it go. */
export async function evidenceEvent(
  db: Db,
  c: { env: string; clientId: string },
  eventId: string,
): Promise<ProtocolEventTable | undefined> {
  const live = await db
    .selectFrom('protocol_event')
    .selectAll()
    .where('id', '=', eventId)
    .where('env', '=', c.env)
    .where('client_id', '=', c.clientId)
    .executeTakeFirst();
  if (live) return live;
  for (const t of await db
    .selectFrom('evidence_tick')
    .select('evidence')
    .where('env', '=', c.env)
    .where('client_id', '=', c.clientId)
    .execute()) {
    const found = (JSON.parse(t.evidence) as ProtocolEventTable[]).find((e) => e.id === eventId && e.client_id === c.clientId);
    if (found) return found;
  }
  return undefined;
}

async function checklistFromRecord(db: Db, c: ClientLike): Promise<ChecklistItem[]> {
  const events = await eventsFor(db, c);
  const journeys = completedJourneys(events);
  const item = (id: string, title: string, why: string, evidence: Event[]): ChecklistItem =>
    ({ id, title, why, done: evidence.length > 0, evidence: evidence.slice(0, 3).map(({ d: _d, ...e }) => e as ProtocolEventTable) });
  const ok = (kind: string) => (e: Event) => e.kind === kind && e.outcome === 'ok';
  // A sign-in with a passkey (fido.md) is a sign-in like the password step's, recorded under its own kind.
  const signIn = (e: Event) => ok('sign_in')(e) || ok('passkey_sign_in')(e);
  const first = <T>(xs: T[]) => (xs.length ? [xs[0]!] : []);

  const items: ChecklistItem[] = [];
  for (const v of c.vtr) {
    const done = journeys.filter((j) => j.token.d.vot === v);
    items.push(
      item(
        `login-${v}`,
        `A login completed with vector ${v}`,
        'Your service exchanged the code for tokens carrying this vot.',
        first(done).map((j) => j.token),
      ),
    );
  }
  // Logins by users at each level; a user below every vector you support proves their identity first.
  const lowest = Math.min(...c.vtr.map((v) => rank(v.slice(0, 2))));
  for (const level of LEVELS) {
    const uplift = rank(level) < lowest;
    const done = journeys.find(
      (j) =>
        j.steps.some((e) => (signIn(e) && e.d.level === level) || (level === 'P0' && ok('registration')(e))) &&
        (!uplift || j.steps.some(ok('uplift'))),
    );
    items.push(
      item(
        `user-${level}`,
        uplift ? `A ${level} user proved their identity and returned to your service` : `A ${level} user signed in to your service`,
        uplift
          ? 'NHS login conformance: a user below the level is asked to uplift, then returns to the service.'
          : 'NHS login conformance: logins with users at P0, P5 and P9.',
        done ? [...done.steps.filter((e) => signIn(e) || ok('registration')(e) || ok('uplift')(e)), done.token] : [],
      ),
    );
  }
  const registered = journeys.find((j) => j.steps.some(ok('registration')));
  items.push(
    item(
      'registration',
      'A new user created an NHS login from your service and returned with tokens',
      'NHS login conformance: registration of a new user at your level.',
      registered ? [...registered.steps.filter(ok('registration')), registered.token] : [],
    ),
    item(
      'consent-declined',
      'A user declined consent (access_denied, ConsentNotGiven)',
      'Your service must show its own no-consent screen.',
      events.filter((e) => e.kind === 'consent' && e.error === 'ConsentNotGiven'),
    ),
    item(
      'invalid-scope',
      'A request with a scope your client may not use was answered invalid_scope',
      'Your service must handle invalid_scope with a suitable error.',
      events.filter((e) => e.kind === 'authorize' && e.error === 'invalid_scope'),
    ),
    item(
      'vot-matches',
      'Your service sent an explicit vtr and redeemed a code whose vot is one of its vectors',
      'The vot in the ID token must match a vector in the vtr you sent.',
      first(
        journeys.filter(
          (j) =>
            typeof j.authorize.d.vtr === 'string' &&
            !j.authorize.d.vtr_defaulted &&
            vectorsOf(j.authorize.d.vtr).includes(String(j.token.d.vot)),
        ),
      ).flatMap((j) => [j.authorize, j.token]),
    ),
    item(
      'userinfo',
      'Your service fetched /userinfo with an access token',
      'Claims beyond the ID token come from /userinfo.',
      events.filter(ok('userinfo')),
    ),
    item(
      'refresh',
      'Your service used a refresh token',
      'Refresh tokens last 30 days; a refresh may narrow scope, never widen it.',
      events.filter((e) => ok('token')(e) && e.d.grant_type === 'refresh_token'),
    ),
    item(
      'settings',
      'A user reached the NHS login settings page from your service',
      'Services must link to the settings page without a new sign-in.',
      events.filter(ok('settings')),
    ),
  );
  if (c.nhsAppUrl) {
    items.push(
      item(
        'nhs-app',
        'A user opened your service from the NHS App and was signed in without a password',
        'The NHS App opens your NHS App address with ?assertedLoginIdentity=: send it to NHS login as asserted_login_identity.',
        events.filter((e) => ok('authorize')(e) && e.d.sso_from === 'nhs-app'),
      ),
    );
  }
  if (c.im1) {
    const im1 = events.filter((e) => ok('userinfo')(e) && String(e.d.scope ?? '').split(' ').includes('gp_integration_credentials'));
    const has = (e: Event) => Array.isArray(e.d.claims) && e.d.claims.includes('gp_integration_credentials');
    items.push(
      item(
        'im1-linked',
        'A user linked to their GP account received gp_integration_credentials',
        'NHS login conformance (IM1): the user is linked to the GP account.',
        im1.filter(has),
      ),
      item(
        'im1-unlinked',
        'A user without GP linkage signed in and got no gp_integration_credentials',
        'NHS login conformance (IM1): a user with invalid IM1 details cannot reach GP online services.',
        im1.filter((e) => !has(e)),
      ),
      item(
        'gp-credentials-resolved',
        'A user whose GP credentials had stopped working signed in again through your service, which put them right',
        'GP credentials (gp-credentials.md): after a move of practice, a new GP system or a merger the next sign-in gives refreshed '
          + 'credentials; a Restricted account is lifted by a sign-in with credentials. Put a test user in one of these states from '
          + 'its page.',
        events.filter((e) => ok('gp_state')(e) && e.d.by === 'sign_in'),
      ),
    );
  }
  if (c.usersV2) {
    const lookups = events.filter(ok('users_v2'));
    items.push(
      item(
        'users-v2-found',
        'Your service looked a user up with Users Endpoint V2 and found them',
        'Users Endpoint V2: a jwt-bearer token with the Users.retrieve scope and profile, and a filter by NHS number or email.',
        lookups.filter((e) => Number(e.d.results) > 0),
      ),
      item(
        'users-v2-none',
        'Your service made a Users Endpoint V2 look-up that found nobody',
        'An empty ListResponse (totalResults 0) is a success: your service must handle it.',
        lookups.filter((e) => Number(e.d.results) === 0),
      ),
    );
  }
  if (c.provisioning) {
    const requests = events.filter((e) => e.kind === 'provision');
    items.push(
      item(
        'provision-accepted',
        'Your service asked NHS login to provision a patient and was told create or uplift',
        'Provision Account (§3.3): a client_credentials token, then POST /provision-account with the five fields of Table 7.',
        requests.filter((e) => e.outcome === 'ok'),
      ),
      item(
        'provision-refused',
        'Your service was refused a provision with one of its codes (e.g. 11003 or 11005)',
        'Each 11xxx code needs its own handling: tell the patient, do not retry (§3.3.3 Table 11).',
        requests.filter((e) => e.outcome === 'error' && /^\d{5}$/.test(String(e.error))),
      ),
      item(
        'provision-claimed',
        'A patient you provisioned finished setting up their NHS login',
        'The emailed link, the security code and a password: the account is then P9 for your service.',
        events.filter((e) => e.kind === 'provision_claim' && e.outcome === 'ok' && e.d.step === 'completed'),
      ),
    );
  }
  return items;
}

function vectorsOf(vtr: unknown): string[] {
  try {
    const v = JSON.parse(String(vtr)) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
