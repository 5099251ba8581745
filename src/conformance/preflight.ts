/**
 * Before a run driven from this process (the CLI's local mode): the toolkit server whose issuer this configuration
 * names must answer, and must be the one on this database, or every test fails for a reason the results cannot show
 * (the browser is sent to another issuer, the record awaited is another database's). Its published signing keys are
 * compared with this database's: the same environment on the same database publishes the same kids.
 */
import { ToolkitError } from '../errors.ts';
import { listSigningKeys, type Db } from '../storage/index.ts';
import type { Config } from '../config/index.ts';

export class ServerMismatch extends ToolkitError<'server_unreachable'> {
  override name = 'ServerMismatch';
  constructor(message: string) {
    super('server_unreachable', message);
  }
}

export async function checkServer(d: { config: Config; db: Db; fetch?: typeof fetch }, env: string): Promise<void> {
  const issuer = d.config.environments.find((e) => e.name === env)!.issuer;
  const hint = 'set PUBLIC_URL (or PORT) to the running toolkit\'s, or run through its API with --url and TOOLKIT_TOKEN';
  let kids: string[];
  try {
    const res = await (d.fetch ?? fetch)(`${issuer}/.well-known/jwks.json`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    kids = ((await res.json()) as { keys?: { kid?: string }[] }).keys?.map((k) => String(k.kid)) ?? [];
  } catch (e) {
    const why = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new ServerMismatch(`no toolkit answers at ${issuer} (${why}): ${hint}`);
  }
  const ours = (await listSigningKeys(d.db, env)).map((k) => k.kid);
  if (!ours.some((kid) => kids.includes(kid))) {
    const fix = `set DATABASE_URL to the server's, or ${hint}`;
    throw new ServerMismatch(`the toolkit at ${issuer} is not on this database (DATABASE_URL): ${fix}`);
  }
}
