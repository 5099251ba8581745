/**
 * The client page's NHS App address (identity/nhs-app/address.ts), sandpit and integration clients: the page the
 * stand-in NHS App opens with `?assertedLoginIdentity=`. Empty clears it.
 */
import type { FastifyInstance } from 'fastify';
import { NhsAppAddressError } from '../identity/index.ts';
import { CSRF, form, text } from '../web/forms.ts';
import { registerClientForm } from './client-forms.ts';
import type { PortalDeps } from './context.ts';

export function registerNhsAppRoutes(app: FastifyInstance, d: PortalDeps) {
  registerClientForm(app, d, {
    name: 'nhs-app',
    schema: form({ _csrf: CSRF, nhs_app_url: text('NHS App address', 2000) }),
    typed: (b) => b.nhs_app_url ?? '',
    keep: (nhsAppTyped) => ({ nhsAppTyped }),
    save: (client, url) => d.onboarding.setNhsAppAddress(client.env, client.clientId, url),
    refusal: NhsAppAddressError,
  });
}
