/**
 * Password hashing with scrypt, at OWASP's minimum strength (Password Storage Cheat Sheet: N=2^14, r=8,
 * p=5, i.e. 16 MiB per hash). `crypto.scrypt` runs on libuv's thread pool, off the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ToolkitError } from '../errors.ts';

const PARAMS = { N: 2 ** 14, r: 8, p: 5 };
const KEYLEN = 32;

/** Too many password checks are waiting: the request is answered "busy, try again" (HTTP 503), not held. */
export class PasswordHashingBusy extends ToolkitError<'server_busy'> {
  override name = 'PasswordHashingBusy';
  constructor(message = 'Too many password checks are waiting') {
    super('server_busy', message);
  }
}

/**
 * At most `running` tasks at once, `waiting` more queued in order; beyond that, refused at once.
 * (Exported for its test; the process has one, below.)
 */
export function createGate(running: number, waiting: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < running) active++;
    else if (queue.length < waiting) await new Promise<void>((resolve) => queue.push(resolve));
    else throw new PasswordHashingBusy('too many password checks are waiting');
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * scrypt runs on libuv's thread pool (4 threads), which WebCrypto shares to sign every token. Sign-ins are not
 * limited in number (the sandpit's test accounts have a published password), so hashes could take every thread
 * and stall token issuance: two at a time leave the rest for signing. The pool is this process's, so the gate is.
 */
const gate = createGate(2, 64);

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return gate(() => new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEYLEN, options, (err, key) => (err ? reject(err) : resolve(key))),
  ));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Hashed against when there is no account, so response time does not reveal which accounts exist. */
const NO_ACCOUNT = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;

/** False for a wrong password or no account (`stored` undefined), in the same time either way. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = (stored ?? NO_ACCOUNT).split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return Boolean(stored) && actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const PASSWORD_HASH_COST = `scrypt N=2^14 r=8 p=5 (16 MiB)`;
