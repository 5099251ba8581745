/**
 * `npm run example:rp`: the reference relying party against the local sandpit.
 * With no RP_CLIENT_ID it registers itself in the toolkit's database (the same DATABASE_URL) the first
 * time, keeping its key pair and client id under ./data/reference-rp/.
 *
 *   RP_PORT (8080), RP_ISSUER (http://localhost:3000/sandpit), RP_CLIENT_ID, RP_PRIVATE_KEY (PEM file),
 *   RP_SCOPE ("openid profile email phone"), RP_VTR (P9.Cp.Cd,P5.Cp.Cd)
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { openDatabase } from '../../src/storage/index.ts';
import { registerClient } from '../../src/identity/index.ts';
import { createReferenceRp } from './rp.ts';

const port = Number(process.env.RP_PORT ?? 8080);
const issuer = process.env.RP_ISSUER ?? 'http://localhost:3000/sandpit';
const redirectUri = `http://localhost:${port}/callback`;
const scope = process.env.RP_SCOPE ?? 'openid profile email phone';
const vtr = (process.env.RP_VTR ?? 'P9.Cp.Cd,P5.Cp.Cd').split(',');

async function selfRegister(): Promise<{ clientId: string; privateKeyPem: string }> {
  const dir = path.resolve('data', 'reference-rp');
  const saved = path.join(dir, 'client.json');
  if (fs.existsSync(saved)) return JSON.parse(fs.readFileSync(saved, 'utf8'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const database = await openDatabase(loadConfig(process.env).database);
  const client = await registerClient(database.db, {
    env: 'sandpit', name: 'Reference service', redirectUris: [redirectUri], scopes: scope.split(' '), vtr, publicKeyPem: publicKey,
  });
  await database.close();
  const out = { clientId: client.clientId, privateKeyPem: privateKey };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(saved, JSON.stringify(out), { mode: 0o600 });
  return out;
}

const creds = process.env.RP_CLIENT_ID
  ? { clientId: process.env.RP_CLIENT_ID, privateKeyPem: fs.readFileSync(process.env.RP_PRIVATE_KEY ?? 'private.pem', 'utf8') }
  : await selfRegister();

const app = await createReferenceRp({ issuer, ...creds, redirectUri, scope, vtr, allowHttp: issuer.startsWith('http://') });
await app.listen({ port, host: '127.0.0.1' });
console.log(`Reference service on http://localhost:${port} (client ${creds.clientId} at ${issuer})`);
