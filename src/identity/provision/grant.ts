/**
 * Provision Account's token (spec-Provision_Account_v1 §3.2, §4): `grant_type=client_credentials` at the environment's
 * /token, the client authenticated by its private_key_jwt client assertion (P§3.2.1 T1, §4.1: RS512, iss = sub =
 * client_id, aud = the token URL), which the engine checks exactly as for every other client. The answer is a Bearer
 * token for 300 s with no scope (P§3.2.3 T2, T3), so Users Endpoint V2 refuses it ("No scope was present").
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { nhsClient } from '../steps/context.ts';

/** What a provisioning token carries in `extra`, so the endpoint tells it from any other client_credentials token. */
export const PROVISION_GRANT = 'provision';

/** The grant's handler (provider.registerGrantType): the engine has authenticated the client. */
export async function clientCredentialsGrant(ctx: KoaContextWithOIDC) {
  const client = ctx.oidc.client!;
  if (!nhsClient(client)!.provisioning) {
    // P§3.2.3 T5: "The authenticated client is not authorized to use this authorization grant type."
    throw new errors.UnauthorizedClient('this client is not approved for Provision Account: the NHS login team approves it per client');
  }
  // T1 has no scope: one sent is ignored and the token carries none (brief §4, ASSUMPTION).
  const token = new ctx.oidc.provider.ClientCredentials({ client, extra: { nhs_grant: PROVISION_GRANT } });
  ctx.oidc.entity('ClientCredentials', token);
  const value = await token.save();
  ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration };
}
