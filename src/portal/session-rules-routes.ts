/**
 * The client page's session limits (identity/session-rules.ts), sandpit clients only: a partner sets an idle and an
 * absolute limit in minutes so that its service meets the session rules (session-management.md, A) in minutes rather
 * than hours; empty means none (the specification's 30-day refresh token). A refusal shows the client page again with
 * the error summary and what was typed.
 */
import type { FastifyInstance } from 'fastify';
import { SessionRulesError } from '../identity/index.ts';
import { CSRF, form, formProblems, text } from '../web/forms.ts';
import { formStatus } from '../web/problems.ts';
import { clientPage } from './client-routes.ts';
import { orgGuard, page, type PortalDeps } from './context.ts';

const SESSION_RULES = form({ _csrf: CSRF, idle_minutes: text('Idle limit', 10), absolute_minutes: text('Absolute limit', 10) });

export function registerSessionRulesRoutes(app: FastifyInstance, d: PortalDeps) {
  app.post<{ Params: { orgId: string; clientId: string }; Body: Record<string, string | undefined> }>(
    '/organisations/:orgId/clients/:clientId/session-rules',
    SESSION_RULES,
    async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: true });
      if (!g) return;
      const client = await d.onboarding.findOrganisationClient(g.org.id, req.params.clientId);
      if (!client) {
        const missing = {
          layoutName: 'portal/layout.njk', title: 'Page not found', message: 'There is no such client in your organisation.',
        };
        return page(d, reply, 'error.njk', missing, 404);
      }
      const typed = { idle: req.body?.idle_minutes ?? '', absolute: req.body?.absolute_minutes ?? '' };
      const bad = formProblems(req);
      if (bad) return clientPage(d, reply, g.signed, g.org, client, { errors: bad, sessionTyped: typed }, 400);
      try {
        await d.onboarding.setSessionRules(client.env, client.clientId, { idleMinutes: typed.idle, absoluteMinutes: typed.absolute });
        return reply.redirect(`/portal/organisations/${g.org.id}/clients/${client.clientId}#session-rules`, 303);
      } catch (e) {
        if (!(e instanceof SessionRulesError)) throw e;
        const errors = [{ href: `#${e.field}`, text: e.message, field: e.field! }];
        return clientPage(d, reply, g.signed, g.org, client, { errors, sessionTyped: typed }, formStatus(e));
      }
    },
  );
}
