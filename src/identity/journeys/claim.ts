/**
 * Provision Account's claiming journey (PW "How it works" 2; brief §6): the patient opens the emailed link, enters the
 * security code sent to their mobile, NHS login checks their details against PDS again, and they create a password
 * (or enter theirs, to uplift an account they have); the account is then P9, usable at once by the partner's service
 * and found by Users Endpoint V2. Pages work without JavaScript. Opening the link changes nothing (mail scanners open
 * links): only its Continue button starts the claim, and binds this browser to it by a cookie of a random key. The link
 * works until the account is set up, so a patient who lost their place (cookie gone, another device) starts again; the
 * newest start is the only live one, and wrong codes and passwords count on the request, so starting again resets nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import {
  countProvisionOtpFailure, countRequest, endProvision, findPerson, findProvision, findProvisionByToken, insertPerson,
  kvGet, kvPut, provisionerName, updatePerson, type ProvisionRequestRow,
} from '../../storage/index.ts';
import { hashPassword, verifyPassword } from '../../security/passwords.ts';
import { hashSecret, newSecret } from '../../security/tokens.ts';
import { form, formProblems, PASSWORD, text } from '../../web/forms.ts';
import { TEST_PACK } from '../people/test-pack.ts';
import { checkPerson } from '../provision/checks.ts';
import { fieldError, page, type JourneyDeps } from './flow.ts';

/** How long a browser's claim lasts once the link is spent (brief §6: 1 hour). */
const CLAIM_TTL = 60 * 60 * 1000;
/** Wrong security codes, and wrong passwords, before the request fails (brief §6: 5). */
const MAX_WRONG = 5;
const NOT_CONFIRMED = 'We could not confirm your details. Contact the service that set this up.';

interface Claim {
  requestId: string;
  codeOk?: boolean;
  done?: boolean;
}

type Req = FastifyRequest<{ Params: { token?: string }; Body: Record<string, string | undefined> }>;

