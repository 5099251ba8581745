/**
 * The CLI as a client of a running toolkit's /api/v1, for a partner's CI, which never shares the toolkit's database:
 * `--url` (or TOOLKIT_URL) names the toolkit and `--token` (or TOOLKIT_TOKEN, kept out of the process list) an
 * organisation API token. The API's answers are the toolkit's errors by their stable code (src/errors.ts), so the
 * exit line and status are the local mode's (main.ts exitLine).
 */
import { isErrorCode, ToolkitError } from '../errors.ts';
import { CliError } from './main.ts';

export interface Remote {
  /** The toolkit's public URL, no trailing slash. */
  url: string;
  token: string;
  fetch?: typeof fetch;
}

/** --url and --token from the command line or the environment; undefined when neither names a toolkit (local mode). */
export function remoteOf(v: Record<string, unknown>, env: NodeJS.ProcessEnv, needsToken = true): Remote | undefined {
  const raw = (v.url as string | undefined) ?? env.TOOLKIT_URL;
  const token = (v.token as string | undefined) ?? env.TOOLKIT_TOKEN;
  if (raw === undefined) {
    if (v.token !== undefined) throw new CliError('--token needs --url (or TOOLKIT_URL): the address of the toolkit to talk to');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--url must be the toolkit's address, like https://toolkit.example, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError(`--url must be an http(s) address, got "${raw}"`);
  if (!token && needsToken) {
    throw new CliError('an API token is required with --url: set TOOLKIT_TOKEN (or give --token); make one in the portal');
  }
  return { url: url.href.replace(/\/+$/, ''), token: token ?? '' };
}

/** Says, in one line, that the toolkit at the URL cannot be used (main's exit 1). */
export class RemoteUnreachable extends ToolkitError<'server_unreachable'> {
  override name = 'RemoteUnreachable';
  constructor(message: string) {
    super('server_unreachable', message);
  }
}

/** Calls /api/v1; an error answer becomes the toolkit's error of that code, a non-API answer says what it was. */
export async function api<T>(r: Remote, method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(r, method, path, body);
  if (res.status === 204) return undefined as T; // done, nothing to say (a fault armed, cleared)
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RemoteUnreachable(`${r.url} answered ${method} /api/v1${path} with HTTP ${res.status} and no JSON: is --url the toolkit?`);
  }
  if (res.ok) return json as T;
  const { error, message, field } = (json ?? {}) as { error?: unknown; message?: unknown; field?: unknown };
  const said = typeof message === 'string' ? message : `HTTP ${res.status}`;
  if (error === 'unauthorized') throw new ToolkitError('unauthorized', `the toolkit refused the API token (TOOLKIT_TOKEN): ${said}`);
  if (typeof error === 'string' && isErrorCode(error)) throw new ToolkitError(error, said, typeof field === 'string' ? field : undefined);
  throw new RemoteUnreachable(`${r.url} answered ${method} /api/v1${path} with HTTP ${res.status}: ${said}`);
}

/** A file the API serves (a report), as text. */
export async function apiFile(r: Remote, path: string): Promise<string> {
  const res = await send(r, 'GET', path);
  if (!res.ok) throw new RemoteUnreachable(`${r.url} answered GET /api/v1${path} with HTTP ${res.status}`);
  return res.text();
}

async function send(r: Remote, method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await (r.fetch ?? fetch)(`${r.url}/api/v1${path}`, {
      method,
      headers: {
        ...(r.token ? { authorization: `Bearer ${r.token}` } : {}), accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const why = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new RemoteUnreachable(`no toolkit answers at ${r.url} (--url or TOOLKIT_URL): ${why}`);
  }
}
