/**
 * Requests for the next environment. The integration request needs an approved application, an ODS code,
 * DSPT evidence and a complete sandpit journey checklist; the form says exactly which of these is missing.
 */
import { randomUUID } from 'node:crypto';
import { listClients, type Db } from '../storage/index.ts';
import { getApplication } from './applications.ts';
import { hasDocument } from './documents.ts';
import { journeyChecklist } from './evidence.ts';
import { OnboardingError } from './errors.ts';

export interface Criterion {
  id: string;
  label: string;
  met: boolean;
  how: string;
}

export async function integrationReadiness(db: Db, organisationId: string): Promise<Criterion[]> {
  const [application, org, dspt, clients] = await Promise.all([
    getApplication(db, organisationId),
    db.selectFrom('organisation').select('ods_code').where('id', '=', organisationId).executeTakeFirstOrThrow(),
    hasDocument(db, organisationId, 'dspt'),
    listClients(db, 'sandpit', organisationId),
  ]);
  const checklists = await Promise.all(clients.map(async (c) => ({ c, items: await journeyChecklist(db, c) })));
  const complete = checklists.find((x) => x.items.length > 0 && x.items.every((i) => i.done));
  const best = checklists.map((x) => ({ name: x.c.name, left: x.items.filter((i) => !i.done).length })).sort((a, b) => a.left - b.left)[0];
  return [
    { id: 'application', label: 'Your application is approved by the NHS login team', met: application.status === 'approved',
      how: application.status === 'draft' ? 'Complete and submit your application.' : application.status === 'submitted' ? 'The team is reviewing your application.' : application.status === 'changes_requested' ? 'Make the changes the team asked for and submit again.' : application.status === 'rejected' ? 'Your application was not approved.' : '' },
    { id: 'ods_code', label: 'Your organisation has an ODS code', met: Boolean(org.ods_code), how: 'Add your ODS code to your organisation.' },
    { id: 'dspt', label: 'Your Data Security and Protection Toolkit (DSPT) evidence is uploaded', met: dspt, how: 'Upload your DSPT evidence in Documents.' },
    { id: 'sandpit', label: 'A sandpit client has completed every journey on its checklist', met: Boolean(complete),
      how: best ? `Closest: ${best.name}, with ${best.left} ${best.left === 1 ? 'journey' : 'journeys'} to go.` : 'Register a sandpit client and work through its journey checklist.' },
  ];
}

export async function requestIntegration(db: Db, organisationId: string, userId: string): Promise<string> {
  const missing = (await integrationReadiness(db, organisationId)).filter((c) => !c.met);
  if (missing.length) throw new OnboardingError('not_ready', `Not yet: ${missing.map((m) => m.label.toLowerCase()).join('; ')}`);
  const pending = await db.selectFrom('environment_request').select('id').where('organisation_id', '=', organisationId).where('env', '=', 'integration').where('status', '=', 'pending').executeTakeFirst();
  if (pending) return pending.id;
  const id = randomUUID();
  await db.insertInto('environment_request').values({ id, organisation_id: organisationId, env: 'integration', status: 'pending', requested_by: userId, created_at: Date.now(), decided_at: null }).execute();
  return id;
}
