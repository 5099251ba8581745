/**
 * Copy-paste snippets for a client's page. They are tested as shown (src/portal/snippets.test.ts): the
 * TypeScript module completes a login, and the shell snippet's assertion is accepted by the token endpoint.
 */
import { inSpecOrder } from '../identity/vectors.ts';
import type { ClientRecord } from '../onboarding/index.ts';

/** A JavaScript string literal. */
const js = (v: string) => JSON.stringify(v);
/** A single-quoted shell word ('...' with ' written as '\\''). */
const sh = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

export function connectionSnippets(issuer: string, client: ClientRecord) {
  const redirect = client.redirectUris[0] ?? 'https://your-service.example/callback';
  const scope = client.scopes.join(' ');
  const typescript = `// npm install openid-client   (Node 20 or later; run as an ES module)
import * as client from 'openid-client';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

// Your private key (private.pem, the pair of the public key you registered), as a WebCrypto key for RS512.
const privateKey = await crypto.subtle.importKey('pkcs8', ` +
    `createPrivateKey(readFileSync('private.pem')).export({ type: 'pkcs8', format: 'der' }),
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, false, ['sign']);
const config = await client.discovery(new URL(${js(issuer)}), ${js(client.clientId)}, { id_token_signed_response_alg: 'RS512' },
  client.PrivateKeyJwt(privateKey, {
    // NHS login wants the assertion's aud to be the token endpoint (openid-client uses the issuer by default).
    [client.modifyAssertion]: (_header, payload) => { payload.aud = ${js(`${issuer}/token`)}; },
  }),${issuer.startsWith('http:') ? '\n  { execute: [client.allowInsecureRequests] }, // the local sandpit is plain http' : ''}
);
// The vectors of trust you accept, lowest identity level first as in the Federation spec's examples (§5.1.6);
// NHS login answers with the best one the person meets in the ID token's vot.
const vtr = ${js(JSON.stringify(inSpecOrder(client.vtr)))};

// 1. Send the user to NHS login; keep state and nonce in the user's session until they come back.
export function startLogin() {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: ${js(redirect)}, scope: ${js(scope)}, state, nonce, vtr });
  return { url, state, nonce };
}

// 2. On your redirect URI: exchange the code, check vot against the vectors you asked for, fetch userinfo.
export async function finishLogin(callbackUrl: URL, saved: { state: string; nonce: string }) {
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, { expectedState: saved.state, expectedNonce: saved.nonce });
  const claims = tokens.claims()!;
  if (!JSON.parse(vtr).includes(claims.vot)) throw new Error('vot does not match the vectors requested');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  return { claims, userinfo };
}`;

  const shell = `# A client assertion for the token endpoint, signed RS512 with your private key (RFC 7523).
CLIENT_ID=${sh(client.clientId)}
TOKEN_ENDPOINT=${sh(`${issuer}/token`)}
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
HEADER=$(printf '{"alg":"RS512","typ":"JWT"}' | b64url)
PAYLOAD=$(printf '{"iss":"%s","sub":"%s","aud":"%s","jti":"%s","iat":%d,"exp":%d}' \\
  "$CLIENT_ID" "$CLIENT_ID" "$TOKEN_ENDPOINT" "$(openssl rand -hex 16)" "$NOW" "$((NOW + 60))" | b64url)
SIGNATURE=$(printf '%s.%s' "$HEADER" "$PAYLOAD" | openssl dgst -sha512 -sign private.pem | b64url)
ASSERTION="$HEADER.$PAYLOAD.$SIGNATURE"

curl -s "$TOKEN_ENDPOINT" \\
  -d grant_type=authorization_code -d code="$CODE" -d redirect_uri=${sh(redirect)} \\
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
  -d client_assertion="$ASSERTION"`;
  return { typescript, shell };
}
