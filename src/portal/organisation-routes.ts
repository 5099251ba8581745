/** The partner's home page (each organisation's status, clients and pages) and creating an organisation. */
import type { FastifyInstance } from 'fastify';
import { OnboardingError } from '../onboarding/index.ts';
import { csrfOk, errorItem, forbidden, orgGuard, page, signedIn, type PortalDeps } from './context.ts';
import { CSRF, form, formProblems, text } from '../web/forms.ts';
import { statusPanel } from './status.ts';

const DETAILS = form({ _csrf: CSRF, name: text('Organisation name', 160), ods_code: text('ODS code', 20) });

export function registerOrganisationRoutes(app: FastifyInstance, d: PortalDeps) {
  app.get('/', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed) return page(d, reply, 'portal/landing.njk', { title: 'Integrate with NHS login at your own pace' });
    const orgs = await d.onboarding.organisationsOf(signed.user.id);
    await d.onboarding.flushEvents(); // the sandpit journeys the status panel counts are in the protocol record
    const withClients = await Promise.all(
      orgs.map(async (o) => {
        const clients = await d.onboarding.listClients(undefined, o.id);
        return { ...o, clients, status: await statusPanel(d.onboarding, o.id, clients) };
      }),
    );
    return page(d, reply, 'portal/home.njk', {
      title: 'Your integration',
      user: signed.user,
      csrf: signed.session.csrf,
      organisations: withClients,
    });
  });

  app.get('/organisations/new', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed) return reply.redirect('/portal/sign-in', 303);
    return page(d, reply, 'portal/organisation-new.njk', {
      title: 'Tell us about your organisation',
      user: signed.user,
      csrf: signed.session.csrf,
    });
  });

  app.post<{ Body: Record<string, string | undefined> }>('/organisations/new', DETAILS, async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed) return reply.redirect('/portal/sign-in', 303);
    if (!csrfOk(req, signed)) return forbidden(d, reply);
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'portal/organisation-new.njk',
        { title: 'Tell us about your organisation', user: signed.user, csrf: signed.session.csrf, errors: bad, values: req.body },
        400,
      );
    try {
      const org = await d.onboarding.createOrganisation(signed.user.id, { name: req.body?.name ?? '', odsCode: req.body?.ods_code });
      return reply.redirect(`/portal/organisations/${org.id}/clients/new`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/organisation-new.njk',
        {
          title: 'Tell us about your organisation',
          user: signed.user,
          csrf: signed.session.csrf,
          errors: [errorItem(e)],
          values: req.body,
        },
        400,
      );
    }
  });

  type OrgReq = { Params: { orgId: string }; Body: Record<string, string | undefined> };
  const editPage = 'portal/organisation-new.njk';
  app.get<OrgReq>('/organisations/:orgId/edit', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    return page(d, reply, editPage, {
      title: "Your organisation's details",
      user: g.signed.user,
      csrf: g.signed.session.csrf,
      action: `/portal/organisations/${g.org.id}/edit`,
      values: { name: g.org.name, ods_code: g.org.ods_code ?? '' },
    });
  });
  app.post<OrgReq>('/organisations/:orgId/edit', DETAILS, async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        editPage,
        {
          title: "Your organisation's details",
          user: g.signed.user,
          csrf: g.signed.session.csrf,
          action: `/portal/organisations/${g.org.id}/edit`,
          errors: bad,
          values: req.body,
        },
        400,
      );
    try {
      await d.onboarding.updateOrganisation(g.signed.user.id, g.org.id, { name: req.body?.name ?? '', odsCode: req.body?.ods_code });
      return reply.redirect('/portal', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        editPage,
        {
          title: "Your organisation's details",
          user: g.signed.user,
          csrf: g.signed.session.csrf,
          action: `/portal/organisations/${g.org.id}/edit`,
          errors: [errorItem(e)],
          values: req.body,
        },
        e.code === 'not_a_member' ? 403 : 400,
      );
    }
  });
}
