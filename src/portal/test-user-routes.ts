/** Sandpit and integration test users for the partner's own organisation: from a test PDS record, or with its own details. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FormProblems, OnboardingError, TEST_OTP, TEST_PASSWORD, TEST_USER_ENVS, type Organisation } from '../onboarding/index.ts';
import { formError } from '../web/problems.ts';
import { page, type PortalDeps, type Signed, orgGuard } from './context.ts';
import { CHOICE, CSRF, form, formProblems, text } from '../web/forms.ts';

const SWITCHES = {
  _csrf: CSRF,
  level: CHOICE('Proofing level'),
  otp_disabled: CHOICE('OTP disabled'),
  phone_pds_matched: CHOICE('Phone matched in PDS'),
  pds_trace_fails: CHOICE('PDS trace fails'),
};
/** The partner's own details (onboarding/test-user-demographics.ts checks each), as the API's POST /test-users takes them. */
const OWN = {
  given_name: text('First name', 100), family_name: text('Last name', 100), birthdate: text('Date of birth', 10),
  postcode: text('Postcode', 10), gp_ods_code: text('GP practice ODS code', 10), phone_number: text('Mobile number', 20),
  email: text('Email address', 254), gp_account_id: text('GP account id', 100), gp_linkage_key: text('GP linkage key', 100),
};
/** The input in the form of one's own details an error points to (the GP linkage's is its first field). */
const ownAnchor = (field: string | undefined) => `#own_${field === 'gp_linkage' ? 'gp_account_id' : (field ?? 'nhs_number')}`;
const NEW_USER = form({ ...SWITCHES, env: CHOICE('Environment'), source: CHOICE('Details'), nhs_number: text('NHS number', 20), ...OWN });
const CHANGE = form(SWITCHES);
const GP_STATE = form({ _csrf: CSRF, gp_state: CHOICE('GP credential state') });
const DELETE = form({ _csrf: CSRF });
const PROXY = form({ _csrf: CSRF, patient: CHOICE('Test user'), action: CHOICE('Add or remove') });
/** The states a partner can choose (storage/gp-states.ts), as the radios name them. */
const GP_STATE_TEXT = [
  { value: 'current', text: 'Working (current)' },
  { value: 'moved_practice', text: 'Moved GP practice' },
  { value: 'system_changed', text: 'Practice changed GP system' },
  { value: 'merged', text: 'Practice merged' },
  { value: 'revoked', text: 'Online access revoked' },
  { value: 'restricted', text: 'Restricted (EMIS): until the person signs in again' },
];

type Params = { Params: { orgId: string; personId?: string }; Body: Record<string, string | undefined> };

