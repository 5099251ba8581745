import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { checkJwks, jwkFromPem, RegistrationError, validateRegistration, type ClientRegistration } from './registration.ts';

const pem = (o: Parameters<typeof generateKeyPairSync>[1] & object, type: 'rsa' | 'ec' = 'rsa') =>
  generateKeyPairSync(
    type as 'rsa',
    { ...o, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as never,
  ) as unknown as { publicKey: string; privateKey: string };
const rsa2048 = pem({ modulusLength: 2048 } as never);

const base: ClientRegistration = {
  env: 'sandpit',
  name: 'Svc',
  redirectUris: ['https://svc.example/cb'],
  scopes: ['openid'],
  vtr: ['P9.Cp.Cd'],
  publicKeyPem: rsa2048.publicKey,
};

async function code(r: Partial<ClientRegistration>): Promise<string> {
  try {
    await validateRegistration({ ...base, ...r });
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RegistrationError);
    return e.code;
  }
}

test('public key checks fail with specific codes', async () => {
  assert.equal(await code({}), 'ok');
  assert.equal(await code({ publicKeyPem: pem({ modulusLength: 1024 } as never).publicKey }), 'weak_public_key');
  assert.equal(await code({ publicKeyPem: 'not a key' }), 'invalid_public_key');
  assert.equal(await code({ publicKeyPem: rsa2048.privateKey }), 'invalid_public_key');
  assert.equal(await code({ publicKeyPem: pem({ namedCurve: 'P-256' } as never, 'ec').publicKey }), 'invalid_public_key');
  const jwk = await jwkFromPem(rsa2048.publicKey);
  await assert.rejects(checkJwks({ keys: [jwk, jwk] }), (e: RegistrationError) => e.code === 'duplicate_kid');
  assert.equal((await checkJwks({ keys: [jwk] })).keys.length, 1);
});

test('a key of another type is named in a sentence: an EC key is not an RSA key', async () => {
  const err = await validateRegistration({ ...base, publicKeyPem: pem({ namedCurve: 'P-256' } as never, 'ec').publicKey }).catch(
    (e: RegistrationError) => e,
  );
  assert.equal(
    err instanceof RegistrationError && err.message,
    'The key is an EC key, not an RSA key: NHS login needs an RSA public key (RS512)',
  );
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
  const other = await validateRegistration({ ...base, publicKeyPem: dsa }).catch((e: RegistrationError) => e);
  assert.equal(
    other instanceof RegistrationError && other.message,
    'The key is a DSA key, not an RSA key: NHS login needs an RSA public key (RS512)',
  );
});

test('redirect URI rules: exact https, loopback http in the sandpit only, at most 10', async () => {
  assert.equal(await code({ redirectUris: ['http://localhost:8080/cb'] }), 'ok');
  assert.equal(await code({ env: 'integration', redirectUris: ['http://localhost:8080/cb'] }), 'invalid_redirect_uri');
  assert.equal(await code({ redirectUris: ['http://svc.example/cb'] }), 'invalid_redirect_uri');
  assert.equal(await code({ redirectUris: ['https://svc.example/cb?x=1'] }), 'invalid_redirect_uri');
  assert.equal(await code({ redirectUris: ['https://*.svc.example/cb'] }), 'invalid_redirect_uri');
  assert.equal(await code({ redirectUris: Array.from({ length: 11 }, (_, i) => `https://svc.example/${i}`) }), 'too_many_redirect_uris');
});

test('scopes and vectors must be NHS login ones; IM1 scope needs IM1', async () => {
  assert.equal(await code({ scopes: ['openid', 'made_up'] }), 'invalid_scope');
  assert.equal(await code({ scopes: ['openid', 'gp_integration_credentials'] }), 'invalid_scope');
  assert.equal(await code({ scopes: ['openid', 'gp_integration_credentials'], im1: true }), 'ok');
  assert.equal(await code({ vtr: ['P7.Cp'] }), 'invalid_vtr');
  assert.equal(await code({ vtr: [] }), 'invalid_vtr');
});

test('JWKS URL: fetched and checked; localhost, private networks and metadata addresses are refused', async () => {
  const jwk = await jwkFromPem(rsa2048.publicKey);
  const served = { keys: [{ ...jwk, kid: 'k1' }] };
  const client = await validateRegistration(
    { ...base, publicKeyPem: undefined, jwksUri: 'https://keys.svc.example/jwks.json' },
    async () => served,
  );
  assert.equal(client.jwksUri, 'https://keys.svc.example/jwks.json');
  const dup = await validateRegistration({ ...base, publicKeyPem: undefined, jwksUri: 'https://keys.svc.example/jwks.json' }, async () => ({
    keys: [jwk, jwk],
  })).catch((e: RegistrationError) => e.code);
  assert.equal(dup, 'duplicate_kid');
  // The real fetch, aimed at the toolkit's own network: refused before any request leaves.
  const { createServer } = await import('node:http');
  let hits = 0;
  const server = createServer((_q, s) => {
    hits++;
    s.end(JSON.stringify(served));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    for (const uri of [
      `http://localhost:${port}/jwks`,
      `http://127.0.0.1:${port}/jwks`,
      'http://[::1]/jwks',
      'https://10.1.2.3/jwks',
      'https://169.254.169.254/latest',
      'https://[::ffff:127.0.0.1]/jwks',
    ]) {
      const err = await validateRegistration({ ...base, publicKeyPem: undefined, jwksUri: uri }).catch((e: RegistrationError) => e);
      assert.ok(err instanceof RegistrationError, uri);
      assert.equal(err.code, 'invalid_jwks_uri', uri);
      assert.match(err.message, /not a public internet address|https/, uri);
    }
    assert.equal(hits, 0, 'nothing reached the local server');
  } finally {
    server.close();
  }
});

test('public address check', async () => {
  const { isPublicAddress } = await import('../security/outbound.ts');
  for (const a of [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '0.0.0.0',
    'localhost',
  ])
    assert.equal(isPublicAddress(a), false, a);
  for (const a of ['8.8.8.8', '151.101.1.1', '2a00:1450:4009:81f::200e']) assert.equal(isPublicAddress(a), true, a);
});
