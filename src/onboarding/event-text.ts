/**
 * A protocol event as a partner's developer reads it on the portal: what happened in words, whether it worked, the
 * test user by name, and each recorded detail under a label, instead of the stored JSON (kept as well, for whoever
 * wants it exactly).
 */
import { failureText, findPerson, type Db, type ProtocolEventTable } from '../storage/index.ts';

export const EVENT_KINDS: Record<string, string> = {
  authorize: 'Authorisation request',
  token: 'Token request',
  userinfo: 'UserInfo request',
  userinfo_patch: 'UserInfo update',
  sign_in: 'Sign-in',
  otp: 'Security code',
  consent: 'Consent',
  uplift: 'Identity proving',
  registration: 'New NHS login account',
  settings: 'NHS login settings',
  users_v2: 'Users Endpoint V2 look-up',
  provision: 'Provision Account request',
  provision_claim: 'Provision Account: the patient\'s claim',
  passkey_register: 'Passkey added (NHS login settings)',
  passkey_remove: 'Passkey removed (NHS login settings)',
  passkey_sign_in: 'Sign-in with a passkey',
  gp_session: 'GP system session (the toolkit\'s stand-in)',
  gp_state: 'GP credentials changed',
  fault: 'Fault injected',
};

/** Details whose label depends on the kind of event (a GP credential state's `to` is a state, not an identity level). */
const KIND_LABELS: Record<string, Record<string, string>> = {
  gp_state: { from: 'State before', to: 'State after', by: 'Changed by', refreshed: 'Credentials refreshed' },
  gp_session: { level: 'ApplicationLinkLevel', ods: 'ODS code', state: 'GP credentials state' },
};

/** The labels of the details the identity face records (identity/steps, identity/journeys). */
const LABELS: Record<string, string> = {
  status: 'HTTP status', client_id: 'Client ID sent (not registered)', scope: 'Scope', vtr: 'Vectors of trust requested', prompt: 'Prompt',
  redirect_uri: 'Redirect URI', state: 'State', resume: 'Resumed after the sign-in', vtr_defaulted: 'No vtr sent: the default was used',
  code_ref: 'Authorisation code (a reference, not the code)', grant_type: 'Grant type', vot: 'Vector of trust given',
  claims: 'Claims returned', detail: 'Detail', run: 'Conformance run', test: 'Conformance test', level: 'Identity level of the user',
  guarded: 'Finished by an emailed link',
  to: 'Identity level proved', document: 'Identity document', way: 'Proved with',
  step: 'Step', ods_code: 'ODS code', kind: 'Answer (create or uplift)', request: 'Provision request', route: 'Spoiled endpoint',
  filter: 'Filter', expressions: 'Expressions in the filter', results: 'Users found', people: 'Accounts returned',
};

export interface ReadableEvent {
  title: string;
  outcome: string;
  rows: { key: string; value: string; href?: string | undefined }[];
  /** The stored details, formatted, for whoever wants them exactly. */
  raw: string;
}

const valueText = (v: unknown): string => {
  if (v === true) return 'Yes';
  if (v === false) return 'No';
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (typeof v === 'string' && /^\[.*\]$/.test(v)) {
    try {
      const list = JSON.parse(v) as unknown; // a vtr is sent as a JSON array in a string
      if (Array.isArray(list)) return list.map(String).join(', ');
    } catch { /* not JSON: shown as sent */ }
  }
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
};

/** `conformance(runId)`: where the client's run page is, for the run a request was part of. */
export async function readableEvent(db: Db, event: ProtocolEventTable, conformance: (runId: string) => string): Promise<ReadableEvent> {
  let details: Record<string, unknown> = {};
  try {
    const parsed = event.details ? (JSON.parse(event.details) as unknown) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch { /* stored by us as JSON; anything else shows no details */ }
  const rows: ReadableEvent['rows'] = [];
  if (event.person) {
    const p = await findPerson(db, event.env, event.person);
    const name = [p?.given_name, p?.family_name].filter(Boolean).join(' ');
    rows.push({ key: 'Test user', value: p ? `${name || 'No name'} (${p.email})` : 'A test user no longer in this environment' });
  }
  for (const [k, v] of Object.entries(details)) {
    const href = k === 'run' && typeof v === 'string' ? conformance(v) : undefined;
    rows.push({ key: KIND_LABELS[event.kind]?.[k] ?? LABELS[k] ?? k.replaceAll('_', ' '), value: valueText(v), href });
  }
  if (event.correlation_id) rows.push({ key: 'Journey (correlation ID)', value: event.correlation_id });
  return {
    title: EVENT_KINDS[event.kind] ?? event.kind,
    outcome: event.outcome === 'ok' ? 'Succeeded' : `Failed${event.error ? `: ${failureText(event)}` : ''}`,
    rows,
    raw: JSON.stringify(details, null, 2),
  };
}
