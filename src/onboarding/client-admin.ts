/**
 * Client administration that only the NHS login team does (console and CLI): which client pairs may single
 * sign-on with asserted_login_identity (NHS login interface spec, "Single sign-on between services").
 * Every change is audited.
 */
import { getClient, setClientSsoTo, type Db } from '../storage/index.ts';
import { appendAudit } from './audit.ts';
import { OnboardingError } from './errors.ts';

/** Sets the clients `clientId` may single sign-on into (replacing the list); returns the new list. */
export async function setSsoPairs(db: Db, actor: string, env: string, clientId: string, to: string[]): Promise<string[]> {
  const client = await getClient(db, env, clientId);
  if (!client) throw new OnboardingError('not_found', `There is no client "${clientId}" in ${env}`, 'client_id');
  const targets = [...new Set(to.map((t) => t.trim()).filter(Boolean))];
  for (const t of targets) {
    if (t === clientId) throw new OnboardingError('invalid_name', 'A client cannot single sign-on into itself', 'to');
    if (!(await getClient(db, env, t))) throw new OnboardingError('not_found', `There is no client "${t}" in ${env} to single sign-on into`, 'to');
  }
  await setClientSsoTo(db, env, clientId, targets);
  await appendAudit(db, { actor, action: 'client.sso_pairs', subject: `${env}:${clientId}`, details: { from: client.ssoTo, to: targets } });
  return targets;
}
