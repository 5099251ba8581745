/**
 * The settings page's "Passkeys" section (issue 15 §5; NHS login offers passkeys from its settings: nhs-login-docs
 * fido.md): the person's passkeys with "Remove", and "Add a passkey", which the same-origin script (assets/passkeys.js)
 * turns into navigator.credentials.create with the options this page embeds, then posts the result as a form field.
 * The person is the OpenID Provider session's; its forms carry the double-submit CSRF token (web/csrf.ts). Every
 * refusal is the settings page again with an error summary, never a 500.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Environment } from '../environment.ts';
import { findPerson, listPasskeys, removePasskey, type PersonRow } from '../../storage/index.ts';
import { doubleSubmitOk, doubleSubmitToken, type CsrfCookie } from '../../web/csrf.ts';
import { CHOICE, CSRF, form, formProblems, text } from '../../web/forms.ts';
import { page, type JourneyDeps } from '../journeys/flow.ts';
import { finishRegistration, registrationOptions, type PasskeyEnv, type PasskeyRefusal } from './ceremonies.ts';
import { parseRegistration } from './parse.ts';

export const PASSKEYS_JS = readFileSync(path.join(import.meta.dirname, 'assets', 'passkeys.js'));

const LEVELS: Record<string, string> = { P0: 'Not verified', P5: 'Partly verified (P5)', P9: 'Fully verified (P9)' };

/** Why adding a passkey did not work, as the person reads it. */
const ADD_PROBLEM: Record<PasskeyRefusal | 'cancelled' | 'unreadable', string> = {
  cancelled: 'The passkey was not added: your device did not create it. Try again, or sign in with your password and security code',
  unreadable: 'The passkey was not added: your browser sent something that is not a passkey. Try again',
  challenge: 'The passkey was not added because the page had expired. Try again',
  not_verified: 'The passkey was not added: your device must check it is you (fingerprint, face or PIN). Try again',
  already_registered: 'This passkey is already registered. You do not need to add it again',
  unknown_passkey: 'The passkey was not added. Try again',
  counter: 'The passkey was not added. Try again',
};

const formatDate = (ms: number) =>
  new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/London' }).format(ms);

export const passkeyEnv = (env: Environment): PasskeyEnv => ({ name: env.config.name, issuer: env.config.issuer });

const csrfCookie = (env: Environment): CsrfCookie => ({
  name: 'nhslogin_csrf',
  path: `${env.config.mountPath}/settings`,
  secure: env.config.issuer.startsWith('https:'),
});

/** The person the provider's session in this browser is signed in as, if any. */
export async function sessionPerson(env: Environment, deps: JourneyDeps, req: FastifyRequest, reply: FastifyReply) {
  const session = await env.provider.Session.get(env.provider.createContext(req.raw, reply.raw));
  const person = session.accountId ? await findPerson(deps.db, env.config.name, session.accountId) : undefined;
  return { session, person };
}

/** The settings page for this person (or for nobody signed in), with its passkeys section. */
export async function showSettings(
  env: Environment,
  deps: JourneyDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  person: PersonRow | undefined,
  extra: { errors?: { href: string; text: string }[]; notice?: string } = {},
  status = 200,
) {
  const base = `${env.config.mountPath}/settings`;
  const passkeys = person ? await listPasskeys(deps.db, env.config.name, person.id) : [];
  const options = person ? await registrationOptions(deps.db, passkeyEnv(env), { id: person.id, email: person.email }) : undefined;
  return page(deps, reply, 'settings.njk', {
    title: 'Your NHS login',
    person,
    levelText: person ? LEVELS[person.proofing_level] : '',
    csrf: person ? doubleSubmitToken(req, reply, csrfCookie(env)) : undefined,
    addAction: `${base}/passkeys`,
    removeAction: `${base}/passkeys/remove`,
    passkeyScript: `${env.config.mountPath}/assets/passkeys.js`,
    creationOptions: options ? JSON.stringify(options) : undefined,
    passkeys: passkeys.map((p) => ({
      id: p.credentialId,
      created: formatDate(p.createdAt),
      lastUsed: p.lastUsedAt === null ? 'Not used yet' : formatDate(p.lastUsedAt),
    })),
    ...extra,
  }, status);
}

type AddReq = { Body: { _csrf?: string; credential?: string; failure?: string } };
type RemoveReq = { Body: { _csrf?: string; credential_id?: string } };

export function registerPasskeySettings(app: FastifyInstance, env: Environment, deps: JourneyDeps) {
  const c = env.config;
  app.get('/assets/passkeys.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(PASSKEYS_JS),
  );

  /** The checks both forms share: somebody signed in, the form's own token, fields of the right shape. */
  async function gate(req: FastifyRequest, reply: FastifyReply) {
    const { person } = await sessionPerson(env, deps, req, reply);
    if (!person) {
      await showSettings(env, deps, req, reply, undefined, {}, 401);
      return undefined;
    }
    if (!doubleSubmitOk(req, csrfCookie(env).name)) {
      page(deps, reply, 'error.njk', { title: 'This form has expired', message: 'Go back, refresh the page and try again.', code: 'csrf' },
        403);
      return undefined;
    }
    const bad = formProblems(req);
    if (bad) {
      await showSettings(env, deps, req, reply, person, { errors: bad.map(({ href, text }) => ({ href, text })) }, 400);
      return undefined;
    }
    return person;
  }

  app.post<AddReq>('/settings/passkeys', form({ _csrf: CSRF, credential: text('The passkey', 16 * 1024), failure: CHOICE('Failure') }),
    async (req, reply) => {
      const person = await gate(req, reply);
      if (!person) return;
      const problem = (key: keyof typeof ADD_PROBLEM) => {
        deps.events.record({ env: c.name, kind: 'passkey_register', outcome: 'error', error: key, person: person.id });
        return showSettings(env, deps, req, reply, person, { errors: [{ href: '#passkey-add-button', text: ADD_PROBLEM[key] }] }, 400);
      };
      if (req.body.failure || !req.body.credential) return problem('cancelled');
      const response = parseRegistration(req.body.credential);
      if (!response) return problem('unreadable');
      const done = await finishRegistration(deps.db, passkeyEnv(env), person.id, response);
      if (!done.ok) return problem(done.refusal);
      deps.events.record({ env: c.name, kind: 'passkey_register', outcome: 'ok', person: person.id });
      return reply.redirect(`${c.mountPath}/settings?passkey=added`, 303);
    });

  app.post<RemoveReq>('/settings/passkeys/remove', form({ _csrf: CSRF, credential_id: text('The passkey', 1024) }), async (req, reply) => {
    const person = await gate(req, reply);
    if (!person) return;
    const removed = await removePasskey(deps.db, c.name, person.id, String(req.body.credential_id ?? ''));
    if (!removed) {
      deps.events.record({ env: c.name, kind: 'passkey_remove', outcome: 'error', error: 'unknown_passkey', person: person.id });
      return showSettings(env, deps, req, reply, person,
        { errors: [{ href: '#passkeys', text: 'That passkey is not registered to your NHS login: it may have been removed already' }] },
        400);
    }
    deps.events.record({ env: c.name, kind: 'passkey_remove', outcome: 'ok', person: person.id });
    return reply.redirect(`${c.mountPath}/settings?passkey=removed`, 303);
  });
}
