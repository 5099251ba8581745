/**
 * A form on the client page that changes one setting of the partner's own client (session limits, NHS App address):
 * the organisation and CSRF guard, the client looked up within the organisation (another's is not found), the shape
 * check, the change, and Post/Redirect/Get to the section; a refusal shows the client page again with the error
 * summary and what was typed.
 */
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import type { ToolkitError } from '../errors.ts';
import type { ClientRecord } from '../onboarding/index.ts';
import { formProblems } from '../web/forms.ts';
import { formStatus } from '../web/problems.ts';
import { clientPage, type ClientPageContext } from './client-routes.ts';
import { orgGuard, page, type PortalDeps } from './context.ts';

type Body = Record<string, string | undefined>;

export function registerClientForm<T>(
  app: FastifyInstance,
  d: PortalDeps,
  o: {
    /** After `/organisations/:orgId/clients/:clientId/`, and the section's id on the client page. */
    name: string;
    schema: RouteShorthandOptions;
    typed(body: Body): T;
    /** What the page shows again after a refusal. */
    keep(typed: T): ClientPageContext;
    save(client: ClientRecord, typed: T): Promise<void>;
    refusal: abstract new (...a: never[]) => ToolkitError;
  },
) {
  app.post<{ Params: { orgId: string; clientId: string }; Body: Body }>(
    `/organisations/:orgId/clients/:clientId/${o.name}`,
    o.schema,
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
      const typed = o.typed(req.body ?? {});
      const bad = formProblems(req);
      if (bad) return clientPage(d, reply, g.signed, g.org, client, { errors: bad, ...o.keep(typed) }, 400);
      try {
        await o.save(client, typed);
        return reply.redirect(`/portal/organisations/${g.org.id}/clients/${client.clientId}#${o.name}`, 303);
      } catch (e) {
        if (!(e instanceof o.refusal)) throw e;
        const field = e.field ?? '';
        const errors = [{ href: `#${field}`, text: e.message, field }];
        return clientPage(d, reply, g.signed, g.org, client, { errors, ...o.keep(typed) }, formStatus(e));
      }
    },
  );
}
