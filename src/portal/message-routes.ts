/** The conversation with the NHS login team (the console shows the same thread). */
import type { FastifyInstance } from 'fastify';
import { MAX_COMMENT, OnboardingError } from '../onboarding/index.ts';
import { errorItem, orgGuard, page, type PortalDeps } from './context.ts';
import { CSRF, form, formProblems, text } from '../web/forms.ts';

type Params = { Params: { orgId: string }; Body: Record<string, string | undefined> };

export function registerMessageRoutes(app: FastifyInstance, d: PortalDeps) {
  app.get<Params>('/organisations/:orgId/messages', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g)
      return page(d, reply, 'portal/messages.njk', {
        title: 'Messages with the NHS login team',
        user: g.signed.user,
        csrf: g.signed.session.csrf,
        org: g.org,
        thread: await d.onboarding.comments(g.org.id),
      });
  });
  app.post<Params>('/organisations/:orgId/messages', form({ _csrf: CSRF, body: text('Your message', MAX_COMMENT) }), async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const thread = async () => d.onboarding.comments(g.org.id);
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'portal/messages.njk',
        {
          title: 'Messages with the NHS login team',
          user: g.signed.user,
          csrf: g.signed.session.csrf,
          org: g.org,
          thread: await thread(),
          errors: bad,
          values: req.body,
        },
        400,
      );
    try {
      await d.onboarding.addComment(g.org.id, 'partner', g.signed.user.email, req.body?.body ?? '');
      return reply.redirect(`/portal/organisations/${g.org.id}/messages`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/messages.njk',
        {
          title: 'Messages with the NHS login team',
          user: g.signed.user,
          csrf: g.signed.session.csrf,
          org: g.org,
          thread: await d.onboarding.comments(g.org.id),
          errors: [errorItem(e)],
          values: req.body,
        },
        e.code === 'rate_limited' ? 429 : 400,
      );
    }
  });
}
