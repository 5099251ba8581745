/** The one-time passcode sent by text message: proves the registered device (credential `Cd`). */
import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import {
  ACCOUNT_CEILING,
  checkPair,
  countFailure,
  journeyState,
  LOCKOUT_MS,
  overCeiling,
  pairKey,
  throttledNetwork,
  waitText,
} from './state.ts';
import { fieldError, goToNextStep, loadJourney, nextStep, page, type Journey, type JourneyDeps } from './flow.ts';
import { form, formProblems, text } from '../../web/forms.ts';

type Req = { Params: { uid: string }; Body: { otp?: string } };

export function maskPhone(phone: string | null): string {
  return phone ? ` ending ${phone.slice(-3)}` : '';
}

export function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerOtp(app: FastifyInstance, deps: JourneyDeps) {
  const show = (reply: Parameters<typeof page>[1], base: string, phone: string | null, ctx: Record<string, unknown> = {}, status = 200) =>
    page(deps, reply, 'otp.njk', {
      title: 'Enter the security code',
      action: `${base}/otp`,
      phone: maskPhone(phone),
      hint: deps.env.capabilities.testAccounts ? 'Test accounts use a fixed security code: see the test account pack.' : undefined,
      ...ctx,
    }, status);

  app.get<Req>('/interaction/:uid/otp', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'otp') return reply.redirect(`${j.base}`, 303); // only after the password
    // Guarded (state.ts): the page must look the same whether the password was right, so it names no phone.
    return show(reply, j.base, j.state.guarded ? null : j.person!.phone_number);
  });

  app.post<Req>('/interaction/:uid/otp', form({ otp: text('Security code', 20) }), async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'otp') return reply.redirect(`${j.base}`, 303); // only after the password
    const guarded = j.state.guarded;
    const bad = formProblems(req);
    if (bad) return show(reply, j.base, guarded ? null : j.person!.phone_number, { errors: bad }, 400);
    const code = String(req.body?.otp ?? '').replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) {
      return show(
        reply,
        j.base,
        guarded ? null : j.person!.phone_number,
        { errors: [fieldError('otp', 'Enter the 6 digit security code')] },
        400,
      );
    }
    const env = deps.env.name;
    const clientId = j.details.params.client_id as string;
    if (guarded && !guarded.passwordOk) return guardedFailure(j, guarded.email, reply);
    const person = j.person!;
    const shared = deps.people.shared[env]?.has(person.email) ?? false;
    // As for passwords (storage/lockout.ts): this person and this address wait after repeated wrong codes. Someone who
    // knows the password can also lock the code for 15 minutes by failing it from many addresses, except on the
    // published test accounts, whose password everybody knows.
    const personKey = `${env}:otp:${person.id}`;
    if (!shared && (await overCeiling(deps.db, personKey, ACCOUNT_CEILING))) {
      deps.events.record({ env, clientId, kind: 'otp', outcome: 'error', error: 'otp_locked', person: person.id, correlationId: j.uid });
      return show(
        reply,
        j.base,
        person.phone_number,
        {
          errors: [
            fieldError('otp', `You have entered the wrong security code too many times. Try again in ${LOCKOUT_MS / 60000} minutes.`),
          ],
        },
        429,
      );
    }
    const checked = await checkPair(deps.db, pairKey(personKey, throttledNetwork(req.ip)), async () => {
      const right = sameCode(code, person.otp);
      return { ok: right, value: right };
    }, { concurrent: shared });
    if (checked.refused) {
      const refused = checked.refused;
      const wait = refused.reason === 'wait';
      deps.events.record({
        env,
        clientId,
        kind: 'otp',
        outcome: 'error',
        error: wait ? 'throttled' : 'otp_busy',
        person: person.id,
        correlationId: j.uid,
      });
      const text = wait
        ? `You have entered the wrong security code too many times. ` +
          `Wait ${waitText(refused.reason === 'wait' ? refused.waitMs : 0)} before you try again.`
        : 'A security code for this account is being checked: try again in a few seconds.';
      return show(reply, j.base, guarded ? null : person.phone_number, { errors: [fieldError('otp', text)] }, 429);
    }
    if (!checked.value) {
      if (!shared) await countFailure(deps.db, personKey);
      deps.events.record({ env, clientId, kind: 'otp', outcome: 'error', error: 'wrong_otp', person: person.id, correlationId: j.uid });
      if (guarded) return guardedFailure(j, guarded.email, reply);
      const text = checked.waitMs
        ? `You have entered the wrong security code too many times. Wait ${waitText(checked.waitMs)} before you try again.`
        : `The security code is incorrect. You have ${checked.left} more ${checked.left === 1 ? 'try' : 'tries'} before you must wait.`;
      return show(reply, j.base, person.phone_number, { errors: [fieldError('otp', text)] }, checked.waitMs ? 429 : 401);
    }
    deps.events.record({ env, clientId, kind: 'otp', outcome: 'ok', person: person.id, correlationId: j.uid });
    delete j.state.guarded;
    if (!j.state.credentials.includes('Cd')) j.state.credentials.push('Cd');
    return goToNextStep(deps, j, reply);
  });

  /** A guarded sign-in that failed at either step: one answer for both, and the journey starts again at sign-in. */
  async function guardedFailure(j: Journey, email: string, reply: FastifyReply) {
    j.state = { credentials: [] };
    await journeyState.put(deps.db, deps.env.name, j.uid, j.state);
    return page(deps, reply, 'sign-in.njk', {
      title: 'Enter your email address and password', action: `${j.base}/sign-in`, email,
      registerHref: j.details.params.allow_registration !== 'false' ? `${j.base}/register` : undefined,
      errors: [fieldError('email', 'Your email address, password or security code is incorrect. Enter them again.')],
    }, 401);
  }
}