export function registerTestUserRoutes(app: FastifyInstance, d: PortalDeps) {
  const records = [...d.people.pds.values()].filter((r) => !r.date_of_death);
  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) => {
    const users = await d.onboarding.listTestUsers(org.id);
    const patients = await d.onboarding.testUserPatients(users.map((u) => u.id));
    return page(
      d,
      reply,
      'portal/test-users.njk',
      {
        title: 'Test users',
        envs: TEST_USER_ENVS,
        user: signed.user,
        csrf: signed.session.csrf,
        org,
        records,
        password: TEST_PASSWORD,
        otp: TEST_OTP,
        users,
        // Who each user manages health services for (the stand-in NHS App's proxy access), and whom it could add.
        proxies: Object.fromEntries(users.map((u) => [u.id, {
          patients: users.filter((p) => patients[u.id]?.includes(p.id)),
          others: users.filter((p) => p.id !== u.id && p.env === u.env && !patients[u.id]?.includes(p.id)),
        }])),
        base: `/portal/organisations/${org.id}/test-users`,
        gpStates: GP_STATE_TEXT,
        ...ctx,
      },
      status,
    );
  };
  const flags = (b: Record<string, string | undefined>) => ({
    level: b.level ?? '',
    otpDisabled: b.otp_disabled === 'yes',
    phonePdsMatched: b.phone_pds_matched === 'yes',
    pdsTraceFails: b.pds_trace_fails === 'yes',
  });

  app.get<Params>('/organisations/:orgId/test-users', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return show(reply, g.signed, g.org);
  });
  app.post<Params>('/organisations/:orgId/test-users', NEW_USER, async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const b = req.body ?? {};
    // The form of one's own details has its fields' ids prefixed, so that the error summary points into that form.
    const own = b.source === 'own';
    const again = (errors: { href: string; field?: string | undefined }[], status: number) => show(reply, g.signed, g.org, {
      errors: own ? errors.map((e) => ({ ...e, href: ownAnchor(e.field) })) : errors,
      errorsIn: own ? 'own' : 'pds', values: b,
    }, status);
    const bad = formProblems(req);
    if (bad) return again(bad, 400);
    try {
      await d.onboarding.createTestUser(g.org.id, {
        env: b.env, nhsNumber: b.nhs_number ?? '', ...flags(b), demographics: own ? demographics(b) : undefined,
      });
      return reply.redirect(`/portal/organisations/${g.org.id}/test-users`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError) && !(e instanceof FormProblems)) throw e;
      const { errors, status } = formError(e);
      return again(errors, status);
    }
  });
  type Req = FastifyRequest<Params>;
  /**
   * A change to one test user: a form of the wrong shape or a refusal shows the page again with its error summary (the
   * form named by `at`), a user that is not the organisation's is "not found", success goes back to the page (`anchor`).
   */
  const change = async (req: Req, reply: FastifyReply, run: (orgId: string, id: string) => Promise<unknown>, at = {}, anchor = '') => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const bad = formProblems(req);
    if (bad) return show(reply, g.signed, g.org, { errors: bad, ...at }, 400);
    try {
      await run(g.org.id, req.params.personId!);
      return reply.redirect(`/portal/organisations/${g.org.id}/test-users${anchor}`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      if (e.status === 404) return page(d, reply, 'error.njk', { title: 'Page not found', message: e.message }, e.status);
      const { errors, status } = formError(e);
      return show(reply, g.signed, g.org, { errors, ...at }, status);
    }
  };
  app.post<Params>('/organisations/:orgId/test-users/:personId', CHANGE, (req, reply) =>
    change(req, reply, (org, id) => d.onboarding.updateTestUser(org, id, flags(req.body ?? {}))));
  app.post<Params>('/organisations/:orgId/test-users/:personId/delete', DELETE, (req, reply) =>
    change(req, reply, (org, id) => d.onboarding.deleteTestUser(org, id)));
  app.post<Params>('/organisations/:orgId/test-users/:personId/gp-state', GP_STATE, (req, reply) =>
    change(req, reply, (org, id) => d.onboarding.setTestUserGpState(org, id, req.body?.gp_state ?? ''),
      { gpErrorFor: req.params.personId }));
  app.post<Params>('/organisations/:orgId/test-users/:personId/proxy', PROXY, (req, reply) =>
    change(req, reply, (org, id) => d.onboarding.setTestUserProxy(org, id, req.body?.patient ?? '', req.body?.action !== 'remove'),
      { proxyErrorFor: req.params.personId }, `#proxy-${req.params.personId}`));
}

/** A form's own details as the domain takes them; the GP linkage only when either of its fields is filled in. */
function demographics(b: Record<string, string | undefined>) {
  const linked = Boolean(b.gp_account_id?.trim() || b.gp_linkage_key?.trim());
  return {
    givenName: b.given_name ?? '', familyName: b.family_name ?? '', birthdate: b.birthdate?.trim() ?? '', postcode: b.postcode,
    gpOdsCode: b.gp_ods_code, phoneNumber: b.phone_number, email: b.email,
    gpLinkage: linked ? { accountId: b.gp_account_id?.trim() ?? '', linkageKey: b.gp_linkage_key?.trim() ?? '' } : undefined,
  };
}
