/** Steps that give the engine's answers NHS login's shape: the discovery document, and no RFC 9207 `iss`. */
import type { Step } from './context.ts';

export const nhsDiscovery: Step = (ctx) => {
  if (!ctx.body || typeof ctx.body !== 'object') return;
  const body = ctx.body as Record<string, unknown>;
  // The engine lists every response mode it implements; NHS login offers the query mode only.
  body.response_modes_supported = ['query'];
  // NHS login sends no `iss` in authorization responses (RFC 9207), so it does not advertise it either.
  delete body.authorization_response_iss_parameter_supported;
};

/** Removes the engine's RFC 9207 `iss` from a redirect back to the relying party, as NHS login sends none. */
export const stripIss: Step = (ctx) => {
  if (ctx.status < 300 || ctx.status >= 400) return;
  const location = ctx.response.get('location');
  if (!location?.includes('iss=')) return;
  const url = new URL(location);
  if (url.searchParams.get('iss') !== ctx.oidc.issuer) return;
  url.searchParams.delete('iss');
  ctx.redirect(url.href);
};
