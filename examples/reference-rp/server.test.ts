/**
 * `npm run example:rp` with RP_TLS_KEY and RP_TLS_CERT serves https with a self-signed certificate, for an
 * integration client (whose redirect URIs must be https): the README's "integration report on a laptop".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { registerClient } from '../../src/identity/index.ts';
import { startListeningApp, type TestApp } from '../../src/test-support/harness.ts';
import { freePort } from '../../src/test-support/ports.ts';

let app: TestApp & { origin: string };
let rp: ChildProcess | undefined;
before(async () => {
  app = await startListeningApp('sqlite');
});
after(async () => {
  if (rp?.exitCode === null) {
    rp.kill();
    await once(rp, 'exit');
  }
  await app.stop();
});

test('with RP_TLS_KEY and RP_TLS_CERT the reference RP serves https://localhost and sends that redirect URI', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reference-rp-tls-'));
  // The README's command.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      path.join(dir, 'tls-key.pem'),
      '-out',
      path.join(dir, 'tls-cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  fs.writeFileSync(path.join(dir, 'private.pem'), keys.privateKey);
  const client = await registerClient(app.database.db, {
    env: 'integration',
    name: 'Reference',
    redirectUris: [`https://localhost:${port}/callback`],
    scopes: ['openid', 'profile'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem: keys.publicKey,
  });
  rp = spawn(process.execPath, [path.join(import.meta.dirname, 'server.ts')], {
    cwd: dir,
    env: {
      ...process.env,
      RP_PORT: String(port),
      RP_ISSUER: `${app.origin}/integration`,
      RP_CLIENT_ID: client.clientId,
      RP_PRIVATE_KEY: 'private.pem',
      RP_TLS_KEY: 'tls-key.pem',
      RP_TLS_CERT: 'tls-cert.pem',
      RP_SCOPE: 'openid profile',
      RP_VTR: 'P9.Cp.Cd',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(rp.stdout!, 'data')) as [Buffer];
  assert.match(line.toString(), new RegExp(`Reference service on https://localhost:${port} `));
  // The certificate is self-signed: this request, like the conformance run's browser on localhost, accepts it.
  const res = await new Promise<{ status: number; location: string }>((resolve, reject) => {
    https.get(`https://localhost:${port}/login`, { rejectUnauthorized: false }, (r) => {
      r.resume();
      resolve({ status: r.statusCode!, location: String(r.headers.location) });
    }).on('error', reject);
  });
  assert.equal(res.status, 302);
  const authorize = new URL(res.location);
  assert.equal(authorize.origin + authorize.pathname, `${app.origin}/integration/authorize`);
  assert.equal(authorize.searchParams.get('redirect_uri'), `https://localhost:${port}/callback`);
});
