/**
 * A client's NHS App address: the page of the partner's service that the NHS App opens with `?assertedLoginIdentity=`.
 * On the real NHS App it is agreed in the NHS App's own onboarding; here a partner sets it for its sandpit and
 * integration clients, and the stand-in (host.ts) may then open the service. Checked here, for every face.
 */
import { capabilitiesOf } from '../../config/index.ts';
import { ToolkitError } from '../../errors.ts';
import { updateClient, type Db } from '../../storage/index.ts';

export class NhsAppAddressError extends ToolkitError<'invalid_nhs_app_url'> {
  override name = 'NhsAppAddressError';
  constructor(message: string) {
    super('invalid_nhs_app_url', message, 'nhs_app_url');
  }
}

const MAX_LENGTH = 2000;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `raw` empty (or null) clears the address: the stand-in then refuses to open the service. */
export async function setNhsAppAddress(db: Db, env: string, clientId: string, raw: unknown): Promise<void> {
  const caps = capabilitiesOf(env);
  if (!caps?.nhsApp) throw new NhsAppAddressError(`The NHS App stand-in is in the sandpit and integration only, not ${env}`);
  if (raw !== null && raw !== undefined && typeof raw !== 'string') throw new NhsAppAddressError('Enter the address as text');
  const text = (raw ?? '').trim();
  if (!text) return updateClient(db, env, clientId, { nhsAppUrl: null });
  if (text.length > MAX_LENGTH) throw new NhsAppAddressError(`Enter an address of at most ${MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NhsAppAddressError('Enter the full address of the page, like https://your-service.example/nhs-app');
  }
  if (url.hash) throw new NhsAppAddressError('Enter the address without a # fragment: the NHS App adds its query to it');
  if (url.searchParams.has('assertedLoginIdentity'))
    throw new NhsAppAddressError('Leave out assertedLoginIdentity: the NHS App adds it each time it opens your service');
  const local = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !(local && caps.localhostHttp)) {
    throw new NhsAppAddressError(caps.localhostHttp
      ? 'Enter an https address (or http://localhost for a service on your own machine)'
      : 'Enter an https address: only sandpit clients may use http://localhost');
  }
  await updateClient(db, env, clientId, { nhsAppUrl: url.href });
}
