/**
 * The audit trail as people read it: what was done in words, its subject by name (an organisation, a client, a
 * person) rather than by id, and its details as short sentences rather than JSON. The stored entries are not
 * changed (the chain covers them as they are); the CSV and JSON exports keep them whole.
 */
import type { AuditTable, Db } from '../storage/index.ts';
import { GATES, RECORDED, type Gate } from './readiness.ts';
import { ROLES } from './members.ts';

export interface ReadableEntry {
  seq: number;
  at: number;
  actor: string;
  /** The stored action code, kept beside its words (it is what the exports and the CLI show). */
  action: string;
  what: string;
  subject: string;
  /** A link to the subject's page in the console, when it has one. */
  href?: string | undefined;
  details: string[];
}

const GATE_WORDS: Record<Gate, string> = {
  application: 'the application', integration: 'the integration request', go_live: 'the go-live request',
};
const AT_GATE: Record<Gate, string> = {
  application: 'at the application gate', integration: 'at the integration gate', go_live: 'at the go-live gate',
};
const DECIDED: Record<string, (what: string) => string> = {
  approve: (w) => `Approved ${w}`, reject: (w) => `Did not approve ${w}`, request_changes: (w) => `Asked for changes to ${w}`,
};
const TEAM_ROLES: Record<string, string> = { team_admin: 'team admin', delivery_manager: 'delivery manager' };
const CLIENT_STATUSES: Record<string, string> = { active: 'working', suspended: 'suspended', rotate_key: 'waiting for a new key' };

const ACTIONS: Record<string, string> = {
  'gate.criterion': 'Recorded a gate check',
  'gate.override': 'Approved although a criterion was not met',
  'partner.delivery_manager': 'Assigned a delivery manager',
  'partner.remove_member': 'Removed a member',
  'partner.change_role': 'Changed a member\'s role',
  'client.sso_pairs': 'Changed which clients it may single sign-on into',
  'client.approvals': 'Changed the scopes and vectors approved',
  'client.suspend': 'Suspended a client',
  'client.reinstate': 'Reinstated a client',
  'client.force_key_rotation': 'Asked for a new public key',
  'team.create_admin': 'Created a team admin',
  'team.add_member': 'Added a team member',
  'team.remove_member': 'Removed a team member',
  'team.change_role': 'Changed a team member\'s role',
  'team.setup_complete': 'Finished setting up a console account',
  'console.sign_in': 'Signed in to the console',
  'console.sign_in_failed': 'A console sign-in failed',
};

const isGate = (g: unknown): g is Gate => typeof g === 'string' && Object.hasOwn(GATES, g);
const criterionLabel = (gate: unknown, id: unknown) =>
  (isGate(gate) ? RECORDED[gate].find((c) => c.id === id)?.label : undefined) ?? String(id).replace(/^document_/, '').replaceAll('_', ' ');
const roleOf = (r: unknown) => (typeof r === 'string' ? (TEAM_ROLES[r] ?? ROLES[r as keyof typeof ROLES]?.toLowerCase() ?? r) : String(r));
const list = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : String(v));
const yesNo = (v: unknown) => (v ? 'yes' : 'no');

