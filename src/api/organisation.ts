/**
 * /api/v1 for the organisation itself: its details, members and invitations, application, documents,
 * integration test users and environment requests — the same domain calls as the portal's pages.
 */
import type { FastifyInstance } from 'fastify';
import { DOCUMENT_KINDS, isRequestedEnv, type ApplicationAnswers } from '../onboarding/index.ts';
import { actorOf, fail, failWith, str, type ApiDeps } from './context.ts';
import { ToolkitError } from '../errors.ts';
import { BODIES, params } from './schemas.ts';

export function organisationRoutes(app: FastifyInstance, d: ApiDeps) {
  // The toolkit's errors become JSON errors with their stable code (as the API's error handler does for other routes).
  const guarded = <T>(reply: import('fastify').FastifyReply, run: () => Promise<T>) =>
    run().catch((e: unknown) => {
      if (e instanceof ToolkitError) return failWith(reply, e);
      throw e;
    });

  app.get('/organisation', async (req) => {
    const { organisation: o } = actorOf(req);
    return { id: o.id, name: o.name, ods_code: o.ods_code, your_role: o.role };
  });
  app.patch<{ Body: unknown }>('/organisation', { schema: { body: BODIES.organisation } }, async (req, reply) =>
    guarded(reply, async () => {
      const { organisation: o, userId } = actorOf(req);
      await d.onboarding.updateOrganisation(userId, o.id, {
        name: str(req.body, 'name') ?? o.name,
        odsCode: str(req.body, 'ods_code') ?? o.ods_code ?? undefined,
      });
      return reply.code(204).send();
    }),
  );

  app.get('/members', async (req) => {
    const org = actorOf(req).organisation.id;
    return { members: await d.onboarding.membersOf(org), invitations: await d.onboarding.pendingInvitations(org) };
  });
  app.post<{ Body: unknown }>('/invitations', { schema: { body: BODIES.invitation } }, async (req, reply) =>
    guarded(reply, async () => {
      const { organisation, userId } = actorOf(req);
      await d.onboarding.invite(
        organisation,
        userId,
        str(req.body, 'email') ?? '',
        str(req.body, 'role') ?? '',
      );
      return reply.code(204).send();
    }),
  );
  app.delete<{ Params: { userId: string } }>('/members/:userId', { schema: params('userId') }, async (req, reply) =>
    guarded(reply, async () => {
      await d.onboarding.removeMember(actorOf(req).organisation, req.params.userId);
      return reply.code(204).send();
    }),
  );
  app.patch<{ Params: { userId: string }; Body: unknown }>(
    '/members/:userId',
    { schema: { body: BODIES.role, ...params('userId') } },
    async (req, reply) =>
      guarded(reply, async () => {
        await d.onboarding.changeRole(actorOf(req).organisation, req.params.userId, str(req.body, 'role') ?? '');
        return reply.code(204).send();
      }),
  );
  app.delete<{ Params: { id: string } }>('/invitations/:id', { schema: params('id') }, async (req, reply) =>
    guarded(reply, async () => {
      await d.onboarding.revokeInvitation(actorOf(req).organisation, req.params.id);
      return reply.code(204).send();
    }),
  );

  app.get('/messages', async (req) => d.onboarding.comments(actorOf(req).organisation.id));
  app.post<{ Body: unknown }>('/messages', { schema: { body: BODIES.message } }, async (req, reply) => guarded(reply, async () => {
    const { organisation, userId } = actorOf(req);
    const author = (await d.onboarding.partnerUser(userId))?.email ?? 'API';
    await d.onboarding.addComment(organisation.id, 'partner', author, str(req.body, 'body') ?? '');
    return reply.code(204).send();
  }));

  app.get('/application', async (req) => d.onboarding.getApplication(actorOf(req).organisation.id));
  app.put<{ Body: unknown }>('/application', { schema: { body: BODIES.application } }, async (req, reply) =>
    guarded(reply, async () => d.onboarding.saveDraft(actorOf(req).organisation.id, answers(req.body))),
  );
  app.post<{ Body: unknown }>('/application/submit', { schema: { body: BODIES.application } }, async (req, reply) =>
    guarded(reply, async () => d.onboarding.submitApplication(actorOf(req).organisation.id, answers(req.body))),
  );

  app.get('/documents', async (req) => d.onboarding.listDocuments(actorOf(req).organisation.id));
  app.post<{ Body: unknown }>('/documents', { bodyLimit: 15 * 1024 * 1024, schema: { body: BODIES.document } }, async (req, reply) =>
    guarded(reply, async () => {
      const content = str(req.body, 'content_base64');
      if (content === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) {
        return fail(
          reply,
          'invalid_request',
          `Send JSON {kind, filename, content_base64}; kind is one of ${Object.keys(DOCUMENT_KINDS).join(', ')}`,
          'content_base64',
        );
      }
      const { organisation, userId } = actorOf(req);
      return reply
        .code(201)
        .send(
          await d.onboarding.uploadDocument(
            organisation.id,
            userId,
            str(req.body, 'kind') ?? '',
            str(req.body, 'filename') ?? '',
            Buffer.from(content, 'base64'),
          ),
        );
    }),
  );
  app.get<{ Params: { id: string } }>('/documents/:id', { schema: params('id') }, async (req, reply) =>
    guarded(reply, async () => {
      const doc = await d.onboarding.getDocument(actorOf(req).organisation.id, req.params.id);
      return reply
        .type(doc.content_type)
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `attachment; filename="${doc.filename}"`)
        .send(doc.bytes);
    }),
  );

  app.get('/test-users', async (req) => {
    const users = await d.onboarding.listTestUsers(actorOf(req).organisation.id);
    const patients = await d.onboarding.testUserPatients(users.map((u) => u.id));
    return users.map((u) => ({ ...testUserView(u), manages_for: patients[u.id] ?? [] }));
  });
  app.post<{ Body: unknown }>('/test-users', { schema: { body: BODIES.testUser } }, async (req, reply) =>
    guarded(reply, async () =>
      reply
        .code(201)
        .send(
          testUserView(
            await d.onboarding.createTestUser(actorOf(req).organisation.id, {
              env: str(req.body, 'env'),
              nhsNumber: str(req.body, 'nhs_number') ?? '',
              ...flags(req.body),
              demographics: demographics(req.body),
            }),
          ),
        ),
    ),
  );
  app.patch<{ Params: { id: string }; Body: unknown }>(
    '/test-users/:id',
    { schema: { body: BODIES.testUserChange, ...params('id') } },
    async (req, reply) =>
      guarded(reply, async () => {
        await d.onboarding.updateTestUser(actorOf(req).organisation.id, req.params.id, flags(req.body));
        return reply.code(204).send();
      }),
  );
  app.delete<{ Params: { id: string } }>('/test-users/:id', { schema: params('id') }, async (req, reply) =>
    guarded(reply, async () => {
      await d.onboarding.deleteTestUser(actorOf(req).organisation.id, req.params.id);
      return reply.code(204).send();
    }),
  );
  // The GP credential state the stand-in GP system applies to the user's credentials (identity/gp-system).
  app.put<{ Params: { id: string }; Body: unknown }>(
    '/test-users/:id/gp-state',
    { schema: { body: BODIES.gpState, ...params('id') } },
    async (req, reply) =>
      guarded(reply, async () => {
        await d.onboarding.setTestUserGpState(actorOf(req).organisation.id, req.params.id, str(req.body, 'state'));
        return reply.code(204).send();
      }),
  );

  // Proxy access in the stand-in NHS App: the test user may open the partner's service for the patient (identity/nhs-app).
  for (const [method, link] of [['PUT', true], ['DELETE', false]] as const) {
    app.route<{ Params: { id: string; patientId: string } }>({
      method, url: '/test-users/:id/manages-for/:patientId', schema: params('id', 'patientId'),
      handler: async (req, reply) =>
        guarded(reply, async () => {
          await d.onboarding.setTestUserProxy(actorOf(req).organisation.id, req.params.id, req.params.patientId, link);
          return reply.code(204).send();
        }),
    });
  }

  app.get('/environment-requests', async (req) => {
    const org = actorOf(req).organisation.id;
    await d.onboarding.flushEvents();
    const requests = await d.onboarding.environmentRequests(org);
    return {
      integration_readiness: await d.onboarding.environmentReadiness(org, 'integration'),
      go_live_readiness: await d.onboarding.environmentReadiness(org, 'live'),
      requests,
    };
  });
  app.post<{ Body: unknown }>('/environment-requests', { schema: { body: BODIES.environmentRequest } }, async (req, reply) =>
    guarded(reply, async () => {
      const env = str(req.body, 'env');
      if (!isRequestedEnv(env)) return fail(reply, 'invalid_env', 'Request "integration", or "live" to go live', 'env');
      await d.onboarding.flushEvents();
      const { organisation, userId } = actorOf(req);
      return reply.code(201).send({ id: await d.onboarding.requestEnvironment(organisation.id, userId, env) });
    }),
  );
}

