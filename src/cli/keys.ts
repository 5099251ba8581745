/** `toolkit keys ...` */
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { publishNextKey, removeRetiredKeys, switchToNextKey } from '../identity/index.ts';
import { CliError, envOption, type Io } from './main.ts';

/** The database the environments' signing keys are kept in, as the identity module's key functions take it. */
type KeyStore = Parameters<typeof publishNextKey>[0];

type Values = Record<string, string | boolean | string[] | undefined>;

/** An RSA 2048 key pair, the same as `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`. */
export async function keysGenerate(v: Values, io: Io): Promise<number> {
  // Never a private key written where nobody asked for one (the working directory may be a repository).
  if (typeof v.out !== 'string' || !v.out) {
    throw new CliError('--out DIR is required: the directory to write private.pem and public.pem to');
  }
  const dir = path.resolve(v.out);
  const privateFile = path.join(dir, 'private.pem');
  const publicFile = path.join(dir, 'public.pem');
  if (fs.existsSync(privateFile)) throw new CliError(`${privateFile} already exists; choose another --out directory`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(privateFile, privateKey, { mode: 0o600 });
  fs.writeFileSync(publicFile, publicKey, { mode: 0o644 });
  io.out(
    v.json
      ? JSON.stringify({ private_key: privateFile, public_key: publicFile })
      : `Wrote ${privateFile} (keep it secret) and ${publicFile} (register it with NHS login)`,
  );
  return 0;
}

export async function keysRotate(db: KeyStore, v: Values, io: Io): Promise<number> {
  const env = envOption(v.env as string | undefined)!;
  let kid: string;
  if (v.step === 'publish') kid = await publishNextKey(db, env);
  else if (v.step === 'switch') kid = await switchToNextKey(db, env);
  else if (v.step === 'retire') kid = (await removeRetiredKeys(db, env)).join(' ');
  else
    throw new CliError(
      '--step must be publish (add the next key to the JWKS), switch (sign with it) or retire (remove retired keys from the JWKS)',
    );
  io.out(
    v.json
      ? JSON.stringify({ env, step: v.step, kid })
      : `${env}: ${{ publish: 'published next key', switch: 'now signing with', retire: 'removed retired key(s)' }[String(v.step)]} ` +
        `${kid}. Running toolkits pick this up within 10 seconds.`,
  );
  return 0;
}
