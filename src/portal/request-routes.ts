/** Requesting the next environment (integration, then live): what is met, what is missing, and the request. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OnboardingError, type Organisation, type RequestedEnv } from '../onboarding/index.ts';
import { page, type PortalDeps, type Signed, orgGuard } from './context.ts';
import { CSRF, form } from '../web/forms.ts';

type Params = { Params: { orgId: string } };
const PAGES: Record<RequestedEnv, { path: string; title: string }> = {
  integration: { path: 'request-integration', title: 'Request the integration environment' },
  live: { path: 'request-go-live', title: 'Request to go live' },
};

export function registerRequestRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (
    env: RequestedEnv,
    reply: FastifyReply,
    signed: Signed,
    org: Organisation,
    ctx: Record<string, unknown> = {},
    status = 200,
  ) => {
    await d.onboarding.flushEvents();
    const criteria = await d.onboarding.environmentReadiness(org.id, env);
    const request = await d.onboarding.latestRequest(org.id, env);
    return page(
      d,
      reply,
      'portal/request-integration.njk',
      {
        title: PAGES[env].title,
        env,
        user: signed.user,
        csrf: signed.session.csrf,
        org,
        criteria,
        ready: criteria.every((c) => c.met),
        request,
        ...ctx,
      },
      status,
    );
  };
  for (const env of ['integration', 'live'] as const) {
    app.get<Params>(`/organisations/:orgId/${PAGES[env].path}`, async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: false });
      if (g) return show(env, reply, g.signed, g.org);
    });
    app.post<Params>(`/organisations/:orgId/${PAGES[env].path}`, form({ _csrf: CSRF }), async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: true });
      if (!g) return;
      try {
        await d.onboarding.requestEnvironment(g.org.id, g.signed.user.id, env);
        return reply.redirect(`/portal/organisations/${g.org.id}/${PAGES[env].path}`, 303);
      } catch (e) {
        if (!(e instanceof OnboardingError)) throw e;
        return show(env, reply, g.signed, g.org, { errors: [{ href: '#criteria', text: e.message, field: 'criteria' }] }, 400);
      }
    });
  }
}
