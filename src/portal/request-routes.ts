/** Requesting the integration environment: what is met, what is missing, and the request once all is met. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { integrationReadiness, OnboardingError, requestIntegration, type Organisation } from '../onboarding/index.ts';
import { page, type PortalDeps, type Signed, orgGuard } from './context.ts';

type Params = { Params: { orgId: string } };

export function registerRequestRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) => {
    await d.events.flush();
    const criteria = await integrationReadiness(d.db, org.id);
    const request = await d.db.selectFrom('environment_request').selectAll().where('organisation_id', '=', org.id).where('env', '=', 'integration').orderBy('created_at', 'desc').executeTakeFirst();
    return page(d, reply, 'portal/request-integration.njk', { title: 'Request the integration environment', user: signed.user, csrf: signed.session.csrf, org, criteria, ready: criteria.every((c) => c.met), request, ...ctx }, status);
  };
  app.get<Params>('/organisations/:orgId/request-integration', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/request-integration', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    try {
      await requestIntegration(d.db, g.org.id, g.signed.user.id);
      return reply.redirect(`/portal/organisations/${g.org.id}/request-integration`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(reply, g.signed, g.org, { errors: [{ href: '#criteria', text: e.message, field: 'criteria' }] }, 400);
    }
  });
}
