/**
 * Sign in with a passkey (issue 15 §5; NHS login offers passkeys: nhs-login-docs fido.md), offered on the sign-in page
 * only when the request's vtr has a vector a passkey alone meets: `Cm`, "asymmetric cryptographic key within a registered
 * device" (vectors-of-trust.md), so P9.Cm, the one Cm vector in the vector table. A vtr of only Cp vectors signs in with
 * password and security code as before. The assertion is verified against the challenge issued for this interaction
 * (passkeys/ceremonies.ts); the journey then goes on exactly as after the security code (flow.ts nextStep): a P5 person
 * proves their identity, then consent; the ID token's vot is the Cm vector (consent.ts: matchVector over ['Cm']).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { findPerson, type JOURNEY_ERRORS } from '../../storage/index.ts';
import { CHOICE, form, formProblems, text } from '../../web/forms.ts';
import { finishSignIn, signInOptions } from '../passkeys/ceremonies.ts';
import { parseAuthentication } from '../passkeys/parse.ts';
import { goToNextStep, loadJourney, type Journey, type JourneyDeps } from './flow.ts';

type Req = { Params: { uid: string }; Body: { credential?: string; failure?: string } };
type Show = (reply: FastifyReply, j: Journey, ctx: Record<string, unknown>, status: number) => Promise<unknown>;

const PROBLEM: Record<(typeof JOURNEY_ERRORS)['passkey_sign_in'][number], string> = {
  cancelled: 'You did not sign in with a passkey. Try again, or enter your email address and password',
  unreadable: 'Your browser sent something that is not a passkey. Try again, or enter your email address and password',
  challenge: 'This page had expired. Try the passkey again',
  not_verified: 'Your device must check it is you (fingerprint, face or PIN). Try again, or enter your email address and password',
  unknown_passkey: 'This passkey is not registered to an NHS login here. Enter your email address and password',
  counter: 'This passkey could not be trusted. Enter your email address and password',
};

/** True when a passkey alone meets one of the requested vectors. */
export const passkeyAllowed = (j: Journey) => j.requested.some((v) => v.credentials.length > 0 && v.credentials.every((c) => c === 'Cm'));

/** What the sign-in page needs to offer the passkey (the options its script hands to navigator.credentials.get). */
export async function passkeyOffer(deps: JourneyDeps, j: Journey): Promise<Record<string, unknown>> {
  if (!passkeyAllowed(j)) return {};
  const options = await signInOptions(deps.db, { name: deps.env.name, issuer: deps.env.issuer }, j.uid);
  return {
    passkeyOptions: JSON.stringify(options),
    passkeyAction: `${j.base}/passkey`,
    passkeyScript: `${deps.env.mountPath}/assets/passkeys.js`,
  };
}

export function registerPasskeySignIn(app: FastifyInstance, deps: JourneyDeps, show: Show) {
  app.post<Req>('/interaction/:uid/passkey', form({ credential: text('The passkey', 16 * 1024), failure: CHOICE('Failure') }),
    async (req, reply) => {
      const j = await loadJourney(deps, req, reply);
      if (!j) return;
      const env = deps.env.name;
      const clientId = j.details.params.client_id as string;
      const problem = (code: keyof typeof PROBLEM, status = 400) => {
        deps.events.record({ env, clientId, kind: 'passkey_sign_in', outcome: 'error', error: code, correlationId: j.uid });
        return show(reply, j, { errors: [{ href: '#passkey-button', text: PROBLEM[code] }] }, status);
      };
      // Not offered for this request (its vtr has no Cm vector): the passkey cannot sign in here.
      if (!passkeyAllowed(j)) return problem('unknown_passkey', 403);
      if (formProblems(req) || req.body.failure || !req.body.credential) return problem(formProblems(req) ? 'unreadable' : 'cancelled');
      const response = parseAuthentication(req.body.credential);
      if (!response) return problem('unreadable');
      const done = await finishSignIn(deps.db, { name: env, issuer: deps.env.issuer }, j.uid, response);
      // A sign-in never registers: finishSignIn cannot refuse as already_registered.
      if (!done.ok) return problem(done.refusal === 'already_registered' ? 'unknown_passkey' : done.refusal);
      j.person = await findPerson(deps.db, env, done.personId);
      if (!j.person) return problem('unknown_passkey');
      deps.events.record({
        env, clientId, kind: 'passkey_sign_in', outcome: 'ok', person: j.person.id, correlationId: j.uid,
        details: { level: j.person.proofing_level },
      });
      j.state = { personId: j.person.id, credentials: ['Cm'] };
      return goToNextStep(deps, j, reply);
    });
}
