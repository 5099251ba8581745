/**
 * `npm run example:rp`: the reference relying party against the local sandpit.
 * With no RP_CLIENT_ID it registers itself in the toolkit's database (the same DATABASE_URL) the first
 * time, keeping its key pair and client id under ./data/reference-rp/.
 *
 *   RP_PORT (8080), RP_ISSUER (http://localhost:3000/sandpit), RP_CLIENT_ID, RP_PRIVATE_KEY (PEM file),
 *   RP_SCOPE ("openid profile email phone"), RP_VTR (P9.Cp.Cd,P5.Cp.Cd),
 *   RP_TLS_KEY and RP_TLS_CERT (PEM files): serve https://localhost:RP_PORT, as integration's redirect URIs must be
 *   (a self-signed certificate will do: the conformance suite accepts one on localhost, src/conformance/driver.ts).
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
const tls = process.env.RP_TLS_KEY || process.env.RP_TLS_CERT
  ? { key: readPem('RP_TLS_KEY', process.env.RP_TLS_KEY), cert: readPem('RP_TLS_CERT', process.env.RP_TLS_CERT) }
  : undefined;
const origin = `${tls ? 'https' : 'http'}://localhost:${port}`;
const redirectUri = `${origin}/callback`;
const scope = process.env.RP_SCOPE ?? 'openid profile email phone';
const vtr = (process.env.RP_VTR ?? 'P9.Cp.Cd,P5.Cp.Cd').split(',');

function readPem(name: string, file: string | undefined): string {
  if (!file) throw new Error(`${name} is needed too: RP_TLS_KEY and RP_TLS_CERT go together`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${name}: cannot read "${file}"`);
  }
}

async function selfRegister(): Promise<{ clientId: string; privateKeyPem: string }> {
  // Only the sandpit is self-service: an integration client comes from the portal (or the operator's CLI).
  if (!issuer.endsWith('/sandpit')) {
    throw new Error(`RP_CLIENT_ID and RP_PRIVATE_KEY are needed for ${issuer}: only sandpit clients register themselves`);
  }
  const dir = path.resolve('data', 'reference-rp');
  const saved = path.join(dir, 'client.json');
  // The saved client was registered for one redirect URI (http or https, one port); another needs its own client.
  type Saved = { clientId: string; privateKeyPem: string; redirectUri?: string };
  const previous = fs.existsSync(saved) ? (JSON.parse(fs.readFileSync(saved, 'utf8')) as Saved) : undefined;
  if (previous && (previous.redirectUri ?? `http://localhost:${port}/callback`) === redirectUri) return previous;
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
  const out = { clientId: client.clientId, privateKeyPem: privateKey, redirectUri };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(saved, JSON.stringify(out), { mode: 0o600 });
  return out;
}

const creds = process.env.RP_CLIENT_ID
  ? { clientId: process.env.RP_CLIENT_ID, privateKeyPem: fs.readFileSync(process.env.RP_PRIVATE_KEY ?? 'private.pem', 'utf8') }
  : await selfRegister();

const app = await createReferenceRp({
  issuer,
  clientId: creds.clientId,
  privateKeyPem: creds.privateKeyPem,
  redirectUri,
  scope,
  vtr,
  allowHttp: issuer.startsWith('http://'),
  https: tls,
});
await app.listen({ port, host: '127.0.0.1' });
console.log(`Reference service on ${origin} (client ${creds.clientId} at ${issuer}; redirect URI ${redirectUri})`);
