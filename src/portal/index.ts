/** The partner portal: thin routes over the onboarding domain (and identity for client registration). */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { registerAccountRoutes } from './account-routes.ts';
import { registerOrganisationRoutes } from './organisation-routes.ts';
import { registerClientRoutes } from './client-routes.ts';
import type { PortalDeps } from './context.ts';

export type { PortalDeps } from './context.ts';
export const PORTAL_VIEWS = path.join(import.meta.dirname, 'views');

export async function portalRoutes(app: FastifyInstance, d: PortalDeps) {
  registerAccountRoutes(app, d);
  registerOrganisationRoutes(app, d);
  registerClientRoutes(app, d);
}
