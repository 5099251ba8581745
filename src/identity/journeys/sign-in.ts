/** Sign in with email and password; repeated wrong passwords lock the account for a while. */
import type { FastifyInstance } from 'fastify';
import { findPerson, findPersonByEmail } from '../../storage/index.ts';
import { verifyPassword } from '../../security/passwords.ts';
import { checkAttempt, LOCKOUT_MS, MAX_FAILURES, MAX_FAILURES_PER_ADDRESS } from './state.ts';
import { fieldError, goToNextStep, loadJourney, nextStep, page, type JourneyDeps } from './flow.ts';
import { isEmailAddress } from '../../security/email.ts';
import { EMAIL, form, formProblems, PASSWORD } from '../../web/forms.ts';

type Req = { Params: { uid: string }; Body: { email?: string; password?: string } };


export function registerSignIn(app: FastifyInstance, deps: JourneyDeps) {
  app.get<Req>('/interaction/:uid', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    return reply.redirect(`${j.base}/${nextStep(j) === 'unsupported' ? 'sign-in' : nextStep(j)}`, 303);
  });

  const show = (reply: Parameters<typeof page>[1], base: string, allowRegistration: boolean, ctx: Record<string, unknown> = {}, status = 200) =>
    page(deps, reply, 'sign-in.njk', { title: 'Enter your email address and password', action: `${base}/sign-in`, registerHref: allowRegistration ? `${base}/register` : undefined, ...ctx }, status);

  app.get<Req>('/interaction/:uid/sign-in', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    return show(reply, j.base, j.details.params.allow_registration !== 'false');
  });

  app.post<Req>('/interaction/:uid/sign-in', form({ email: EMAIL, password: PASSWORD }), async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    const allowRegistration = j.details.params.allow_registration !== 'false';
    const email = String(req.body?.email ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    const bad = formProblems(req);
    if (bad) return show(reply, j.base, allowRegistration, { errors: bad, email }, 400);
    const errors = [];
    if (!email) errors.push(fieldError('email', 'Enter your email address'));
    else if (!isEmailAddress(email)) errors.push(fieldError('email', 'Enter an email address in the correct format, like name@example.com'));
    if (!password) errors.push(fieldError('password', 'Enter your password'));
    if (errors.length) return show(reply, j.base, allowRegistration, { errors, email }, 400);

    const lockKey = `${deps.env.name}:password:${email}`;
    const addressKey = `${deps.env.name}:address:${req.ip}`;
    const clientId = j.details.params.client_id as string;
    // Both checks begin before the password is verified (storage/lockout.ts), so parallel guesses cannot exceed
    // the limits. The address counts wrong guesses only: an account that refused the check was not tried.
    const fromAddress = await checkAttempt(deps.db, addressKey, MAX_FAILURES_PER_ADDRESS, async () => {
      const byAccount = await checkAttempt(deps.db, lockKey, MAX_FAILURES, async () => {
        const person = await findPersonByEmail(deps.db, deps.env.name, email);
        const ok = (await verifyPassword(password, person?.password_hash)) && person !== undefined;
        return { outcome: ok ? ('succeeded' as const) : ('failed' as const), value: { person, ok } };
      });
      return { outcome: !byAccount.refused && !byAccount.value.ok ? ('failed' as const) : ('released' as const), value: byAccount };
    });
    if (fromAddress.refused) {
      deps.events.record({ env: deps.env.name, clientId, kind: 'sign_in', outcome: 'error', reason: 'address_rate_limited', correlationId: j.uid });
      return show(reply, j.base, allowRegistration, { errors: [fieldError('email', `There have been too many failed sign-ins from your network. Try again in ${LOCKOUT_MS / 60000} minutes.`)], email }, 429);
    }
    const attempt = fromAddress.value;
    if (attempt.refused) {
      const { locked } = attempt.refused;
      deps.events.record({ env: deps.env.name, clientId, kind: 'sign_in', outcome: 'error', reason: locked ? 'account_locked' : 'account_busy', correlationId: j.uid });
      const text = locked ? `You have entered your password incorrectly too many times. Try again in ${LOCKOUT_MS / 60000} minutes.` : 'This account is signing in elsewhere at this moment. Try again in a few seconds.';
      return show(reply, j.base, allowRegistration, { errors: [fieldError('password', text)], email }, 429);
    }
    const { person, ok } = attempt.value;
    if (!person || !ok) {
      const { left } = attempt;
      deps.events.record({ env: deps.env.name, clientId, kind: 'sign_in', outcome: 'error', reason: person ? 'wrong_password' : 'unknown_email', correlationId: j.uid });
      const text = left === 0
        ? `You have entered your password incorrectly too many times. Try again in ${LOCKOUT_MS / 60000} minutes.`
        : `Your email address or password is incorrect. You have ${left} more ${left === 1 ? 'try' : 'tries'} of ${MAX_FAILURES}.`;
      return show(reply, j.base, allowRegistration, { errors: [fieldError('email', text)], email }, left === 0 ? 429 : 401);
    }
    deps.events.record({ env: deps.env.name, clientId, kind: 'sign_in', outcome: 'ok', person: person.id, correlationId: j.uid, details: { level: person.proofing_level } });
    j.state = { personId: person.id, credentials: ['Cp'] };
    j.person = await findPerson(deps.db, deps.env.name, person.id);
    return goToNextStep(deps, j, reply);
  });
}