function answers(body: unknown): ApplicationAnswers {
  const b = (body && typeof body === 'object' ? body : {}) as ApplicationAnswers;
  return { ...b, eligibility: b.eligibility && typeof b.eligibility === 'object' ? b.eligibility : {} };
}

function flags(body: unknown) {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    level: typeof b.level === 'string' ? b.level : '',
    otpDisabled: b.otp_disabled === true,
    phonePdsMatched: b.phone_pds_matched === true,
    pdsTraceFails: b.pds_trace_fails === true,
  };
}

/** The partner's own demographics when it gives a name or a birth date; else the test PDS record's are used. */
function demographics(body: unknown) {
  const b = (body ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof b[k] === 'string' ? b[k] : undefined);
  if (s('given_name') === undefined && s('family_name') === undefined && s('birthdate') === undefined) return undefined;
  const link = b.gp_linkage as { account_id: string; linkage_key: string } | undefined;
  return {
    givenName: s('given_name') ?? '', familyName: s('family_name') ?? '', birthdate: s('birthdate') ?? '', postcode: s('postcode'),
    gpOdsCode: s('gp_ods_code'), phoneNumber: s('phone_number'), email: s('email'),
    gpLinkage: link && { accountId: link.account_id, linkageKey: link.linkage_key },
  };
}

function testUserView(p: {
  env: string;
  id: string;
  email: string;
  nhs_number: string | null;
  proofing_level: string;
  otp_disabled: number;
  phone_pds_matched: number | null;
  pds_trace_fails: number;
  im1: number;
  gp_state?: string;
  given_name: string | null;
  family_name: string | null;
  birthdate: string | null;
  postcode: string | null;
  gp_ods_code: string | null;
  phone_number: string | null;
}) {
  return {
    id: p.id,
    env: p.env,
    email: p.email,
    nhs_number: p.nhs_number,
    // What the journeys and userinfo give for this user (the password and security code are the test packs').
    given_name: p.given_name,
    family_name: p.family_name,
    birthdate: p.birthdate,
    postcode: p.postcode,
    gp_ods_code: p.gp_ods_code,
    phone_number: p.phone_number,
    level: p.proofing_level,
    otp_disabled: p.otp_disabled === 1,
    phone_pds_matched: p.phone_pds_matched === 1,
    pds_trace_fails: p.pds_trace_fails === 1,
    gp_linked: p.im1 === 1,
    gp_state: p.gp_state ?? 'current',
  };
}
