/**
 * The consent screen lists what will be shared, per scope. Declining asks once more ("go back" or
 * "continue without sharing"); a confirmed decline returns access_denied + ConsentNotGiven to the service
 * (NHS login interface spec, /authorize errors).
 */
import type { FastifyInstance } from 'fastify';
import { SCOPE_DESCRIPTIONS } from '../claims.ts';
import { matchVector } from '../vectors.ts';
import { journeyState } from './state.ts';
import { resolveOnSignIn } from '../gp-system/states.ts';
import { liftOnSignIn } from '../gp-system/run-credentials.ts';
import { browserMark, MARK_COOKIE } from '../run-marks.ts';
import { finishWithError, loadJourney, nextStep, page, type Journey, type JourneyDeps } from './flow.ts';

type Req = { Params: { uid: string } };

function sharedItems(j: Journey): string[] {
  const scopes = String(j.details.params.scope ?? '').split(' ');
  return scopes.filter((s) => Object.hasOwn(SCOPE_DESCRIPTIONS, s)).map((s) => SCOPE_DESCRIPTIONS[s]!);
}

export function registerConsent(app: FastifyInstance, deps: JourneyDeps) {
  app.get<Req>('/interaction/:uid/consent', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'consent') return reply.redirect(`${j.base}`, 303);
    const client = await deps.provider.Client.find(String(j.details.params.client_id));
    return page(deps, reply, 'consent.njk', {
      title: 'Share your NHS login information',
      serviceName: client?.clientName ?? 'this service',
      items: sharedItems(j),
      action: `${j.base}/consent`,
      declineAction: `${j.base}/decline`,
    });
  });

  app.post<Req>('/interaction/:uid/consent', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'consent' || !j.person) return reply.redirect(`${j.base}`, 303);
    const { provider } = deps;
    const clientId = String(j.details.params.client_id);
    // The session's grant belongs to whoever the session was for; a different person gets a grant of their own.
    const existing = j.details.grantId ? await provider.Grant.find(j.details.grantId) : undefined;
    const grant = existing?.accountId === j.person.id ? existing : new provider.Grant({ accountId: j.person.id, clientId });
    grant.addOIDCScope(String(j.details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    const signedIn = j.state.credentials.length > 0;
    const vot = signedIn
      ? matchVector(j.requested, { level: j.person.proofing_level, credentials: j.state.credentials })?.value
      : undefined;
    const result = {
      ...(signedIn ? { login: { accountId: j.person.id, acr: vot, amr: j.state.credentials, remember: true } } : {}),
      consent: { grantId },
    };
    deps.events.record({
      env: deps.env.name,
      clientId,
      kind: 'consent',
      outcome: 'ok',
      person: j.person.id,
      correlationId: j.uid,
      details: { scope: j.details.params.scope, vot },
    });
    // A sign-in with credentials refreshes GP credentials NHS login can refresh, and lifts Restricted (gp-credentials.md).
    if (signedIn) {
      await resolveOnSignIn(deps, deps.env.name, j.person, clientId);
      await liftOnSignIn(deps, deps.env.name, await browserMark(deps.db, deps.env.name, req.cookies[MARK_COOKIE]));
    }
    const url = await provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    if (signedIn && j.details.session?.accountId && j.details.session.accountId !== j.person.id) {
      // Another person signed in over an existing session: that person's session ends here (after the
      // result is saved: the engine refuses a result once the session's person has changed). Left to the
      // engine, it would hand the browser to its end-session endpoint, which NHS login does not have.
      const session = await provider.Session.find(j.details.session.cookie);
      if (session) {
        session.accountId = undefined as never;
        session.authorizations = {};
        await session.save(Math.max(1, (session.exp ?? 0) - Math.floor(Date.now() / 1000)));
      }
    }
    await journeyState.clear(deps.db, deps.env.name, j.uid);
    return reply.redirect(url, 303);
  });

  app.post<Req>('/interaction/:uid/decline', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'consent') return reply.redirect(`${j.base}`, 303); // only from the consent screen
    return page(deps, reply, 'decline.njk', {
      title: 'If you do not share your information',
      backHref: `${j.base}/consent`,
      action: `${j.base}/decline/confirm`,
    });
  });

  app.post<Req>('/interaction/:uid/decline/confirm', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    if (nextStep(j) !== 'consent') return reply.redirect(`${j.base}`, 303);
    deps.events.record({
      env: deps.env.name,
      clientId: String(j.details.params.client_id),
      kind: 'consent',
      outcome: 'error',
      error: 'ConsentNotGiven',
      person: j.person?.id,
      correlationId: j.uid,
    });
    return finishWithError(deps, j, reply, 'access_denied', 'ConsentNotGiven');
  });
}
