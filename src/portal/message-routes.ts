/** The conversation with the NHS login team (the console shows the same thread). */
import type { FastifyInstance } from 'fastify';
import { addComment, comments, notifyDeps, OnboardingError } from '../onboarding/index.ts';
import { errorItem, orgGuard, page, type PortalDeps } from './context.ts';

type Params = { Params: { orgId: string }; Body: Record<string, string | undefined> };

export function registerMessageRoutes(app: FastifyInstance, d: PortalDeps) {
  const deps = notifyDeps(d);
  app.get<Params>('/organisations/:orgId/messages', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return page(d, reply, 'portal/messages.njk', { title: 'Messages with the NHS login team', user: g.signed.user, csrf: g.signed.session.csrf, org: g.org, thread: await comments(d.db, g.org.id) });
  });
  app.post<Params>('/organisations/:orgId/messages', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    try {
      await addComment(deps, g.org.id, 'partner', g.signed.user.email, req.body?.body ?? '');
      return reply.redirect(`/portal/organisations/${g.org.id}/messages`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/messages.njk', { title: 'Messages with the NHS login team', user: g.signed.user, csrf: g.signed.session.csrf, org: g.org, thread: await comments(d.db, g.org.id), errors: [errorItem(e)] }, e.code === 'rate_limited' ? 429 : 400);
    }
  });
}
