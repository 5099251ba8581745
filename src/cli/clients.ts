/** `toolkit clients ...` */
import fs from 'node:fs';
import type { ClientRecord, Onboarding } from '../onboarding/index.ts';
import { CliError, envOption, type Io } from './main.ts';
import { ENVIRONMENT_NAMES } from '../config/index.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

function summary(c: ClientRecord): Record<string, unknown> {
  return {
    env: c.env,
    client_id: c.clientId,
    name: c.name,
    redirect_uris: c.redirectUris,
    scopes: c.scopes,
    vtr: c.vtr,
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : { kids: c.jwks?.keys.map((k) => k.kid) }),
    im1: c.im1,
    // Approved in the console, with the scopes and vectors: shown here, not set from the command line.
    users_v2: c.usersV2,
    provisioning: c.provisioning ? { ods_codes: c.provisioningOds } : null,
    organisation_id: c.organisationId,
    sso_to: c.ssoTo,
    status: c.status,
    created_at: new Date(c.createdAt).toISOString(),
  };
}

/** The PEM of --public-key, if given (clients create, here and through the API). */
export function publicKeyFile(v: Values): string | undefined {
  const keyFile = v['public-key'] as string | undefined;
  if (!keyFile) return undefined;
  try {
    return fs.readFileSync(keyFile, 'utf8');
  } catch {
    throw new CliError(`cannot read --public-key file "${keyFile}"`);
  }
}

export async function clientsCreate(onboarding: Onboarding, v: Values, io: Io): Promise<number> {
  const env = envOption(v.env as string | undefined)!;
  if (!v.name) throw new CliError('--name is required');
  const pem = publicKeyFile(v);
  // A client belongs to the organisation whose portal shows it; without one it is the operator's own.
  const organisation = v.organisation === undefined ? undefined : await onboarding.findOrganisation(String(v.organisation));
  // The operator's registration: no environment approval or application choices to keep within.
  const { client } = await onboarding.registerClient('operator', {
    env,
    organisationId: organisation?.id,
    name: String(v.name),
    redirectUris: (v['redirect-uri'] as string[] | undefined) ?? [],
    scopes: (v.scope as string[] | undefined) ?? ['openid'],
    vtr: (v.vtr as string[] | undefined) ?? ['P9.Cp.Cd'],
    publicKeyPem: pem,
    jwksUri: v['jwks-uri'] as string | undefined,
    im1: Boolean(v.im1),
  });
  io.out(v.json ? JSON.stringify(summary(client)) : client.clientId);
  // On stderr, so that stdout stays the client_id alone for scripts.
  if (!v.json) {
    io.err(organisation
      ? `Registered for ${organisation.name}: its partners see this client in the portal.`
      : 'This client belongs to no organisation: it is yours (the operator\'s) and no partner sees it in the portal. '
        + 'To register it for a partner, add --organisation ID_OR_NAME.');
  }
  return 0;
}

export async function clientsList(onboarding: Onboarding, v: Values, io: Io): Promise<number> {
  const clients = await onboarding.listClients(envOption(v.env as string | undefined, false));
  if (v.json) io.out(JSON.stringify(clients.map(summary)));
  else if (!clients.length) io.out('No clients registered.');
  else for (const c of clients) io.out(`${c.env.padEnd(12)} ${c.clientId}  ${c.name}  [${c.vtr.join(' ')}]  ${c.status}`);
  return 0;
}

export async function clientsShow(onboarding: Onboarding, clientId: string | undefined, v: Values, io: Io): Promise<number> {
  if (!clientId) throw new CliError('give the client_id: toolkit clients show CLIENT_ID');
  const envs = v.env ? [envOption(v.env as string)!] : ENVIRONMENT_NAMES;
  for (const env of envs) {
    const c = await onboarding.getClient(env, clientId);
    if (!c) continue;
    const s = summary(c);
    io.out(
      v.json
        ? JSON.stringify(s)
        : Object.entries(s)
            .map(([k, x]) => `${k.padEnd(14)} ${Array.isArray(x) ? x.join(' ') : String(x)}`)
            .join('\n'),
    );
    return 0;
  }
  io.err(`No client "${clientId}"${v.env ? ` in ${v.env}` : ''}`);
  return 1;
}

/** The clients this client may single sign-on into with asserted_login_identity (a team decision). */
export async function clientsSso(onboarding: Onboarding, clientId: string | undefined, v: Values, io: Io): Promise<number> {
  if (!clientId) throw new CliError('give the client_id: toolkit clients sso CLIENT_ID --env ENV --to OTHER_CLIENT_ID');
  const env = envOption(v.env as string | undefined)!;
  const to = await onboarding.setSsoPairs('cli', env, clientId, (v.to as string[] | undefined) ?? []);
  io.out(
    v.json
      ? JSON.stringify({ env, client_id: clientId, sso_to: to })
      : to.length
        ? `${clientId} may single sign-on into ${to.join(', ')}`
        : `${clientId} may not single sign-on into any client`,
  );
  return 0;
}
