/** The application to integrate (draft, then submit) and the public eligibility check. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SCOPES } from '../identity/claims.ts';
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import {
  ApplicationInvalid, CRITERIA, eligibility, OnboardingError, type ApplicationAnswers, type Organisation,
} from '../onboarding/index.ts';
import { csrfFor, csrfOk, forbidden, orgGuard, page, signedIn, type PortalDeps, type Signed } from './context.ts';
import { CHOICE, CSRF, EMAIL, form, formProblems, list as listField, text } from '../web/forms.ts';

type Body = Record<string, string | string[] | undefined>;
const list = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : v ? [v] : []);
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const APPLY_SCOPES = SCOPES.filter((s) => s !== 'openid');
const ELIGIBILITY = Object.fromEntries(CRITERIA.map((c) => [`eligibility-${c.id}`, CHOICE('Your answer')]));
const APPLICATION = form({
  _csrf: CSRF,
  action: CHOICE('Action'),
  ...ELIGIBILITY,
  product_name: text('Product name', 120),
  description: text('Description', 4000),
  sponsor: text('Sponsor', 200),
  vectors: listField('Vectors of trust', 10, 20),
  scopes: listField('Scopes', 20, 100),
  ...Object.fromEntries(APPLY_SCOPES.map((s) => [`reason-${s}`, text(`Why you need ${s}`, 500)])),
  contact_name: text('Contact name', 120),
  contact_email: EMAIL,
  safety_officer_email: text("Clinical safety officer's email address", 254),
});
const ELIGIBILITY_CHECK = form({ _csrf: CSRF, ...ELIGIBILITY });

function answersFrom(b: Body): ApplicationAnswers {
  return {
    eligibility: Object.fromEntries(CRITERIA.map((c) => [c.id, one(b[`eligibility-${c.id}`]) ?? ''])),
    product_name: one(b.product_name),
    description: one(b.description),
    sponsor: one(b.sponsor),
    vectors: list(b.vectors),
    scopes: list(b.scopes),
    scope_reasons: Object.fromEntries(APPLY_SCOPES.map((s) => [s, one(b[`reason-${s}`]) ?? ''])),
    contact_name: one(b.contact_name),
    contact_email: one(b.contact_email),
    safety_officer_email: one(b.safety_officer_email),
  };
}

export function registerApplicationRoutes(app: FastifyInstance, d: PortalDeps) {
  // The form; when the team asked for changes, with what it asked above the form (its latest decision).
  const show = async (
    reply: FastifyReply,
    signed: Signed,
    org: Organisation,
    answers: ApplicationAnswers,
    ctx: Record<string, unknown> = {},
    status = 200,
  ) => {
    const changes =
      (await d.onboarding.getApplication(org.id)).status === 'changes_requested'
        ? await d.onboarding.latestDecision(org.id, 'application')
        : null;
    return page(
      d,
      reply,
      'portal/application.njk',
      {
        title: 'Apply to integrate with NHS login',
        user: signed.user,
        csrf: signed.session.csrf,
        org,
        answers,
        criteria: CRITERIA,
        changes,
        outcome: eligibility(answers.eligibility),
        vectors: SUPPORTED_VECTORS,
        scopes: APPLY_SCOPES,
        action: `/portal/organisations/${org.id}/application`,
        ...ctx,
      },
      status,
    );
  };


  app.get<{ Params: { orgId: string } }>('/organisations/:orgId/application', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const { signed, org } = g;
    const application = await d.onboarding.getApplication(org.id);
    if (application.status !== 'draft' && application.status !== 'changes_requested') {
      const decision = application.status === 'submitted' ? null : await d.onboarding.latestDecision(org.id, 'application');
      return page(d, reply, 'portal/application-submitted.njk', {
        title: 'Your application',
        user: signed.user,
        org,
        application,
        decision,
        criteria: CRITERIA,
      });
    }
    return show(reply, signed, org, application.answers);
  });

  app.post<{ Params: { orgId: string }; Body: Body }>('/organisations/:orgId/application', APPLICATION, async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const { signed, org } = g;
    const answers = answersFrom(req.body ?? {});
    const bad = formProblems(req);
    if (bad) return show(reply, signed, org, answers, { errors: bad }, 400);
    try {
      if (one(req.body?.action) === 'submit') {
        await d.onboarding.submitApplication(org.id, answers);
        return reply.redirect(`/portal/organisations/${org.id}/application`, 303);
      }
      const saved = await d.onboarding.saveDraft(org.id, answers);
      return show(reply, signed, org, saved.answers, { saved: true });
    } catch (e) {
      if (e instanceof ApplicationInvalid) {
        const errors = e.problems.map((p) => ({ href: `#${p.field}`, text: p.message, field: p.field }));
        return show(reply, signed, org, (await d.onboarding.getApplication(org.id)).answers, { errors }, 400);
      }
      if (e instanceof OnboardingError) return page(d, reply, 'error.njk', { title: 'Already submitted', message: e.message }, 409);
      throw e;
    }
  });

  // Public: anyone can check eligibility before creating an account.
  app.get('/eligibility', async (req, reply) => {
    const signed = await signedIn(d, req);
    return page(d, reply, 'portal/eligibility.njk', {
      title: 'Check if your service is eligible',
      user: signed?.user,
      criteria: CRITERIA,
      answers: {},
      csrf: csrfFor(d, req, reply, signed),
    });
  });
  app.post<{ Body: Body }>('/eligibility', ELIGIBILITY_CHECK, async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!csrfOk(req, signed)) return forbidden(d, reply);
    const answers = answersFrom(req.body ?? {}).eligibility;
    const outcome = eligibility(answers);
    const unanswered = outcome.answered
      ? []
      : CRITERIA.filter((c) => !answers[c.id]).map((c) => ({
          href: `#eligibility-${c.id}`,
          text: `Answer: ${c.question}`,
          field: `eligibility-${c.id}`,
        }));
    const errors = formProblems(req) ?? unanswered;
    return page(
      d,
      reply,
      'portal/eligibility.njk',
      {
        title: 'Check if your service is eligible',
        user: signed?.user,
        criteria: CRITERIA,
        answers,
        outcome,
        errors,
        csrf: csrfFor(d, req, reply, signed),
      },
      errors.length ? 400 : 200,
    );
  });
}
