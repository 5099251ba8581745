/**
 * `toolkit clients create|list|show --url URL`: the same commands as a partner's, through /api/v1 (remote.ts): the
 * clients of the API token's organisation, registered as the portal registers them (sandpit by self-service, other
 * environments once the team approved them). Output is the local commands' shape: the client_id alone on stdout for
 * `create`, a line per client for `list`, the API's view with --json.
 */
import { CliError, type Io } from './main.ts';
import { api, type Remote } from './remote.ts';
import { publicKeyFile } from './clients.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

interface ClientView {
  client_id: string;
  env: string;
  name: string;
  redirect_uris: string[];
  scopes: string[];
  vtr: string[];
  discovery: string;
}

export async function clientsCreateRemote(remote: Remote, v: Values, io: Io): Promise<number> {
  if (!v.name) throw new CliError('--name is required');
  if (v.organisation !== undefined) {
    throw new CliError('--organisation is not used with --url: the client is the API token\'s organisation\'s');
  }
  if (v.im1) throw new CliError('--im1 is the NHS login team\'s decision: ask for it in messages');
  const pem = publicKeyFile(v);
  const client = await api<ClientView>(remote, 'POST', '/clients', {
    name: String(v.name), env: (v.env as string | undefined) ?? 'sandpit', redirect_uris: (v['redirect-uri'] as string[] | undefined) ?? [],
    scopes: (v.scope as string[] | undefined) ?? ['openid'], vtr: (v.vtr as string[] | undefined) ?? ['P9.Cp.Cd'],
    ...(pem ? { public_key_pem: pem } : {}), ...(v['jwks-uri'] ? { jwks_uri: String(v['jwks-uri']) } : {}),
  });
  io.out(v.json ? JSON.stringify(client) : client.client_id);
  return 0;
}

export async function clientsListRemote(remote: Remote, v: Values, io: Io): Promise<number> {
  const clients = (await api<ClientView[]>(remote, 'GET', '/clients')).filter((c) => !v.env || c.env === v.env);
  if (v.json) io.out(JSON.stringify(clients));
  else if (!clients.length) io.out('No clients registered.');
  else for (const c of clients) io.out(`${c.env.padEnd(12)} ${c.client_id}  ${c.name}  [${c.vtr.join(' ')}]`);
  return 0;
}

export async function clientsShowRemote(remote: Remote, clientId: string | undefined, v: Values, io: Io): Promise<number> {
  if (!clientId) throw new CliError('give the client_id: toolkit clients show CLIENT_ID --url URL');
  const c = await api<Record<string, unknown>>(remote, 'GET', `/clients/${encodeURIComponent(clientId)}`);
  const shown = (x: unknown) => (Array.isArray(x) ? x.join(' ') : typeof x === 'object' ? JSON.stringify(x) : String(x));
  io.out(v.json ? JSON.stringify(c) : Object.entries(c).map(([k, x]) => `${k.padEnd(14)} ${shown(x)}`).join('\n'));
  return 0;
}
