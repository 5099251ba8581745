/** The one-time passcode sent by text message: proves the registered device (credential `Cd`). */
import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { checkAttempt, LOCKOUT_MS, MAX_FAILURES } from './state.ts';
import { fieldError, goToNextStep, loadJourney, nextStep, page, type JourneyDeps } from './flow.ts';
import { form, formProblems, text } from '../../web/forms.ts';

type Req = { Params: { uid: string }; Body: { otp?: string } };

function maskPhone(phone: string | null): string {
  return phone ? `ending ${phone.slice(-3)}` : 'on your account';
}

function sameCode(a: string, b: string): boolean {
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
      hint: deps.env.name === 'live' ? undefined : 'Test accounts use a fixed security code: see the test account pack.',
      ...ctx,
    }, status);

  app.get<Req>('/interaction/:uid/otp', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'otp' || !j.person) return reply.redirect(`${j.base}`, 303); // only after the password
    return show(reply, j.base, j.person.phone_number);
  });

  app.post<Req>('/interaction/:uid/otp', form({ otp: text('Security code', 20) }), async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'otp' || !j.person) return reply.redirect(`${j.base}`, 303); // only after the password
    const bad = formProblems(req);
    if (bad) return show(reply, j.base, j.person.phone_number, { errors: bad }, 400);
    const code = String(req.body?.otp ?? '').replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) {
      return show(reply, j.base, j.person.phone_number, { errors: [fieldError('otp', 'Enter the 6 digit security code')] }, 400);
    }
    const lockKey = `${deps.env.name}:otp:${j.person.id}`;
    const clientId = j.details.params.client_id as string;
    const checked = await checkAttempt(deps.db, lockKey, MAX_FAILURES, async () => {
      const right = sameCode(code, j.person!.otp);
      return { outcome: right ? ('succeeded' as const) : ('failed' as const), value: right };
    });
    if (checked.refused) {
      deps.events.record({ env: deps.env.name, clientId, kind: 'otp', outcome: 'error', reason: 'otp_locked', person: j.person.id, correlationId: j.uid });
      return show(reply, j.base, j.person.phone_number, { errors: [fieldError('otp', `You have entered the wrong security code too many times. Try again in ${LOCKOUT_MS / 60000} minutes.`)] }, 429);
    }
    if (!checked.value) {
      const { left } = checked;
      deps.events.record({ env: deps.env.name, clientId, kind: 'otp', outcome: 'error', reason: 'wrong_otp', person: j.person.id, correlationId: j.uid });
      const text = left === 0
        ? `You have entered the wrong security code too many times. Try again in ${LOCKOUT_MS / 60000} minutes.`
        : `The security code is incorrect. You have ${left} more ${left === 1 ? 'try' : 'tries'}.`;
      return show(reply, j.base, j.person.phone_number, { errors: [fieldError('otp', text)] }, left === 0 ? 429 : 401);
    }
    deps.events.record({ env: deps.env.name, clientId, kind: 'otp', outcome: 'ok', person: j.person.id, correlationId: j.uid });
    if (!j.state.credentials.includes('Cd')) j.state.credentials.push('Cd');
    return goToNextStep(deps, j, reply);
  });
}
