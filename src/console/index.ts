/**
 * The team console: where the NHS login team keeps control of every gate while running many partners at once.
 * Thin routes over the onboarding domain (and identity for client administration).
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './context.ts';
import { registerAuthRoutes } from './auth-routes.ts';
import { registerPartnerRoutes } from './partner-routes.ts';
import { registerRecordsRoutes } from './records-routes.ts';
import { registerTeamRoutes } from './team-routes.ts';
import { registerClientAdminRoutes } from './client-routes.ts';
import { registerMetricsRoutes } from './metrics-routes.ts';

export type { ConsoleDeps } from './context.ts';
export const CONSOLE_VIEWS = path.join(import.meta.dirname, 'views');

export async function consoleRoutes(app: FastifyInstance, d: ConsoleDeps) {
  // The console's forms are urlencoded: JSON and plain text are 415 here, never parsed.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  registerAuthRoutes(app, d);
  registerPartnerRoutes(app, d);
  registerRecordsRoutes(app, d);
  registerTeamRoutes(app, d);
  registerClientAdminRoutes(app, d);
  registerMetricsRoutes(app, d);
}
