/** The partner portal: thin routes over the onboarding domain (and identity for client registration). */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { registerAccountRoutes } from './account-routes.ts';
import { registerOrganisationRoutes } from './organisation-routes.ts';
import { registerClientRoutes } from './client-routes.ts';
import { registerSessionRulesRoutes } from './session-rules-routes.ts';
import { registerNhsAppRoutes } from './nhs-app-routes.ts';
import { registerGuidanceRoutes } from './guidance-routes.ts';
import { registerApplicationRoutes } from './application-routes.ts';
import { registerTokenRoutes } from './token-routes.ts';
import { registerMemberRoutes } from './member-routes.ts';
import { registerTestUserRoutes } from './test-user-routes.ts';
import { registerDocumentRoutes } from './document-routes.ts';
import { registerRequestRoutes } from './request-routes.ts';
import { registerConformanceRoutes } from './conformance-routes.ts';
import { registerMessageRoutes } from './message-routes.ts';
import { registerMailboxRoutes } from './mailbox-routes.ts';
import { registerVerifyRoutes } from './verify-routes.ts';
import type { PortalDeps } from './context.ts';

export type { PortalDeps } from './context.ts';
export { MAILBOX_PATH } from './mailbox-routes.ts';
export const PORTAL_VIEWS = path.join(import.meta.dirname, 'views');

const KEYGEN_JS = readFileSync(path.join(import.meta.dirname, 'assets', 'keygen.js'));

export async function portalRoutes(app: FastifyInstance, d: PortalDeps) {
  // The portal's forms are urlencoded or multipart: JSON and plain text are 415 here, never parsed.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.get('/assets/keygen.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(KEYGEN_JS),
  );
  registerAccountRoutes(app, d);
  registerOrganisationRoutes(app, d);
  registerClientRoutes(app, d);
  registerSessionRulesRoutes(app, d);
  registerNhsAppRoutes(app, d);
  registerGuidanceRoutes(app, d);
  registerApplicationRoutes(app, d);
  registerTokenRoutes(app, d);
  registerMemberRoutes(app, d);
  registerTestUserRoutes(app, d);
  await registerDocumentRoutes(app, d);
  registerRequestRoutes(app, d);
  registerConformanceRoutes(app, d);
  registerMessageRoutes(app, d);
  registerMailboxRoutes(app, d);
  registerVerifyRoutes(app, d);
}
