/** What every console route needs: its dependencies, the signed-in team member (and role), CSRF and pages. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Render } from '../web/views.ts';
import { csrfMatches, type Mailer, type Onboarding, type WebSession } from '../onboarding/index.ts';

export const COOKIE = 'toolkit_console';

export interface ConsoleDeps {
  config: Config;
  /** The onboarding use-cases (onboarding/use-cases.ts): the console's only way to the database. */
  onboarding: Onboarding;
  /** The set-up link of a new team member is mailed from the console's own words. */
  mailer: Mailer;
  render: Render;
}

export type Team = WebSession & { id: string; email: string; role: 'team_admin' | 'delivery_manager' };

export function cookieOptions(d: ConsoleDeps) {
  return { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: d.config.publicUrl.startsWith('https:') };
}

export function page(d: ConsoleDeps, reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(d.render(view, { serviceName: 'NHS login team console', layoutName: 'console/layout.njk', ...ctx }));
}

export function expired(d: ConsoleDeps, reply: FastifyReply) {
  return page(d, reply, 'error.njk', { title: 'This form has expired', message: 'Refresh the page and try again.' }, 403);
}

/**
 * The gate in front of every console page: a team session (else sign-in), CSRF on POSTs, and for team-admin
 * actions the admin role (delivery managers get "forbidden"). Partners' portal sessions never count here.
 */
export async function teamGuard(
  d: ConsoleDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  o: { csrf?: boolean; admin?: boolean } = {},
): Promise<Team | undefined> {
  const session = await d.onboarding.findSession('console', req.cookies[COOKIE]);
  const user =
    session && (await d.onboarding.teamUser(session.userId));
  if (!session || !user) return void reply.redirect('/console/sign-in', 303);
  const team = { ...session, ...user };
  if (o.csrf && !csrfMatches(team, (req.body as Record<string, unknown> | undefined)?._csrf)) return void expired(d, reply);
  if (o.admin && team.role !== 'team_admin')
    return void page(
      d,
      reply,
      'error.njk',
      { title: 'Team admins only', message: 'Ask a team admin to do this.', team, csrf: team.csrf },
      403,
    );
  return team;
}
