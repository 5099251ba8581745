/** Requesting the integration environment: what is met, what is missing, and the request once all is met. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { integrationReadiness, OnboardingError, requestIntegration, requireMembership, type Organisation } from '../onboarding/index.ts';
import { csrfOk, forbidden, page, signedIn, type PortalDeps, type Signed } from './context.ts';

type Params = { Params: { orgId: string } };

export function registerRequestRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) => {
    await d.events.flush();
    const criteria = await integrationReadiness(d.db, org.id);
    const request = await d.db.selectFrom('environment_request').selectAll().where('organisation_id', '=', org.id).where('env', '=', 'integration').orderBy('created_at', 'desc').executeTakeFirst();
    return page(d, reply, 'portal/request-integration.njk', { title: 'Request the integration environment', user: signed.user, csrf: signed.session.csrf, org, criteria, ready: criteria.every((c) => c.met), request, ...ctx }, status);
  };
  const guard = async (req: Parameters<typeof signedIn>[1] & { params: { orgId: string } }, reply: FastifyReply, post: boolean) => {
    const signed = await signedIn(d, req);
    if (!signed) return void reply.redirect('/portal/sign-in', 303);
    if (post && !csrfOk(req, signed)) return void forbidden(d, reply);
    try {
      return { signed, org: await requireMembership(d.db, signed.user.id, req.params.orgId) };
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return void page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such page in your account.' }, 404);
    }
  };
  app.get<Params>('/organisations/:orgId/request-integration', async (req, reply) => {
    const g = await guard(req, reply, false);
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/request-integration', async (req, reply) => {
    const g = await guard(req, reply, true);
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
