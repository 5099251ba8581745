/** Integration test users for the partner's own organisation. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createTestUser, listTestUsers, OnboardingError, requireMembership, TEST_OTP, TEST_PASSWORD, updateTestUser, type Organisation } from '../onboarding/index.ts';
import { csrfOk, errorItem, forbidden, page, signedIn, type PortalDeps, type Signed } from './context.ts';

type Params = { Params: { orgId: string; personId?: string }; Body: Record<string, string | undefined> };

export function registerTestUserRoutes(app: FastifyInstance, d: PortalDeps) {
  const records = [...d.people.pds.values()].filter((r) => !r.date_of_death);
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) =>
    page(d, reply, 'portal/test-users.njk', {
      title: 'Integration test users', user: signed.user, csrf: signed.session.csrf, org, records, password: TEST_PASSWORD, otp: TEST_OTP,
      users: await listTestUsers(d.db, org.id), base: `/portal/organisations/${org.id}/test-users`, ...ctx,
    }, status);
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
  const flags = (b: Record<string, string | undefined>) => ({ level: b.level ?? '', otpDisabled: b.otp_disabled === 'yes', phonePdsMatched: b.phone_pds_matched === 'yes' });

  app.get<Params>('/organisations/:orgId/test-users', async (req, reply) => {
    const g = await guard(req, reply, false);
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/test-users', async (req, reply) => {
    const g = await guard(req, reply, true);
    if (!g) return;
    try {
      await createTestUser(d.db, d.people, g.org.id, { nhsNumber: req.body?.nhs_number ?? '', ...flags(req.body ?? {}) });
      return reply.redirect(`/portal/organisations/${g.org.id}/test-users`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(reply, g.signed, g.org, { errors: [errorItem(e)] }, 400);
    }
  });
  app.post<Params>('/organisations/:orgId/test-users/:personId', async (req, reply) => {
    const g = await guard(req, reply, true);
    if (!g) return;
    try {
      await updateTestUser(d.db, g.org.id, req.params.personId!, flags(req.body ?? {}));
      return reply.redirect(`/portal/organisations/${g.org.id}/test-users`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'error.njk', { title: 'Page not found', message: e.message }, e.code === 'not_found' ? 404 : 400);
    }
  });
}
