/**
 * The two WebAuthn ceremonies behind passkeys (NHS login offers FIDO2 passkeys: nhs-login-docs fido.md; issue 15 §5),
 * done by @simplewebauthn/server, never by hand. Each challenge is stored in the database (kv, single use, five minutes)
 * so any instance can finish a ceremony another began, and is bound to what it was issued for: registration to one
 * person, sign-in to one authorization interaction.
 *
 * The RP ID is the issuer's host and the expected origin the issuer's origin: a passkey made on the toolkit's host signs
 * in to each of its environments' pages, but is stored per environment (storage/passkeys.ts), as NHS login's
 * environments are separate services. User verification is required in both ceremonies: the passkey alone stands for
 * password and device, which is what the `Cm` credential is ("asymmetric cryptographic key within a registered
 * device", vectors-of-trust.md), so the device must have checked the person (biometric or PIN), not only their presence.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { addPasskey, findPasskey, kvTake, kvPut, listPasskeys, usePasskey, type Db } from '../../storage/index.ts';

const CHALLENGE_NS = 'webauthn-challenge';
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

export interface PasskeyEnv {
  name: string;
  issuer: string;
}

/** Why a ceremony was refused; each is a page with an error for the person, never a 500. */
export type PasskeyRefusal = 'challenge' | 'not_verified' | 'already_registered' | 'unknown_passkey' | 'counter';

type Bound = { env: string; purpose: 'register'; personId: string } | { env: string; purpose: 'sign-in'; uid: string };

const relyingParty = (env: PasskeyEnv) => {
  const url = new URL(env.issuer);
  return { rpID: url.hostname, origin: url.origin };
};

/** Takes the challenge the response names, once: true only if it was issued for exactly `want`. */
function takeChallenge(db: Db, want: Bound): (challenge: string) => Promise<boolean> {
  return async (challenge) => {
    const bound = await kvTake<Bound>(db, CHALLENGE_NS, challenge);
    return JSON.stringify(bound) === JSON.stringify(want);
  };
}

/**
 * Options for registering a passkey for a signed-in person. The user handle is the person's `sub` (random, not the NHS
 * number or email: WebAuthn L3 §14.6.1 says it must hold no personal information); the name shown on the device is
 * their email. Their existing passkeys are excluded, so one authenticator is not registered twice.
 */
export async function registrationOptions(
  db: Db,
  env: PasskeyEnv,
  person: { id: string; email: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await listPasskeys(db, env.name, person.id);
  const options = await generateRegistrationOptions({
    rpName: 'NHS login',
    rpID: relyingParty(env).rpID,
    userID: new TextEncoder().encode(person.id),
    userName: person.email,
    attestationType: 'none',
    timeout: CHALLENGE_TTL_MS,
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const bound: Bound = { env: env.name, purpose: 'register', personId: person.id };
  await kvPut(db, CHALLENGE_NS, options.challenge, bound, CHALLENGE_TTL_MS);
  return options;
}

/** Verifies a registration response and stores the passkey. */
export async function finishRegistration(
  db: Db,
  env: PasskeyEnv,
  personId: string,
  response: RegistrationResponseJSON,
): Promise<{ ok: true; credentialId: string } | { ok: false; refusal: PasskeyRefusal }> {
  const { rpID, origin } = relyingParty(env);
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: takeChallenge(db, { env: env.name, purpose: 'register', personId }),
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
    });
  } catch (err) {
    return { ok: false, refusal: /challenge/i.test(String((err as Error).message)) ? 'challenge' : 'not_verified' };
  }
  if (!verified.verified) return { ok: false, refusal: 'not_verified' };
  const { credential } = verified.registrationInfo;
  const stored = await addPasskey(db, {
    credentialId: credential.id,
    env: env.name,
    personId,
    publicKey: isoBase64URL.fromBuffer(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports ?? [],
    createdAt: Date.now(),
  });
  return stored ? { ok: true, credentialId: credential.id } : { ok: false, refusal: 'already_registered' };
}

/**
 * Options for signing in with a passkey within one authorization interaction. No allowCredentials: the passkey is
 * discoverable, so the person picks it on their device without typing an email first.
 */
export async function signInOptions(db: Db, env: PasskeyEnv, uid: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(env).rpID,
    userVerification: 'required',
    timeout: CHALLENGE_TTL_MS,
  });
  const bound: Bound = { env: env.name, purpose: 'sign-in', uid };
  await kvPut(db, CHALLENGE_NS, options.challenge, bound, CHALLENGE_TTL_MS);
  return options;
}

/**
 * Verifies a sign-in assertion: the challenge issued for this interaction, a passkey of this environment, the person
 * verified, and the signature counter moved on (a counter that did not move, when the authenticator keeps one, means a
 * cloned authenticator: WebAuthn L3 §6.1.1). Gives the person the passkey belongs to.
 */
export async function finishSignIn(
  db: Db,
  env: PasskeyEnv,
  uid: string,
  response: AuthenticationResponseJSON,
): Promise<{ ok: true; personId: string; credentialId: string } | { ok: false; refusal: PasskeyRefusal }> {
  const { rpID, origin } = relyingParty(env);
  const challenge = takeChallenge(db, { env: env.name, purpose: 'sign-in', uid });
  const passkey = await findPasskey(db, env.name, response.id);
  if (!passkey) {
    // Still spend the challenge: a refused answer cannot be retried with another credential.
    await challenge(challengeOf(response) ?? '');
    return { ok: false, refusal: 'unknown_passkey' };
  }
  const handle = response.response.userHandle;
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
      credential: {
        id: passkey.credentialId,
        publicKey: isoBase64URL.toBuffer(passkey.publicKey),
        counter: passkey.counter,
        transports: passkey.transports as never,
      },
    });
  } catch (err) {
    const message = String((err as Error).message);
    return { ok: false, refusal: /challenge/i.test(message) ? 'challenge' : /counter/i.test(message) ? 'counter' : 'not_verified' };
  }
  if (!verified.verified) return { ok: false, refusal: 'not_verified' };
  // The user handle, when the authenticator sends it, must be the one registered for this passkey's person.
  if (handle && isoBase64URL.toUTF8String(handle) !== passkey.personId) return { ok: false, refusal: 'unknown_passkey' };
  const moved = await usePasskey(db, env.name, passkey.credentialId, passkey.counter, verified.authenticationInfo.newCounter,
    Date.now());
  if (!moved) return { ok: false, refusal: 'counter' };
  return { ok: true, personId: passkey.personId, credentialId: passkey.credentialId };
}

function challengeOf(response: AuthenticationResponseJSON): string | undefined {
  try {
    const data = JSON.parse(isoBase64URL.toUTF8String(response.response.clientDataJSON)) as { challenge?: unknown };
    return typeof data.challenge === 'string' ? data.challenge : undefined;
  } catch {
    return undefined;
  }
}
