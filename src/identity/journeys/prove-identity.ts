/**
 * "Prove your identity": uplift to P5 by matching NHS number, name, date of birth and postcode against the
 * environment's test PDS records, then to P9 with GP online services details or a simulated photo-ID check (p9.ts).
 */
import type { FastifyInstance } from 'fastify';
import { findPerson, updatePerson } from '../../storage/index.ts';
import { higherLevel, levelAtLeast, matchVector } from '../vectors.ts';
import { fieldError, goToNextStep, loadJourney, nextStep, page, type Journey, type JourneyDeps } from './flow.ts';
import { CHOICE, form, formProblems, text } from '../../web/forms.ts';
import { mobileRoute, upliftToP9 } from './p9.ts';

const DETAILS = form({
  nhs_number: text('NHS number', 20),
  family_name: text('Last name', 100),
  postcode: text('Postcode', 20),
  'birthdate-day': text('Day of birth', 4),
  'birthdate-month': text('Month of birth', 4),
  'birthdate-year': text('Year of birth', 6),
  document: CHOICE('Photo ID'),
  method: CHOICE('How you will prove your identity'),
  linkage_key: text('Linkage key', 40),
  account_id: text('Account ID', 40),
  ods_code: text('GP surgery ODS code', 20),
  mobile_code: text('Security code', 20),
});

type Req = { Params: { uid: string }; Body: Record<string, string | undefined> };

const norm = (s: string | null | undefined) => String(s ?? '').replace(/\s+/g, '').toUpperCase();

function targetLevel(j: Journey): 'P5' | 'P9' {
  const reachable = j.requested.filter((v) => v.credentials.every((c) => j.state.credentials.includes(c)));
  return reachable.some((v) => v.level === 'P5') ? 'P5' : 'P9';
}

export function registerProveIdentity(app: FastifyInstance, deps: JourneyDeps) {
  const show = (reply: Parameters<typeof page>[1], j: Journey, ctx: Record<string, unknown> = {}, status = 200) => {
    const needP5 = !levelAtLeast(j.person!.proofing_level, 'P5');
    return page(deps, reply, needP5 ? 'prove-identity-p5.njk' : 'prove-identity-p9.njk', {
      title: needP5 ? 'Prove who you are' : 'Prove your identity',
      action: `${j.base}/prove-identity`,
      target: targetLevel(j),
      mobile: needP5 ? undefined : mobileRoute(deps, j.person!),
      ...ctx,
    }, status);
  };

  app.get<Req>('/interaction/:uid/prove-identity', async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    // Only at this step: not before the password and security code, not after the level is met.
    if (nextStep(j) !== 'prove-identity' || !j.person) return reply.redirect(`${j.base}`, 303);
    return show(reply, j);
  });

  app.post<Req>('/interaction/:uid/prove-identity', DETAILS, async (req, reply) => {
    const j = await loadJourney(deps, req, reply);
    if (!j) return;
    // Only at this step: not before the password and security code, not after the level is met.
    if (nextStep(j) !== 'prove-identity' || !j.person) return reply.redirect(`${j.base}`, 303);
    const clientId = String(j.details.params.client_id);
    const b = req.body ?? {};
    const bad = formProblems(req);
    if (bad)
      return show(
        reply,
        j,
        {
          errors: bad,
          values: {
            nhs_number: b.nhs_number,
            family_name: b.family_name,
            postcode: b.postcode,
            day: b['birthdate-day'],
            month: b['birthdate-month'],
            year: b['birthdate-year'],
          },
        },
        400,
      );
    if (!levelAtLeast(j.person.proofing_level, 'P5')) {
      const nhsNumber = norm(b.nhs_number);
      const birthdate = `${String(b['birthdate-year'] ?? '').trim()}-${String(b['birthdate-month'] ?? '')
        .trim()
        .padStart(2, '0')}-${String(b['birthdate-day'] ?? '')
        .trim()
        .padStart(2, '0')}`;
      const errors = [];
      if (!/^\d{10}$/.test(nhsNumber)) errors.push(fieldError('nhs_number', 'Enter your 10 digit NHS number'));
      if (!norm(b.family_name)) errors.push(fieldError('family_name', 'Enter your last name'));
      if (!/^\d{4}-\d{2}-\d{2}$/.test(birthdate) || Number.isNaN(Date.parse(birthdate)))
        errors.push(fieldError('birthdate-day', 'Enter your date of birth, like 15 3 1984'));
      if (!norm(b.postcode)) errors.push(fieldError('postcode', 'Enter your postcode'));
      const values = {
        nhs_number: b.nhs_number,
        family_name: b.family_name,
        postcode: b.postcode,
        day: b['birthdate-day'],
        month: b['birthdate-month'],
        year: b['birthdate-year'],
      };
      if (errors.length) return show(reply, j, { errors, values }, 400);
      const pds = deps.people.pds.get(nhsNumber);
      const link = deps.people.linkage.get(nhsNumber);
      // Test-data switch: this person's PDS trace finds nothing, whatever they enter.
      const matched =
        pds &&
        !pds.date_of_death &&
        j.person.pds_trace_fails !== 1 &&
        norm(pds.family_name) === norm(b.family_name) &&
        pds.birthdate === birthdate &&
        norm(pds.postcode) === norm(b.postcode);
      if (!matched) {
        deps.events.record({
          env: deps.env.name,
          clientId,
          kind: 'uplift',
          outcome: 'error',
          error: 'pds_no_match',
          person: j.person.id,
          correlationId: j.uid,
          details: { to: 'P5' },
        });
        return show(
          reply,
          j,
          { errors: [fieldError('nhs_number', 'We could not match your details to an NHS record. Check them and try again.')], values },
          400,
        );
      }
      await updatePerson(deps.db, deps.env.name, j.person.id, {
        proofing_level: 'P5',
        highest_level: higherLevel(j.person.highest_level, 'P5'),
        nhs_number: pds.nhs_number,
        family_name: pds.family_name,
        given_name: pds.given_name,
        birthdate: pds.birthdate,
        postcode: pds.postcode,
        gp_ods_code: pds.gp_ods_code || null,
        // A GP online (IM1) linkage record for this patient links the NHS login to their GP account.
        ...(link ? { im1: 1, gp_user_id: link.gp_account_id, gp_linkage_key: link.gp_linkage_key, gp_ods_code: link.gp_ods_code } : {}),
      });
      deps.events.record({
        env: deps.env.name,
        clientId,
        kind: 'uplift',
        outcome: 'ok',
        person: j.person.id,
        correlationId: j.uid,
        details: { to: 'P5' },
      });
    } else if (!(await upliftToP9(deps, j, req, b, (ctx, status) => show(reply, j, ctx, status)))) {
      return reply;
    }
    j.person = await findPerson(deps.db, deps.env.name, j.person.id);
    if (!matchVector(j.requested, { level: j.person!.proofing_level, credentials: j.state.credentials }) && targetLevel(j) === 'P9') {
      return reply.redirect(`${j.base}/prove-identity`, 303);
    }
    return goToNextStep(deps, j, reply);
  });
}
