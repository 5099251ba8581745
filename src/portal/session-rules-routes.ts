/**
 * The client page's session limits (identity/session-rules.ts), sandpit clients only: a partner sets an idle and an
 * absolute limit in minutes so that its service meets the session rules (session-management.md, A) in minutes rather
 * than hours; empty means none (the specification's 30-day refresh token).
 */
import type { FastifyInstance } from 'fastify';
import { SessionRulesError } from '../identity/index.ts';
import { CSRF, form, text } from '../web/forms.ts';
import { registerClientForm } from './client-forms.ts';
import type { PortalDeps } from './context.ts';

export function registerSessionRulesRoutes(app: FastifyInstance, d: PortalDeps) {
  registerClientForm(app, d, {
    name: 'session-rules',
    schema: form({ _csrf: CSRF, idle_minutes: text('Idle limit', 10), absolute_minutes: text('Absolute limit', 10) }),
    typed: (b) => ({ idle: b.idle_minutes ?? '', absolute: b.absolute_minutes ?? '' }),
    keep: (sessionTyped) => ({ sessionTyped }),
    save: (client, t) => d.onboarding.setSessionRules(client.env, client.clientId, { idleMinutes: t.idle, absoluteMinutes: t.absolute }),
    refusal: SessionRulesError,
  });
}
