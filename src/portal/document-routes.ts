/** Upload, list and download the organisation's documents. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import multipart from '@fastify/multipart';
import { csrfMatches, DOCUMENT_KINDS, MAX_DOCUMENT_BYTES, OnboardingError, type Organisation } from '../onboarding/index.ts';
import { errorItem, forbidden, orgGuard, page, unreadable, type PortalDeps, type Signed } from './context.ts';

type Params = { Params: { orgId: string; docId?: string } };

export async function registerDocumentRoutes(app: FastifyInstance, d: PortalDeps) {
  await app.register(multipart, { limits: { fileSize: MAX_DOCUMENT_BYTES + 1, files: 1, fields: 5, fieldSize: 1024 } });

  const show = async (reply: FastifyReply, signed: Signed, org: Organisation, ctx: Record<string, unknown> = {}, status = 200) =>
    page(d, reply, 'portal/documents.njk', {
      title: 'Documents', user: signed.user, csrf: signed.session.csrf, org, kinds: DOCUMENT_KINDS,
      documents: await d.onboarding.listDocuments(org.id), base: `/portal/organisations/${org.id}/documents`, ...ctx,
    }, status);

  app.get<Params>('/organisations/:orgId/documents', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (g) return show(reply, g.signed, g.org);
  });

  app.post<Params>('/organisations/:orgId/documents', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    if (!req.isMultipart())
      return show(reply, g.signed, g.org, { errors: [{ href: '#file', text: 'Choose a file to upload', field: 'file' }] }, 400);
    const fields: Record<string, string> = {};
    let file: { filename: string; bytes: Buffer; truncated: boolean } | undefined;
    try {
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer().catch(() => undefined); // over the size limit, the multipart parser throws
          file = { filename: part.filename, bytes: bytes ?? Buffer.alloc(0), truncated: bytes === undefined || part.file.truncated };
        }
        else fields[part.fieldname] = String(part.value);
      }
    } catch (e) {
      throw unreadable(e);
    }
    // The CSRF token travels as a multipart field here.
    if (!csrfMatches(g.signed.session, fields._csrf)) return forbidden(d, reply);
    try {
      if (!file || file.truncated)
        throw new OnboardingError('invalid_name', file ? 'The file must be smaller than 10 MB' : 'Choose a file to upload', 'file');
      await d.onboarding.uploadDocument(g.org.id, g.signed.user.id, fields.kind ?? '', file.filename, file.bytes);
      return reply.redirect(`/portal/organisations/${g.org.id}/documents`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return show(reply, g.signed, g.org, { errors: [errorItem(e)] }, e.message.includes('10 MB') ? 413 : 400);
    }
  });

  app.get<Params>('/organisations/:orgId/documents/:docId', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    try {
      const doc = await d.onboarding.getDocument(g.org.id, req.params.docId!);
      return reply
        .header('content-type', doc.content_type)
        .header('content-disposition', `attachment; filename="${doc.filename}"`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .send(doc.bytes);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'error.njk', { title: 'Page not found', message: e.message }, 404);
    }
  });
}