function parse(details: string): Record<string, unknown> {
  try {
    const v = JSON.parse(details) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** An action's words: a gate decision by its gate, the rest from the table; an unknown one as it was stored. */
function actionWords(action: string): string {
  const gate = /^gate\.(\w+)\.(approve|reject|request_changes)$/.exec(action);
  if (gate && isGate(gate[1])) return DECIDED[gate[2]!]!(GATE_WORDS[gate[1]]);
  return ACTIONS[action] ?? action;
}

interface Names {
  organisation: (id: string) => string | undefined;
  client: (env: string, id: string) => string | undefined;
  teamMember: (id: string) => string | undefined;
}

/** A detail per line, in words; fields nobody has described yet are shown as "field: value". */
function detailWords(action: string, d: Record<string, unknown>, names: Names, env: string | undefined): string[] {
  const out: string[] = [];
  const clientName = (id: unknown) => (env && typeof id === 'string' ? names.client(env, id) ?? id : String(id));
  if (action === 'gate.criterion') {
    out.push(`${criterionLabel(d.gate, d.criterion)}: ${d.met ? 'met' : 'not met'}${isGate(d.gate) ? `, ${AT_GATE[d.gate]}` : ''}`);
    if (d.note) out.push(`Note: ${String(d.note)}`);
  } else if (action === 'gate.override') {
    out.push(`${criterionLabel(d.gate, d.criterion)}${isGate(d.gate) ? `, ${AT_GATE[d.gate]}` : ''}`);
    out.push(`Why: ${String(d.justification ?? '')}`);
  } else if (action === 'partner.delivery_manager') {
    out.push(`Delivery manager: ${typeof d.manager === 'string' ? (names.teamMember(d.manager) ?? 'a former team member') : 'none'}`);
  } else if (action === 'partner.remove_member') {
    out.push(`Member: ${String(d.member)}`);
  } else if (action === 'partner.change_role' || action === 'team.change_role') {
    out.push(`${d.member ? `${String(d.member)}: ` : ''}from ${roleOf(d.from)} to ${roleOf(d.to)}`);
  } else if (action === 'client.sso_pairs') {
    const named = (v: unknown) => (Array.isArray(v) && v.length ? v.map(clientName).join(', ') : 'none');
    out.push(`Before: ${named(d.from)}`, `Now: ${named(d.to)}`);
  } else if (action === 'client.approvals') {
    const from = (d.from ?? {}) as Record<string, unknown>;
    const to = (d.to ?? {}) as Record<string, unknown>;
    out.push(`Scopes: ${list(to.scopes)} (were ${list(from.scopes)})`, `Vectors of trust: ${list(to.vtr)} (were ${list(from.vtr)})`);
    out.push(`IM1: ${yesNo(to.im1)} (was ${yesNo(from.im1)})`);
    // Entries from before Users Endpoint V2 could be approved do not mention it: nothing to say of them.
    if ('usersV2' in to) out.push(`Users Endpoint V2: ${yesNo(to.usersV2)} (was ${yesNo(from.usersV2)})`);
    const ods = (v: unknown) => (Array.isArray(v) && v.length ? ` for ${v.join(', ')}` : '');
    if ('provisioning' in to) {
      const was = `${yesNo(from.provisioning)}${ods(from.provisioningOds)}`;
      out.push(`Provision Account: ${yesNo(to.provisioning)}${ods(to.provisioningOds)} (was ${was})`);
    }
  } else if (action.startsWith('client.')) {
    if (d.reason) out.push(`Reason: ${String(d.reason)}`);
    if (typeof d.from === 'string') out.push(`It was ${CLIENT_STATUSES[d.from] ?? d.from}`);
  } else if (action === 'team.create_admin' || action === 'team.add_member') {
    out.push(`Role: ${roleOf(d.role)}`);
  } else if (action === 'console.sign_in_failed') {
    const why = { code: 'The code was not right', password: 'The email address or password was not right' }[String(d.reason)];
    out.push(why ?? `Reason: ${String(d.reason)}`);
  } else {
    if (d.reason) out.push(`Reason: ${String(d.reason)}`);
    if (d.overrides && typeof d.overrides === 'object') {
      const gate = /^gate\.(\w+)\./.exec(action)?.[1];
      for (const [c, why] of Object.entries(d.overrides as Record<string, unknown>)) {
        out.push(`Approved although not met: ${criterionLabel(gate, c)}. Why: ${String(why)}`);
      }
    }
    for (const [k, v] of Object.entries(d)) {
      if (k === 'reason' || k === 'overrides') continue;
      out.push(`${k.replaceAll('_', ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  }
  return out;
}

/** Entries in words, names looked up in one query per kind of subject. */
export async function readableAudit(db: Db, entries: AuditTable[]): Promise<ReadableEntry[]> {
  const parsed = entries.map((e) => ({ e, d: parse(e.details), client: /^(\w+):(.+)$/.exec(e.subject) }));
  const orgIds = [...new Set(parsed.filter((p) => !p.client && !p.e.subject.includes('@')).map((p) => p.e.subject))];
  // A client's entry names the client, and an SSO change the clients it pairs with.
  const paired = (d: Record<string, unknown>) => [d.from, d.to].flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : []));
  const clientIds = [...new Set(parsed.flatMap((p) => (p.client ? [p.client[2]!, ...paired(p.d)] : [])))]
    .filter((x): x is string => typeof x === 'string');
  const managerIds = [...new Set(parsed.map((p) => p.d.manager).filter((m): m is string => typeof m === 'string'))];
  const [orgs, clients, team] = await Promise.all([
    orgIds.length ? db.selectFrom('organisation').select(['id', 'name']).where('id', 'in', orgIds).execute() : [],
    clientIds.length ? db.selectFrom('client').select(['env', 'client_id', 'name']).where('client_id', 'in', clientIds).execute() : [],
    managerIds.length ? db.selectFrom('team_user').select(['id', 'email']).where('id', 'in', managerIds).execute() : [],
  ]);
  const names: Names = {
    organisation: (id) => orgs.find((o) => o.id === id)?.name,
    client: (env, id) => clients.find((c) => c.env === env && c.client_id === id)?.name,
    teamMember: (id) => team.find((t) => t.id === id)?.email,
  };
  return parsed.map(({ e, d, client }) => {
    let subject = e.subject;
    let href: string | undefined;
    if (client) {
      const name = names.client(client[1]!, client[2]!);
      subject = name ? `${name} (${client[1]} client)` : `A ${client[1]} client no longer registered (${client[2]})`;
      if (name) href = `/console/clients/${client[1]}/${client[2]}`;
    } else if (!e.subject.includes('@')) {
      const name = names.organisation(e.subject);
      subject = name ?? 'An organisation no longer registered';
      if (name) href = `/console/partners/${e.subject}`;
    }
    // The CLI acts as 'cli' (creating the first admin): no person.
    const actor = e.actor === 'cli' ? 'The toolkit command line' : e.actor;
    const details = detailWords(e.action, d, names, client?.[1]);
    return { seq: e.seq, at: e.at, actor, action: e.action, what: actionWords(e.action), subject, href, details };
  });
}
