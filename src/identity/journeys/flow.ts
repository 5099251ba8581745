/**
 * Where a journey goes next: sign in -> one-time passcode -> prove your identity (when the requested vector
 * needs a higher level) -> consent. Shared by every step so the order lives in one place.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Db, EventSink, PersonRow } from '../../storage/index.ts';
import { findPerson } from '../../storage/index.ts';
import type { EnvironmentConfig } from '../../config/index.ts';
import type { Render } from '../../web/views.ts';
import type { PeopleData } from '../people/index.ts';
import { matchVector, parseVtr, type Vector } from '../vectors.ts';
import { journeyState, type JourneyState } from './state.ts';

/** Mail to a person (a patient's claiming link): the composition root hands the outbox in; identity knows no onboarding. */
export interface MailPort {
  send(mail: { to: string; subject: string; body: string }): Promise<void>;
}

export interface JourneyDeps {
  env: EnvironmentConfig;
  mail: MailPort;
  provider: Provider;
  db: Db;
  events: EventSink;
  render: Render;
  people: PeopleData;
}

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface Journey {
  uid: string;
  details: Details;
  state: JourneyState;
  person: PersonRow | undefined;
  requested: Vector[];
  base: string;
}

export const ENV_LABEL: Record<string, string> = { sandpit: 'Sandpit', integration: 'Integration', live: 'Live' };

export function page(deps: JourneyDeps, reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(deps.render(view, { environmentLabel: ENV_LABEL[deps.env.name], ...ctx }));
}

/** Loads the interaction behind a journey page, or answers with the "session expired" page. */
export async function loadJourney(
  deps: JourneyDeps,
  req: FastifyRequest<{ Params: { uid: string } }>,
  reply: FastifyReply,
): Promise<Journey | undefined> {
  let details: Details;
  try {
    details = await deps.provider.interactionDetails(req.raw, reply.raw);
  } catch (e) {
    if (e instanceof errors.SessionNotFound || e instanceof errors.InvalidRequest) {
      page(
        deps,
        reply,
        'error.njk',
        {
          title: 'Your session has ended',
          message: 'For your security, this page has expired. Go back to the service you were using and sign in again.',
          code: 'session_not_found',
        },
        400,
      );
      return undefined;
    }
    throw e;
  }
  if (details.uid !== req.params.uid) {
    page(
      deps,
      reply,
      'error.njk',
      {
        title: 'Your session has ended',
        message: 'Go back to the service you were using and sign in again.',
        code: 'interaction_mismatch',
      },
      400,
    );
    return undefined;
  }
  const state = await journeyState.get(deps.db, deps.env.name, details.uid);
  // A consent-only interaction (single sign-on with new scopes) continues the existing session's person.
  if (!state.personId && details.prompt.name === 'consent' && details.session?.accountId) {
    state.personId = details.session.accountId;
    state.credentials = [];
  }
  const person = state.personId ? await findPerson(deps.db, deps.env.name, state.personId) : undefined;
  return {
    uid: details.uid,
    details,
    state,
    person,
    requested: parseVtr(details.params.vtr as string | undefined),
    base: `${deps.env.mountPath}/interaction/${details.uid}`,
  };
}

/** The step a journey needs next. */
export function nextStep(j: Journey): 'sign-in' | 'otp' | 'prove-identity' | 'consent' | 'unsupported' {
  if (j.details.prompt.name === 'consent' && j.state.personId && j.state.credentials.length === 0) return 'consent';
  const creds = j.state.credentials;
  // A guarded sign-in (state.ts) goes to the security code whatever the password was and whatever the vector needs.
  if (j.state.guarded && !creds.includes('Cd')) return 'otp';
  // Signed in: with a password (Cp), or with a passkey (Cm, which stands for password and device: passkeys/ceremonies.ts).
  if (!j.person || !(creds.includes('Cp') || creds.includes('Cm'))) return 'sign-in';
  const credentialsMet = j.requested.filter((v) => v.credentials.every((c) => creds.includes(c)));
  if (credentialsMet.length === 0) {
    // Cd (registered device) is proven by the SMS passcode after a password; Ck cannot be presented in these journeys.
    const byCode = j.requested.some((v) => v.credentials.every((c) => c === 'Cp' || c === 'Cd'));
    if (creds.includes('Cp') && !creds.includes('Cd') && byCode) return 'otp';
    return 'unsupported';
  }
  if (!matchVector(credentialsMet, { level: j.person.proofing_level, credentials: creds })) return 'prove-identity';
  return 'consent';
}

export async function goToNextStep(deps: JourneyDeps, j: Journey, reply: FastifyReply) {
  let step = nextStep(j);
  if (step === 'otp' && j.person?.otp_disabled === 1 && j.state.credentials.includes('Cp')) {
    // Test-data switch "OTP disabled": the device counts as proven without a code.
    j.state.credentials.push('Cd');
    step = nextStep(j);
  }
  await journeyState.put(deps.db, deps.env.name, j.uid, j.state);
  if (step === 'unsupported') {
    return finishWithError(
      deps,
      j,
      reply,
      'access_denied',
      'the requested vector of trust needs a credential (Ck) that the toolkit journeys cannot present',
    );
  }
  return reply.redirect(`${j.base}/${step}`, 303);
}

export async function finishWithError(deps: JourneyDeps, j: Journey, reply: FastifyReply, error: string, description: string) {
  const url = await deps.provider.interactionResult(
    reply.request.raw,
    reply.raw,
    { error, error_description: description },
    { mergeWithLastSubmission: false },
  );
  await journeyState.clear(deps.db, deps.env.name, j.uid);
  return reply.redirect(url, 303);
}

export function fieldError(field: string, text: string) {
  return { href: `#${field}`, text };
}
