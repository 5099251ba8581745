/** API tokens for an organisation: create (shown once), list, revoke. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OnboardingError, type Organisation } from '../onboarding/index.ts';
import { errorItem, page, type PortalDeps, type Signed, orgGuard } from './context.ts';
import { CSRF, form, formProblems, text } from '../web/forms.ts';

type Params = { Params: { orgId: string; tokenId?: string }; Body: Record<string, string | undefined> };

export function registerTokenRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) =>
    page(
      d,
      reply,
      'portal/api-tokens.njk',
      {
        title: 'API tokens',
        user: signed.user,
        csrf: signed.session.csrf,
        org,
        tokens: await d.onboarding.listApiTokens(org.id),
        publicUrl: d.config.publicUrl,
        ...ctx,
      },
      status,
    );


  app.get<Params>('/organisations/:orgId/api-tokens', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/api-tokens', form({ _csrf: CSRF, name: text('Token name', 80) }), async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const bad = formProblems(req);
    if (bad) return show(reply, g.signed, g.org, { errors: bad }, 400);
    try {
      const { token } = await d.onboarding.createApiToken(g.org.id, g.signed.user.id, req.body?.name ?? '');
      return show(reply, g.signed, g.org, { newToken: token });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(reply, g.signed, g.org, { errors: [errorItem(e)] }, 400);
    }
  });
  app.post<Params>('/organisations/:orgId/api-tokens/:tokenId/revoke', form({ _csrf: CSRF }), async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    await d.onboarding.revokeApiToken(g.org.id, req.params.tokenId!);
    return reply.redirect(`/portal/organisations/${g.org.id}/api-tokens`, 303);
  });
}
