/** Members and invitations of an organisation. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OnboardingError, ROLES, type Organisation } from '../onboarding/index.ts';
import { errorItem, orgGuard, page, signedIn, type PortalDeps, type Signed } from './context.ts';
import { CHOICE, CSRF, EMAIL, form, formProblems } from '../web/forms.ts';

const INVITE = form({ _csrf: CSRF, email: EMAIL, role: CHOICE('Role') });
const ACTION = form({ _csrf: CSRF, role: CHOICE('Role') });

type Params = { Params: { orgId: string; userId?: string; invitationId?: string }; Body: Record<string, string | undefined> };

export function registerMemberRoutes(app: FastifyInstance, d: PortalDeps) {
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) =>
    page(d, reply, 'portal/members.njk', {
      title: 'Members', user: signed.user, csrf: signed.session.csrf, org, roles: ROLES,
      members: await d.onboarding.membersOf(org.id), invitations: await d.onboarding.pendingInvitations(org.id), ...ctx,
    }, status);


  app.get<Params>('/organisations/:orgId/members', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/members', INVITE, async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const bad = formProblems(req);
    if (bad) return show(reply, g.signed, g.org, { errors: bad, values: req.body }, 400);
    try {
      await d.onboarding.invite(g.org, g.signed.user.id, req.body?.email ?? '', req.body?.role ?? '');
      return show(reply, g.signed, g.org, { invited: req.body?.email });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(
        reply,
        g.signed,
        g.org,
        { errors: [errorItem(e.field ? e : { field: 'email', message: e.message })], values: req.body },
        e.code === 'not_a_member' ? 403 : e.code === 'rate_limited' ? 429 : 400,
      );
    }
  });
  // Remove a member, change a member's role, withdraw an invitation: admins only, one shape.
  const action = (path: string, run: (org: Organisation, req: import('fastify').FastifyRequest<Params>, by: string) => Promise<void>) =>
    app.post<Params>(path, ACTION, async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: true });
      if (!g) return;
      const bad = formProblems(req);
      if (bad) return show(reply, g.signed, g.org, { errors: bad }, 400);
      try {
        await run(g.org, req, g.signed.user.email);
        return reply.redirect(`/portal/organisations/${g.org.id}/members`, 303);
      } catch (e) {
        if (!(e instanceof OnboardingError)) throw e;
        return show(
          reply,
          g.signed,
          g.org,
          { errors: [{ href: '#members', text: e.message, field: 'members' }] },
          e.code === 'not_found' ? 404 : e.code === 'invalid_name' ? 400 : 403,
        );
      }
    });
  action('/organisations/:orgId/members/:userId/remove', (org, req, by) => d.onboarding.removeMember(org, req.params.userId!, by));
  action('/organisations/:orgId/members/:userId/role', (org, req, by) =>
    d.onboarding.changeRole(org, req.params.userId!, req.body?.role ?? '', by),
  );
  action('/organisations/:orgId/invitations/:invitationId/revoke', (org, req) =>
    d.onboarding.revokeInvitation(org, req.params.invitationId!),
  );

  app.get<{ Params: { secret: string } }>('/invitations/:secret', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed)
      return page(d, reply, 'portal/message.njk', {
        title: 'Sign in to accept your invitation',
        message: 'Sign in, or create an account, with the email address the invitation was sent to, then open the link again.',
        link: { href: '/portal/sign-in', text: 'Sign in' },
      });
    try {
      await d.onboarding.acceptInvitation(signed.user, req.params.secret);
      return reply.redirect('/portal', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/message.njk', { title: 'This invitation does not work', message: e.message, user: signed.user }, 400);
    }
  });
}
