/** What the environments' server-to-server APIs (users-v2/, provision/) read of a request's access token. */
import { decodeJwt } from 'jose';
import type { FastifyRequest } from 'fastify';
import { getClient, type Db } from '../../storage/index.ts';

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme in any case. */
export function bearer(req: FastifyRequest): string | undefined {
  return /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(String(req.headers.authorization ?? ''))?.[1];
}

/** The registered client a token names, even when it is no longer valid, so that the partner sees the refusal in its trace. */
type Named = { env: { config: { name: string } }; db: Db };
export async function clientNamed(d: Named, token: string | undefined): Promise<string | undefined> {
  try {
    const sub = token ? decodeJwt(token).sub : undefined;
    return typeof sub === 'string' && sub.length <= 200 && (await getClient(d.db, d.env.config.name, sub)) ? sub : undefined;
  } catch {
    return undefined;
  }
}
