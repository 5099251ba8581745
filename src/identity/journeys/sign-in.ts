/** Sign in with email and password; repeated wrong passwords lock the account for a while. */
import type { FastifyInstance } from 'fastify';
import { findPerson, findPersonByEmail } from '../../storage/index.ts';
import { verifyPassword } from '../../security/passwords.ts';
import { ACCOUNT_CEILING, ADDRESS_CEILING, checkPair, countFailure, overCeiling, pairKey, throttledNetwork, waitText } from './state.ts';
import { fieldError, goToNextStep, loadJourney, nextStep, page, type Journey, type JourneyDeps } from './flow.ts';
import { passkeyOffer, registerPasskeySignIn } from './passkey.ts';
import { signInByHeader, TEST_USER_HEADER } from './test-user-header.ts';
import { isEmailAddress } from '../../security/email.ts';
import { EMAIL, form, formProblems, PASSWORD } from '../../web/forms.ts';

type Req = { Params: { uid: string }; Body: { email?: string; password?: string } };


export function registerSignIn(app: FastifyInstance, deps: JourneyDeps) {
  const show = async (
    reply: Parameters<typeof page>[1],
    j: Journey,
    allowRegistration: boolean,
    ctx: Record<string, unknown> = {},
    status = 200,
  ) =>
    page(
      deps,
      reply,
      'sign-in.njk',
      {
        title: 'Enter your email address and password',
        action: `${j.base}/sign-in`,
        registerHref: allowRegistration ? `${j.base}/register` : undefined,
        ...(await passkeyOffer(deps, j)),
        ...ctx,
      },
      status,
    );

  app.get<Req>('/interaction/:uid', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    const byHeader = await signInByHeader(deps, j, req);
    if (byHeader === 'signed_in') return goToNextStep(deps, j, reply);
    if (byHeader === 'refused') {
      const text = `The ${TEST_USER_HEADER} header names no published test account and no test user of this client's organisation`;
      return show(reply, j, j.details.params.allow_registration !== 'false', { errors: [fieldError('email', text)] }, 400);
    }
    return reply.redirect(`${j.base}/${nextStep(j) === 'unsupported' ? 'sign-in' : nextStep(j)}`, 303);
  });

  // The passkey's refusals are this page again, with its error summary (journeys/passkey.ts).
  registerPasskeySignIn(app, deps, (reply, j, ctx, status) => show(reply, j, j.details.params.allow_registration !== 'false', ctx, status));

  app.get<Req>('/interaction/:uid/sign-in', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    return show(reply, j, j.details.params.allow_registration !== 'false');
  });

  app.post<Req>('/interaction/:uid/sign-in', form({ email: EMAIL, password: PASSWORD }), async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    const allowRegistration = j.details.params.allow_registration !== 'false';
    const email = String(req.body?.email ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    const bad = formProblems(req);
    if (bad) return show(reply, j, allowRegistration, { errors: bad, email }, 400);
    const errors = [];
    if (!email) errors.push(fieldError('email', 'Enter your email address'));
    else if (!isEmailAddress(email))
      errors.push(fieldError('email', 'Enter an email address in the correct format, like name@example.com'));
    if (!password) errors.push(fieldError('password', 'Enter your password'));
    if (errors.length) return show(reply, j, allowRegistration, { errors, email }, 400);

    const env = deps.env.name;
    const clientId = j.details.params.client_id as string;
    const shared = deps.people.shared[env]?.has(email) ?? false;
    // Throttling (storage/lockout.ts): the pair of this account and this address waits after repeated failures; past
    // the account's or the network's ceiling, the password's verdict is told only with the security code's. The
    // published test accounts have no account ceiling, and their checks may overlap: everybody uses them.
    const accountKey = `${env}:password:${email}`;
    const network = throttledNetwork(req.ip);
    const addressKey = `${env}:address:${network}`;
    const guarded =
      (await overCeiling(deps.db, addressKey, ADDRESS_CEILING)) || (!shared && (await overCeiling(deps.db, accountKey, ACCOUNT_CEILING)));
    const checked = await checkPair(
      deps.db,
      pairKey(accountKey, network),
      async () => {
        const person = await findPersonByEmail(deps.db, env, email);
        const ok = (await verifyPassword(password, person?.password_hash)) && person !== undefined;
        return { ok, value: { person, ok } };
      },
      { concurrent: shared },
    );
    if (checked.refused) {
      const refused = checked.refused;
      const wait = refused.reason === 'wait';
      deps.events.record({
        env,
        clientId,
        kind: 'sign_in',
        outcome: 'error',
        error: wait ? 'throttled' : 'account_busy',
        correlationId: j.uid,
      });
      const text = wait
        ? `You have entered your password incorrectly too many times. ` +
          `Wait ${waitText(refused.reason === 'wait' ? refused.waitMs : 0)} before you try again.`
        : 'This account is signing in elsewhere at this moment. Try again in a few seconds.';
      return show(reply, j, allowRegistration, { errors: [fieldError('password', text)], email }, 429);
    }
    const { person, ok } = checked.value;
    if (!ok) {
      await countFailure(deps.db, addressKey);
      if (!shared) await countFailure(deps.db, accountKey);
      deps.events.record({
        env,
        clientId,
        kind: 'sign_in',
        outcome: 'error',
        error: person ? 'wrong_password' : 'unknown_email',
        correlationId: j.uid,
      });
    }
    if (guarded) {
      // Right or wrong, the security code comes next and the answer comes after it: no verdict on the password alone.
      j.state = ok
        ? { personId: person!.id, credentials: ['Cp'], guarded: { passwordOk: true, email } }
        : { credentials: [], guarded: { passwordOk: false, email } };
      if (ok)
        deps.events.record({
          env,
          clientId,
          kind: 'sign_in',
          outcome: 'ok',
          person: person!.id,
          correlationId: j.uid,
          details: { level: person!.proofing_level, guarded: true },
        });
      j.person = ok ? await findPerson(deps.db, env, person!.id) : undefined;
      return goToNextStep(deps, j, reply);
    }
    if (!ok || !person) {
      const text = checked.waitMs
        ? `You have entered your password incorrectly too many times. Wait ${waitText(checked.waitMs)} before you try again.`
        : `Your email address or password is incorrect. You have ${checked.left} ` +
          `more ${checked.left === 1 ? 'try' : 'tries'} before you must wait.`;
      return show(reply, j, allowRegistration, { errors: [fieldError('email', text)], email }, checked.waitMs ? 429 : 401);
    }
    deps.events.record({
      env,
      clientId,
      kind: 'sign_in',
      outcome: 'ok',
      person: person.id,
      correlationId: j.uid,
      details: { level: person.proofing_level },
    });
    j.state = { personId: person.id, credentials: ['Cp'] };
    j.person = await findPerson(deps.db, deps.env.name, person.id);
    return goToNextStep(deps, j, reply);
  });
}
