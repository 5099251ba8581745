/**
 * Security headers (helmet) on every response: Fastify's pages and everything the OpenID Provider writes itself.
 * They are set on the raw response in an onRequest hook registered before the environments' hook, which hands
 * protocol requests to the engine by hijacking the reply (so no onSend hook ever sees those responses).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import { matchEnvironment, type Environment } from '../identity/index.ts';

/** The CSP sources of the inline scripts a page carries (nhsuk-frontend's template sets `js-enabled` inline). */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>([^<]+)<\/script>/g)].map((m) => `'sha256-${hash('sha256', m[1]!, 'base64')}'`);
}

type Headers = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

function policy(options: { https: boolean; environment: boolean; scriptHashes: string[] }): Headers {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'none'"],
        'object-src': ["'none'"],
        // nhsuk-frontend and our scripts (the init module, the portal's key generation) are same-origin files.
        'script-src': ["'self'", ...options.scriptHashes],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        // The NHS stylesheet takes the Frutiger web fonts from assets.nhs.uk, as NHS services do.
        'font-src': ["'self'", 'https://assets.nhs.uk'],
        'img-src': ["'self'"],
        // Consent, console decisions and token revocation must not be framed (clickjacking).
        'frame-ancestors': ["'none'"],
        // Chromium applies form-action to the redirects that follow a form post too (CSP 3 §6.5.1): a journey's
        // last form (sign in, security code, consent, decline) ends at the relying party's redirect_uri, which can
        // be any https origin or, in the sandpit, http on a loopback address. So the environments' pages allow
        // any target; every other page posts to its own origin only.
        'form-action': options.environment ? ['*'] : ["'self'"],
      },
    },
    // A relying party may open the sign-in in a popup and expect its callback page to reach window.opener: an
    // OpenID Provider's pages must not put the popup in a browsing context group of its own.
    crossOriginOpenerPolicy: options.environment ? false : { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    // Only where people reach the origin over https (browsers ignore it over http anyway, RFC 6797 §8.1). Not
    // includeSubDomains: the toolkit cannot know what else is served under its host name.
    strictTransportSecurity: options.https ? { maxAge: 365 * 24 * 3600, includeSubDomains: false } : false,
  });
}

/** Registers the hook; call it before any other onRequest hook that may hijack the reply. */
export function registerSecurityHeaders(fastify: FastifyInstance, config: Config, environments: Environment[], scriptHashes: string[]) {
  const pages = policy({ https: config.publicUrl.startsWith('https:'), environment: false, scriptHashes });
  const byEnvironment = new Map(
    environments.map((e) => [e, policy({ https: e.config.issuer.startsWith('https:'), environment: true, scriptHashes })]),
  );
  fastify.addHook('onRequest', (req, reply, done) => {
    const env = matchEnvironment(environments, String(req.headers.host ?? '').toLowerCase(), req.url)?.env;
    (env ? byEnvironment.get(env)! : pages)(req.raw, reply.raw, (err) => done(err as Error | undefined));
  });
}
