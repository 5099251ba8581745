/**
 * Copy-paste snippets for a client's page. They are tested as shown: the shell snippet's assertion is
 * accepted by the token endpoint (src/portal/portal.test.ts).
 */
import type { ClientRecord } from '../storage/index.ts';

export function connectionSnippets(issuer: string, client: ClientRecord) {
  const redirect = client.redirectUris[0] ?? 'https://your-service.example/callback';
  const scope = client.scopes.join(' ');
  const typescript = `// npm install openid-client
import * as client from 'openid-client';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

const issuer = new URL('${issuer}');
const privateKey = createPrivateKey(readFileSync('private.pem'));
const config = await client.discovery(issuer, '${client.clientId}', { id_token_signed_response_alg: 'RS512' },
  client.PrivateKeyJwt(privateKey, {
    // NHS login wants the assertion's aud to be the token endpoint (openid-client uses the issuer by default).
    [client.modifyAssertion]: (_header, payload) => { payload.aud = '${issuer}/token'; },
  }),${issuer.startsWith('http:') ? '\n  { execute: [client.allowInsecureRequests] }, // the local sandpit is plain http' : ''}
);

// 1. Send the user to NHS login (keep state, nonce and vtr in your session).
const state = client.randomState();
const nonce = client.randomNonce();
const vtr = ${JSON.stringify(JSON.stringify(client.vtr))};
const url = client.buildAuthorizationUrl(config, { redirect_uri: '${redirect}', scope: '${scope}', state, nonce, vtr });

// 2. On your redirect URI: exchange the code, check vot, fetch userinfo.
const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), { expectedState: state, expectedNonce: nonce });
const claims = tokens.claims()!;
if (!JSON.parse(vtr).includes(claims.vot)) throw new Error('vot does not match the vectors requested');
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);`;

  const shell = `# A client assertion for the token endpoint, signed RS512 with your private key (RFC 7523).
CLIENT_ID='${client.clientId}'
TOKEN_ENDPOINT='${issuer}/token'
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
HEADER=$(printf '{"alg":"RS512","typ":"JWT"}' | b64url)
PAYLOAD=$(printf '{"iss":"%s","sub":"%s","aud":"%s","jti":"%s","iat":%d,"exp":%d}' \\
  "$CLIENT_ID" "$CLIENT_ID" "$TOKEN_ENDPOINT" "$(openssl rand -hex 16)" "$NOW" "$((NOW + 60))" | b64url)
SIGNATURE=$(printf '%s.%s' "$HEADER" "$PAYLOAD" | openssl dgst -sha512 -sign private.pem | b64url)
ASSERTION="$HEADER.$PAYLOAD.$SIGNATURE"

curl -s "$TOKEN_ENDPOINT" \\
  -d grant_type=authorization_code -d code="$CODE" -d redirect_uri='${redirect}' \\
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
  -d client_assertion="$ASSERTION"`;
  return { typescript, shell };
}
