/** Team members (team admins only): add one with a one-time set-up link, change roles, remove. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OnboardingError } from '../onboarding/index.ts';
import { page, teamGuard, type ConsoleDeps, type Team } from './context.ts';
import { CHOICE, CSRF, EMAIL, form, formProblems } from '../web/forms.ts';

type Req = { Params: { userId?: string }; Body: Record<string, string | undefined> };

export function registerTeamRoutes(app: FastifyInstance, d: ConsoleDeps) {
  const show = async (reply: FastifyReply, t: Team, ctx: Record<string, unknown> = {}, status = 200) =>
    page(d, reply, 'console/team.njk', { title: 'Team', team: t, csrf: t.csrf, members: await d.onboarding.teamMembers(), ...ctx }, status);

  app.get('/team', async (req, reply) => {
    const t = await teamGuard(d, req, reply, { admin: true });
    if (t) return show(reply, t);
  });
  app.post<Req>('/team', form({ _csrf: CSRF, email: EMAIL, role: CHOICE('Role') }), async (req, reply) => {
    const t = await teamGuard(d, req, reply, { csrf: true, admin: true });
    if (!t) return;
    const bad = formProblems(req);
    if (bad) return show(reply, t, { errors: bad, values: req.body }, 400);
    try {
      const { user, setupSecret } = await d.onboarding.addTeamMember(t, req.body?.email ?? '', req.body?.role ?? '');
      const link = `${d.config.publicUrl}/console/setup/${setupSecret}`;
      await d.mailer.send({
        to: user.email,
        subject: 'Set up your NHS login team console account',
        body: `${t.email} added you to the NHS login team console.\n\nWithin 24 hours, open ` +
          `this link to choose a password and set up your authenticator app:\n\n${link}\n`,
      });
      return show(reply, t, { added: { email: user.email, link } });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(
        reply,
        t,
        { errors: [{ href: `#${e.field ?? 'email'}`, text: e.message, field: e.field ?? 'email' }], values: req.body },
        400,
      );
    }
  });
  for (const action of ['role', 'remove'] as const) {
    app.post<Req>(`/team/:userId/${action}`, form({ _csrf: CSRF, role: CHOICE('Role') }), async (req, reply) => {
      const t = await teamGuard(d, req, reply, { csrf: true, admin: true });
      if (!t) return;
      const bad = formProblems(req);
      if (bad) return show(reply, t, { errors: bad }, 400);
      try {
        await d.onboarding.changeTeamMember(t, req.params.userId!, action === 'remove' ? { remove: true } : { role: req.body?.role ?? '' });
        return reply.redirect('/console/team', 303);
      } catch (e) {
        if (!(e instanceof OnboardingError)) throw e;
        return show(reply, t, { errors: [{ href: '#members', text: e.message, field: 'members' }] }, e.code === 'not_found' ? 404 : 400);
      }
    });
  }
}
