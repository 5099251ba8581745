/**
 * The pipeline and each partner's page: application, documents, clients per environment with their sandpit
 * evidence, conformance runs, the three gates (criteria, recorded checks, decisions), the comment thread, the
 * history of decisions, and who looks after them.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CRITERIA, EVIDENCE_ENV, OnboardingError, MAX_COMMENT, STAGES, GATES, type Gate } from '../onboarding/index.ts';
import { page, teamGuard, type ConsoleDeps, type Team } from './context.ts';
import { CHOICE, CSRF, form, formProblems, formSchema, text, type Field } from '../web/forms.ts';
import { formError } from '../web/problems.ts';

const PIPELINE = {
  querystring: formSchema({
    stage: CHOICE('Stage'),
    waiting: CHOICE('Waiting on'),
    manager: CHOICE('Delivery manager'),
    stuck: CHOICE('Stuck'),
    view: CHOICE('View'),
  }),
};
const REASON = 2000;

type Org = { Params: { orgId: string; gate?: string; criterion?: string; docId?: string }; Body: Record<string, string | undefined> };

export function registerPartnerRoutes(app: FastifyInstance, d: ConsoleDeps) {
  app.get<{ Querystring: Record<string, string | undefined> }>('/', { schema: PIPELINE }, async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    const q = req.query;
    const filter = {
      stage: q.stage || undefined,
      waitingOn: q.waiting || undefined,
      manager: q.manager || undefined,
      stuck: q.stuck === 'yes',
    };
    const [rows, team] = await Promise.all([d.onboarding.pipeline(filter), d.onboarding.teamMembers()]);
    const board = STAGES.map((stage) => ({ stage, rows: rows.filter((r) => r.stage === stage) }));
    return page(d, reply, 'console/pipeline.njk', {
      title: 'Partners',
      team: t,
      csrf: t.csrf,
      rows,
      board,
      stages: STAGES,
      filter: q,
      managers: team,
      now: Date.now(),
      view: q.view === 'table' ? 'table' : 'board',
    });
  });

  app.get<Org>('/partners/:orgId', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (t) return partnerPage(reply, t, req.params.orgId);
  });

  /** Runs a change from the partner page, shows its errors there, and returns to the page otherwise. */
  const change = (
    path: string,
    fields: Record<string, Field>,
    run: (t: Team, req: import('fastify').FastifyRequest<Org>) => Promise<unknown>,
    anchor = '',
    patterns?: Record<string, Field>,
  ) =>
    app.post<Org>(path, form({ _csrf: CSRF, ...fields }, patterns), async (req, reply) => {
      const t = await teamGuard(d, req, reply, { csrf: true });
      if (!t) return;
      if (!(await d.onboarding.organisationExists(req.params.orgId)))
        return notFound(reply, t);
      const bad = formProblems(req);
      if (bad) return partnerPage(reply, t, req.params.orgId, bad, 400, req.body);
      try {
        await run(t, req);
        return reply.redirect(`/console/partners/${req.params.orgId}${anchor}`, 303);
      } catch (e) {
        if (!(e instanceof OnboardingError)) throw e;
        const { errors, status } = formError(e, { fallback: 'gates' });
        return partnerPage(reply, t, req.params.orgId, errors, status, req.body);
      }
    });

  change(
    '/partners/:orgId/gates/:gate/criteria/:criterion',
    { met: CHOICE('Met'), note: text('Note', 1000) },
    (t, req) =>
      d.onboarding.recordCriterion(
        t,
        req.params.orgId,
        req.params.gate,
        req.params.criterion!,
        req.body?.met === 'yes',
        req.body?.note ?? '',
      ),
    '#gates',
  );
  change(
    '/partners/:orgId/gates/:gate/decision',
    { decision: CHOICE('Decision'), reason: text('Reason', REASON) },
    (t, req) => {
      const overrides = Object.fromEntries(
        Object.entries(req.body ?? {})
          .filter(([k]) => k.startsWith('override-'))
          .map(([k, v]) => [k.slice('override-'.length), v ?? '']),
      );
      return d.onboarding.decideGate(t, req.params.orgId, req.params.gate, req.body?.decision ?? '', req.body?.reason ?? '', overrides);
    },
    '#gates',
    { '^override-[a-z0-9_]{1,80}$': text('Why you approve anyway', REASON) },
  ); // criterion ids: readiness.ts
  change(
    '/partners/:orgId/comments',
    { body: text('Your message', MAX_COMMENT) },
    (t, req) => d.onboarding.addComment(req.params.orgId, 'team', t.email, req.body?.body ?? ''),
    '#comments',
  );
  change('/partners/:orgId/delivery-manager', { manager: CHOICE('Delivery manager') }, (t, req) =>
    d.onboarding.assignDeliveryManager(t, req.params.orgId, req.body?.manager || null),
  );

  app.get<Org>('/partners/:orgId/documents/:docId', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    try {
      const doc = await d.onboarding.getDocument(req.params.orgId, req.params.docId!);
      return reply
        .type(doc.content_type)
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `attachment; filename="${doc.filename}"`)
        .send(doc.bytes);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return notFound(reply, t);
    }
  });

  function notFound(reply: FastifyReply, t: Team) {
    return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such partner.', team: t, csrf: t.csrf }, 404);
  }

  async function partnerPage(
    reply: FastifyReply,
    t: Team,
    orgId: string,
    errors?: unknown[],
    status = 200,
    values?: Record<string, unknown>,
  ) {
    const org = await d.onboarding.organisationById(orgId);
    if (!org) return notFound(reply, t);
    await d.onboarding.flushEvents();
    const [application, documents, clients, history, thread, team, runs] = await Promise.all([
      d.onboarding.getApplication(orgId), d.onboarding.listDocuments(orgId), d.onboarding.listClients(undefined, orgId),
      d.onboarding.auditOfSubject(orgId),
      d.onboarding.comments(orgId),
      d.onboarding.teamMembers(),
      d.onboarding.organisationRuns(orgId),
    ]);
    const gates = await Promise.all((Object.keys(GATES) as Gate[]).map((g) => d.onboarding.gateView(orgId, g)));
    const evidence = await Promise.all(
      clients
        .filter((c) => c.env === EVIDENCE_ENV.integration)
        .map(async (c) => {
          const items = await d.onboarding.journeyChecklist(c);
          return {
            client: c,
            done: items.filter((i) => i.done).length,
            total: items.length,
            missing: items.filter((i) => !i.done).map((i) => i.title),
          };
        }),
    );
    return page(
      d,
      reply,
      'console/partner.njk',
      {
        title: org.name,
        team: t,
        csrf: t.csrf,
        org,
        application,
        criteria: CRITERIA,
        documents,
        clients,
        evidence,
        gates,
        history: await d.onboarding.readableAudit(history),
        thread,
        managers: team,
        runs: runs.map(({ report, ...r }) => ({ ...r, signed: Boolean(report) })),
        errors,
        values,
      },
      status,
    );
  }
}
