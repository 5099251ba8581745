/**
 * /api/v1: the portal's self-service as JSON for partners' CI. Every route acts for the organisation of its
 * bearer token (with the rights of the member who made it) and nothing else; errors are JSON with a stable
 * code and a message that says what to change.
 */
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi.ts';
import { clientRoutes } from './clients.ts';
import { faultRoutes } from './faults.ts';
import { organisationRoutes } from './organisation.ts';
import { conformanceRoutes } from './conformance.ts';
import { fail, failWith, type ApiDeps } from './context.ts';
import { ToolkitError } from '../errors.ts';
import { strictCompiler, validationProblem } from './schemas.ts';

export type { ApiDeps } from './context.ts';

export async function apiRoutes(app: FastifyInstance, d: ApiDeps) {
  // JSON only, checked strictly (schemas.ts); forms and plain text are 415 here.
  app.removeContentTypeParser(['application/x-www-form-urlencoded', 'text/plain']);
  app.setValidatorCompiler(strictCompiler);
  app.setErrorHandler(
    (
      err: {
        statusCode?: number;
        code?: string;
        message: string;
        validation?: Parameters<typeof validationProblem>[0];
        validationContext?: string;
      },
      req,
      reply,
    ) => {
      // The toolkit's own errors, wherever a route let one go: by their code, never their message.
      if (err instanceof ToolkitError) return failWith(reply, err);
      if (err.validation) {
        const { message, field } = validationProblem(err.validation, err.validationContext ?? 'body');
        return err.validationContext === 'params'
          ? fail(reply, 'not_found', 'There is no such resource')
          : fail(reply, 'invalid_request', message, field);
      }
      if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        return fail(reply, 'invalid_json', 'The body is not valid JSON');
      }
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fail(reply, 'too_large', 'The body is too large');
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return fail(reply, 'unsupported_media_type', 'Send application/json');
      // Other client errors Fastify raises: a closed message, never the parser's words (they quote the request).
      if (err.statusCode && err.statusCode < 500) {
        return fail(reply, 'invalid_request', 'The request could not be read', undefined, err.statusCode);
      }
      req.log.error({ err }, 'unhandled API error');
      return fail(reply, 'server_error', 'Something went wrong on our side; try again');
    },
  );
  app.get('/openapi.json', async () => openApiDocument(d.config.publicUrl));
  // Public: anyone holding a report can check its signature against these keys.
  app.get('/conformance/jwks.json', async () => d.onboarding.reportKeys());
  app.get('/docs', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        d.render('api-docs.njk', {
          title: 'API reference',
          serviceName: 'NHS login integration toolkit',
          doc: openApiDocument(d.config.publicUrl),
        }),
      ),
  );

  // Everything else needs a token; the organisation is decided by it, never by the request.
  app.register(async (authed) => {
    authed.decorateRequest('actor', null);
    // onRequest, before the body is read: a caller without a token must not get a 15 MB upload parsed first.
    authed.addHook('onRequest', async (req, reply) => {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const actor = m ? await d.onboarding.actorForToken(m[1]!) : undefined;
      if (!actor)
        return fail(
          reply.header('www-authenticate', 'Bearer'),
          'unauthorized',
          'Send an organisation API token: Authorization: Bearer nhslt_... (create one in the portal)',
        );
      (req as unknown as { actor: unknown }).actor = actor;
    });
    clientRoutes(authed, d);
    faultRoutes(authed, d);
    organisationRoutes(authed, d);
    conformanceRoutes(authed, d);
  });

  app.setNotFoundHandler((_req, reply) => fail(reply, 'not_found', 'No such API route: see /api/v1/openapi.json'));
}