export function registerClaim(app: FastifyInstance, deps: JourneyDeps) {
  const env = deps.env.name;
  const base = `${deps.env.mountPath}/provision`;
  const cookie = `_nhsl_${env}_claim`;
  const record = (row: ProvisionRequestRow, outcome: { step: string } | { error: 'otp_wrong' | 'otp_locked' | 'pds_recheck_failed'
    | 'wrong_password' | 'password_locked' }, person?: string) => {
    const common = { env, clientId: row.client_id, kind: 'provision_claim' as const, person, details: { request: row.id } };
    deps.events.record('error' in outcome
      ? { ...common, outcome: 'error', error: outcome.error }
      : { ...common, outcome: 'ok', details: { ...common.details, step: outcome.step } });
  };
  const problem = (reply: FastifyReply, title: string, message: string, status = 400) =>
    page(deps, reply, 'claim-problem.njk', { title, message }, status);
  const expired = (reply: FastifyReply) =>
    problem(reply, 'This link has expired or has already been used', 'Ask the service that sent it to set up your NHS login again.');
  const pending = async (token: string | undefined) => {
    const row = token && token.length <= 100 ? await findProvisionByToken(deps.db, env, hashSecret(token)) : undefined;
    return row?.status === 'pending' && row.expires_at > Date.now() ? row : undefined;
  };
  /** This browser's claim and its request, while it is the newest start of that request's link. */
  const claimOf = async (req: Req) => {
    const key = req.cookies[cookie];
    const claim = key && key.length <= 100 ? await kvGet<Claim>(deps.db, 'provision-claim', `${env}:${key}`) : undefined;
    const row = claim ? await findProvision(deps.db, env, claim.requestId) : undefined;
    if (!claim || !row) return undefined;
    const newest = await kvGet<string>(deps.db, 'provision-link', row.id);
    return newest === key || claim.done ? { key: key!, claim, row } : 'elsewhere';
  };
  /** This browser's pending claim, or the page that says why there is none. */
  const pendingClaim = async (req: Req, reply: FastifyReply) => {
    const c = await claimOf(req);
    if (c === 'elsewhere') {
      const advice = 'Use the page you opened last, or open the link in your email again.';
      await problem(reply, 'You continued in another browser or tab', advice);
      return undefined;
    }
    if (c?.row.status !== 'pending') {
      await expired(reply);
      return undefined;
    }
    return c;
  };
  const save = (key: string, claim: Claim) => kvPut(deps.db, 'provision-claim', `${env}:${key}`, claim, CLAIM_TTL);
  const fail = async (row: ProvisionRequestRow) => endProvision(deps.db, row, 'failed');
  const phoneEnd = (row: ProvisionRequestRow) => row.phone_number.slice(-2);

  app.get<{ Params: { token: string } }>('/provision/claim/:token', async (req, reply) => {
    const row = await pending(req.params.token);
    if (!row) return expired(reply);
    const who = (await provisionerName(deps.db, row.organisation_id)) ?? 'A healthcare service';
    return page(deps, reply, 'claim-start.njk', {
      title: row.kind === 'create' ? 'Set up your NHS login' : 'Finish setting up your NHS login',
      who, create: row.kind === 'create', phoneEnd: phoneEnd(row), action: `${base}/claim/${req.params.token}`,
    });
  });

  app.post<{ Params: { token: string } }>('/provision/claim/:token', async (req, reply) => {
    const row = await pending(req.params.token);
    if (!row) return expired(reply);
    const key = newSecret();
    await save(key, { requestId: row.id });
    // The newest start wins: an earlier browser's pages now say it continued elsewhere.
    await kvPut(deps.db, 'provision-link', row.id, key, row.expires_at - Date.now());
    reply.setCookie(cookie, key, {
      path: base, httpOnly: true, sameSite: 'lax', secure: deps.env.issuer.startsWith('https:'), maxAge: CLAIM_TTL / 1000,
    });
    record(row, { step: 'opened' });
    return reply.redirect(`${base}/code`, 303);
  });

  const showCode = async (reply: FastifyReply, row: ProvisionRequestRow, ctx: Record<string, unknown> = {}, status = 200) => {
    const person = row.person_id ? await findPerson(deps.db, env, row.person_id) : undefined;
    return page(deps, reply, 'claim-code.njk', {
      title: 'Enter the security code', phoneEnd: phoneEnd(row), action: `${base}/code`,
      hint: `In test environments no text messages are sent: your security code is ${person?.otp ?? TEST_PACK.otp}.`, ...ctx,
    }, status);
  };

  app.get('/provision/code', async (req: Req, reply) => {
    const c = await pendingClaim(req, reply);
    if (!c) return reply;
    return showCode(reply, c.row);
  });

  app.post('/provision/code', form({ otp: text('Security code', 20) }), async (req: Req, reply) => {
    const c = await pendingClaim(req, reply);
    if (!c) return reply;
    const bad = formProblems(req);
    if (bad) return showCode(reply, c.row, { errors: bad }, 400);
    const person = c.row.person_id ? await findPerson(deps.db, env, c.row.person_id) : undefined;
    const expected = person?.otp ?? TEST_PACK.otp;
    if (String(req.body?.otp ?? '').replace(/\s+/g, '') !== expected) {
      const wrong = await countProvisionOtpFailure(deps.db, c.row.id);
      if (wrong >= MAX_WRONG) {
        await fail(c.row);
        record(c.row, { error: 'otp_locked' });
        return problem(reply, 'You entered the wrong security code too many times', 'Contact the service that set this up.');
      }
      record(c.row, { error: 'otp_wrong' });
      const wrongCode = fieldError('otp', 'The security code is not right: enter the code we sent to your mobile');
      return showCode(reply, c.row, { errors: [wrongCode] }, 400);
    }
    // PW "How it works" 2.3: NHS login checks the details with PDS again before the account is set up.
    const again = await checkPerson(deps.db, deps.people, env, { nhs_number: c.row.nhs_number, email_address: c.row.email,
      date_of_birth: c.row.birthdate }, c.row.organisation_id);
    if (!again.ok || again.kind !== c.row.kind || (again.person?.id ?? null) !== c.row.person_id) {
      await fail(c.row);
      record(c.row, { error: 'pds_recheck_failed' });
      return problem(reply, 'We could not confirm your details', NOT_CONFIRMED);
    }
    await save(c.key, { ...c.claim, codeOk: true });
    return reply.redirect(`${base}/password`, 303);
  });

  const showPassword = (reply: FastifyReply, row: ProvisionRequestRow, ctx: Record<string, unknown> = {}, status = 200) =>
    page(deps, reply, 'claim-password.njk', {
      title: row.kind === 'create' ? 'Create a password' : 'Enter your NHS login password', create: row.kind === 'create',
      email: row.email, action: `${base}/password`, ...ctx,
    }, status);

  app.get('/provision/password', async (req: Req, reply) => {
    const c = await pendingClaim(req, reply);
    if (!c) return reply;
    if (!c.claim.codeOk) return reply.redirect(`${base}/code`, 303);
    return showPassword(reply, c.row);
  });

  app.post('/provision/password', form({ password: PASSWORD }), async (req: Req, reply) => {
    const c = await pendingClaim(req, reply);
    if (!c) return reply;
    if (!c.claim.codeOk) return reply.redirect(`${base}/code`, 303);
    const bad = formProblems(req);
    if (bad) return showPassword(reply, c.row, { errors: bad }, 400);
    const password = String(req.body?.password ?? '');
    const row = c.row;
    const person = row.person_id ? await findPerson(deps.db, env, row.person_id) : undefined;
    if (row.kind === 'create' && (password.length < 8 || password.length > 128 || !/[a-z]/i.test(password) || !/\d/.test(password))) {
      const text = 'Enter a password of 8 to 128 characters with at least one letter and one number';
      return showPassword(reply, row, { errors: [fieldError('password', text)] }, 400);
    }
    if (row.kind === 'uplift' && !(await verifyPassword(password, person?.password_hash))) {
      if (!(await countRequest(deps.db, `provision-password:${row.id}`, MAX_WRONG - 1))) {
        await fail(row);
        record(row, { error: 'password_locked' });
        return problem(reply, 'You entered the wrong password too many times', 'Contact the service that set this up.');
      }
      record(row, { error: 'wrong_password' }, person?.id);
      return showPassword(reply, row, { errors: [fieldError('password', 'Enter your NHS login password')] }, 400);
    }
    const pds = deps.people.pds.get(row.nhs_number)!;
    const link = deps.people.linkage.get(row.nhs_number);
    const demographics = {
      proofing_level: 'P9', highest_level: 'P9', nhs_number: row.nhs_number, given_name: pds.given_name, family_name: pds.family_name,
      birthdate: pds.birthdate, postcode: pds.postcode, phone_number: row.phone_number, gp_ods_code: link?.gp_ods_code ?? pds.gp_ods_code,
      ...(link ? { im1: 1, gp_user_id: link.gp_account_id, gp_linkage_key: link.gp_linkage_key } : {}),
    };
    const id = person?.id ?? randomUUID().replaceAll('-', '');
    const hash = row.kind === 'create' ? await hashPassword(password) : '';
    // PW 2.5: the account and the request's end in one transaction, so a second click cannot set it up twice.
    const ended = await endProvision(deps.db, row, 'claimed', async (tx) => {
      if (person) return updatePerson(tx, env, person.id, demographics);
      await insertPerson(tx, {
        env, id, email: row.email, password_hash: hash, otp: TEST_PACK.otp, im1: 0, gp_user_id: null, gp_linkage_key: null,
        ...demographics, created_at: Date.now(), organisation_id: row.organisation_id, otp_disabled: 0, phone_pds_matched: 1,
        pds_trace_fails: 0,
      });
    });
    if (!ended) return expired(reply);
    await save(c.key, { ...c.claim, done: true });
    record(row, { step: 'completed' }, id);
    return reply.redirect(`${base}/done`, 303);
  });

  app.get('/provision/done', async (req: Req, reply) => {
    const c = await claimOf(req);
    if (c === 'elsewhere' || !c?.claim.done) return expired(reply);
    const who = (await provisionerName(deps.db, c.row.organisation_id)) ?? 'the service that set this up';
    return page(deps, reply, 'claim-done.njk', { title: 'Your NHS login is set up', who, email: c.row.email });
  });
}
