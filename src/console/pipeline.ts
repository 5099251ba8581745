/** The pipeline board: every partner's stage, how long it has been there, and whom it is waiting on. */
import type { Db } from '../storage/index.ts';

export interface PipelineRow {
  organisationId: string;
  name: string;
  odsCode: string | null;
  stage: 'Apply' | 'Discovery' | 'Integrate';
  status: string;
  waitingOn: 'partner' | 'team';
  since: number;
  sandpitClients: number;
}

export async function pipeline(db: Db): Promise<PipelineRow[]> {
  const [orgs, applications, requests, clients] = await Promise.all([
    db.selectFrom('organisation').selectAll().execute(),
    db.selectFrom('application').select(['organisation_id', 'status', 'updated_at', 'submitted_at']).execute(),
    db.selectFrom('environment_request').select(['organisation_id', 'status', 'created_at']).where('env', '=', 'integration').execute(),
    db.selectFrom('client').select(['organisation_id']).where('env', '=', 'sandpit').where('organisation_id', 'is not', null).execute(),
  ]);
  const app = new Map(applications.map((a) => [a.organisation_id, a]));
  const req = new Map(requests.map((r) => [r.organisation_id, r]));
  return orgs
    .map((o): PipelineRow => {
      const a = app.get(o.id);
      const r = req.get(o.id);
      const base = { organisationId: o.id, name: o.name, odsCode: o.ods_code, sandpitClients: clients.filter((c) => c.organisation_id === o.id).length };
      if (r?.status === 'pending') return { ...base, stage: 'Integrate', status: 'Integration requested', waitingOn: 'team', since: r.created_at };
      if (a?.status === 'approved') return { ...base, stage: 'Discovery', status: 'Exploring the sandpit', waitingOn: 'partner', since: a.updated_at };
      if (a?.status === 'submitted') return { ...base, stage: 'Apply', status: 'Application awaiting review', waitingOn: 'team', since: a.submitted_at ?? a.updated_at };
      if (a?.status === 'changes_requested') return { ...base, stage: 'Apply', status: 'Changes requested', waitingOn: 'partner', since: a.updated_at };
      if (a?.status === 'rejected') return { ...base, stage: 'Apply', status: 'Application not approved', waitingOn: 'partner', since: a.updated_at };
      return { ...base, stage: 'Apply', status: a ? 'Application in draft' : 'Not started', waitingOn: 'partner', since: a?.updated_at ?? o.created_at };
    })
    .sort((x, y) => (x.waitingOn === y.waitingOn ? x.since - y.since : x.waitingOn === 'team' ? -1 : 1));
}
