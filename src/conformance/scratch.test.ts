import { test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { startListeningApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { registerClient } from '../identity/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { createRun, executeRun, getRun } from './index.ts';

test('scratch', async () => {
  const app = await startListeningApp('sqlite');
  const rpPort = await freePort();
  const rpUrl = `http://localhost:${rpPort}`;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const client = await registerClient(app.database.db, { env: 'sandpit', name: 'Ref', redirectUris: [`${rpUrl}/callback`], scopes: ['openid', 'profile', 'email'], vtr: ['P9.Cp.Cd'], publicKeyPem: keys.publicKey });
  const rp = await createReferenceRp({ issuer: `${app.origin}/sandpit`, clientId: client.clientId, privateKeyPem: keys.privateKey, redirectUri: `${rpUrl}/callback`, scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true });
  await rp.listen({ port: rpPort, host: '127.0.0.1' });
  const t0 = Date.now();
  const id = await createRun({ config: app.config, db: app.database.db, events: app.events }, { env: 'sandpit', clientId: client.clientId, startUrl: rpUrl, createdBy: 'test', only: process.env.ONLY?.split(',') });
  const status = await executeRun({ config: app.config, db: app.database.db, events: app.events }, id, (r) => console.log(`${r.testId}: ${r.status} (${(r as any).ms} ms) — ${r.detail}`));
  console.log('status', status, (Date.now() - t0) / 1000, 's');
  await rp.close();
  await app.stop();
});
