/**
 * Partner documents (SCAL, connection agreement, DSPT evidence, DCB0129 clinical safety, penetration test
 * summary): versioned per kind, size- and type-limited, with the type checked from the content itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';

export const DOCUMENT_KINDS = {
  scal: 'Supplier Conformance Assessment List (SCAL)',
  connection_agreement: 'Connection agreement',
  dspt: 'Data Security and Protection Toolkit (DSPT) evidence',
  dcb0129: 'Clinical safety case and hazard log (DCB0129)',
  pen_test: 'Penetration test summary',
} as const;
export type DocumentKind = keyof typeof DOCUMENT_KINDS;

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** What the bytes really are, by their signature: the file name and declared type are not trusted. */
function sniff(bytes: Buffer, filename: string): string | undefined {
  const ext = filename.toLowerCase().split('.').pop();
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    const office: Record<string, string> = {
      docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      odt: 'application/vnd.oasis.opendocument.text',
      ods: 'application/vnd.oasis.opendocument.spreadsheet',
    };
    return ext ? office[ext] : undefined;
  }
  return undefined;
}

export async function uploadDocument(db: Db, organisationId: string, userId: string, kind: string, filenameRaw: string, bytes: Buffer) {
  if (!Object.hasOwn(DOCUMENT_KINDS, kind)) throw new OnboardingError('not_found', 'Choose which document this is', 'kind');
  if (bytes.length === 0) throw new OnboardingError('invalid_name', 'Choose a file to upload', 'file');
  if (bytes.length > MAX_DOCUMENT_BYTES) throw new OnboardingError('invalid_name', 'The file must be smaller than 10 MB', 'file');
  const filename = filenameRaw.replace(/[^\w.\- ]+/g, '_').slice(0, 120) || 'document';
  const contentType = sniff(bytes, filename);
  if (!contentType)
    throw new OnboardingError(
      'invalid_name',
      'The file must be a PDF, Word (.docx), Excel (.xlsx) or OpenDocument (.odt, .ods) file',
      'file',
    );
  return db.transaction().execute(async (tx) => {
    const last = await tx
      .selectFrom('document')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('organisation_id', '=', organisationId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    const row = {
      id: randomUUID(),
      organisation_id: organisationId,
      kind,
      version,
      filename,
      content_type: contentType,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      content: bytes.toString('base64'),
      uploaded_by: userId,
      uploaded_at: Date.now(),
    };
    await tx.insertInto('document').values(row).execute();
    return { id: row.id, version };
  });
}

export function listDocuments(db: Db, organisationId: string) {
  return db.selectFrom('document').select(['id', 'kind', 'version', 'filename', 'content_type', 'size', 'sha256', 'uploaded_at'])
    .where('organisation_id', '=', organisationId).orderBy('kind').orderBy('version', 'desc').execute();
}

export async function getDocument(db: Db, organisationId: string, id: string) {
  const row = await db
    .selectFrom('document')
    .selectAll()
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  if (!row) throw new OnboardingError('not_found', 'There is no such document in your organisation');
  return { ...row, bytes: Buffer.from(row.content, 'base64') };
}

export async function hasDocument(db: Db, organisationId: string, kind: DocumentKind): Promise<boolean> {
  return Boolean(
    await db.selectFrom('document').select('id').where('organisation_id', '=', organisationId).where('kind', '=', kind).executeTakeFirst(),
  );
}
