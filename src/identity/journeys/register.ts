/** Create an NHS login: a new person at P0 (verified email and mobile, no identity proofing). */
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { findPerson, findPersonByEmail, insertPerson, kvClaimOnce, kvDelete } from '../../storage/index.ts';
import { hashPassword } from '../../security/passwords.ts';
import { fieldError, goToNextStep, loadJourney, page, type JourneyDeps } from './flow.ts';
import { countRequest, journeyState, LOCKOUT_MS, MAX_REGISTRATIONS_PER_ADDRESS } from './state.ts';
import { browserMark, MARK_COOKIE } from '../run-marks.ts';
import { isEmailAddress } from '../../security/email.ts';
import { EMAIL, form, formProblems, PASSWORD, text } from '../../web/forms.ts';
import { TEST_PACK } from '../people/test-pack.ts';

type Req = { Params: { uid: string }; Body: { email?: string; password?: string; phone?: string } };

/** Test environments have no SMS gateway: new accounts get the pack's static security code. */
const TEST_OTP = TEST_PACK.otp;

export function registerRegistration(app: FastifyInstance, deps: JourneyDeps) {
  const show = (reply: Parameters<typeof page>[1], base: string, ctx: Record<string, unknown> = {}, status = 200) =>
    page(
      deps,
      reply,
      'register.njk',
      { title: 'Create your NHS login', action: `${base}/register`, signInHref: `${base}/sign-in`, testOtp: TEST_OTP, ...ctx },
      status,
    );

  app.get<Req>('/interaction/:uid/register', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (j.details.params.allow_registration === 'false') return reply.redirect(`${j.base}/sign-in`, 303);
    return show(reply, j.base);
  });

  app.post<Req>(
    '/interaction/:uid/register',
    form({ email: EMAIL, password: PASSWORD, phone: text('Mobile phone number', 30) }),
    async (req, reply) => {
      const j = await loadJourney(deps, req, reply);
      if (!j) return;
      if (j.details.params.allow_registration === 'false') return reply.redirect(`${j.base}/sign-in`, 303);
      // One account per journey: once someone is signed in or registered here, carry on with them.
      if (j.state.personId) return goToNextStep(deps, j, reply);
      const email = String(req.body?.email ?? '')
        .trim()
        .toLowerCase();
      const password = String(req.body?.password ?? '');
      const phone = String(req.body?.phone ?? '').replace(/\s+/g, '');
      const bad = formProblems(req);
      if (bad) return show(reply, j.base, { errors: bad, email, phone }, 400);
      const errors = [];
      if (!isEmailAddress(email)) errors.push(fieldError('email', 'Enter an email address in the correct format, like name@example.com'));
      if (password.length < 8 || password.length > 128 || !/[a-z]/i.test(password) || !/\d/.test(password)) {
        errors.push(fieldError('password', 'Enter a password of 8 to 128 characters with at least one letter and one number'));
      }
      if (!/^(\+44\d{10}|07\d{9})$/.test(phone)) errors.push(fieldError('phone', 'Enter a UK mobile phone number, like 07700 900 982'));
      if (!errors.length && (await findPersonByEmail(deps.db, deps.env.name, email))) {
        errors.push(fieldError('email', 'An NHS login already exists for this email address. Sign in instead.'));
      }
      if (errors.length) return show(reply, j.base, { errors, email, phone }, 400);
      // A conformance run's browser (the toolkit's own, for every partner's runs) registers from one address: its
      // requests carry the run's mark and are not counted.
      const conformanceRun = await browserMark(deps.db, deps.env.name, req.cookies[MARK_COOKIE]);
      if (!conformanceRun && !(await countRequest(deps.db, `${deps.env.name}:register:${req.ip}`, MAX_REGISTRATIONS_PER_ADDRESS))) {
        deps.events.record({
          env: deps.env.name,
          clientId: String(j.details.params.client_id),
          kind: 'registration',
          outcome: 'error',
          error: 'address_rate_limited',
          correlationId: j.uid,
        });
        return show(
          reply,
          j.base,
          {
            errors: [
              fieldError('email', `Too many NHS logins have been created from your network. Try again in ${LOCKOUT_MS / 60000} minutes.`),
            ],
            email,
            phone,
          },
          429,
        );
      }
      // One account per journey even when the form is sent twice at once (a double click without JavaScript): the
      // first request creates it; the other waits for it and carries on with it.
      const claim = `${deps.env.name}:${j.uid}`;
      if (!(await kvClaimOnce(deps.db, 'journey-registration', claim, 60 * 60 * 1000))) {
        for (let i = 0; i < 50 && !j.state.personId; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          j.state = await journeyState.get(deps.db, deps.env.name, j.uid);
        }
        if (!j.state.personId)
          return show(
            reply,
            j.base,
            {
              errors: [fieldError('email', 'Your NHS login is still being created. Wait a moment, then select Continue again.')],
              email,
              phone,
            },
            409,
          );
        j.person = await findPerson(deps.db, deps.env.name, j.state.personId);
        return goToNextStep(deps, j, reply);
      }

      const id = randomUUID().replaceAll('-', '');
      try {
        await insertPerson(deps.db, {
          env: deps.env.name,
          id,
          email,
          password_hash: await hashPassword(password),
          otp: TEST_OTP,
          proofing_level: 'P0',
          highest_level: 'P0',
          nhs_number: null,
          given_name: null,
          family_name: null,
          birthdate: null,
          postcode: null,
          phone_number: phone.startsWith('07') ? `+44${phone.slice(1)}` : phone,
          gp_ods_code: null,
          im1: 0,
          gp_user_id: null,
          gp_linkage_key: null,
          created_at: Date.now(),
          organisation_id: null,
          otp_disabled: 0,
          phone_pds_matched: null,
          pds_trace_fails: 0,
        });
      } catch (e) {
        await kvDelete(deps.db, 'journey-registration', claim); // not created (e.g. the password gate was busy): it may be tried again
        throw e;
      }
      deps.events.record({
        env: deps.env.name,
        clientId: String(j.details.params.client_id),
        kind: 'registration',
        outcome: 'ok',
        person: id,
        correlationId: j.uid,
      });
      j.state = { personId: id, credentials: ['Cp'] };
      j.person = await findPerson(deps.db, deps.env.name, id);
      return goToNextStep(deps, j, reply);
    },
  );
}
