/**
 * Signs and checks the engine's signed cookies (Koa's `cookies`: the `name.sig` cookie carries an HMAC of
 * "name=value"). The signatures are Keygrip's, byte for byte (HMAC-SHA1, base64url without padding), so cookies
 * issued before keep working and keys rotate the same way (a cookie signed with an older key is accepted and
 * re-signed with the first). What differs is the cost: Keygrip imports the key again for every HMAC and compares
 * through tsscmp, which draws 32 random bytes and computes two HMAC-SHA256 per key tried; here each key is
 * imported once and the digests are compared with `crypto.timingSafeEqual`. Keygrip's way was ~13% of the main
 * thread's time for a single sign-on authorize (CPU profile, bench/).
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The interface Koa's `cookies` module expects of `app.keys` (Keygrip's). */
export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** Which key signed `data` with `digest`, or -1. */
  index(data: string, digest: string): number;
}

export function cookieSigner(keys: readonly string[]): CookieSigner {
  if (!keys.length) throw new Error('cookie signing needs at least one key');
  const imported: KeyObject[] = keys.map((k) => createSecretKey(Buffer.from(k, 'utf8')));
  const mac = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string) => {
    const given = Buffer.from(String(digest));
    for (const [i, key] of imported.entries()) {
      const expected = Buffer.from(mac(key, data));
      // The length of a valid signature is public (27 characters); only equal lengths are compared in constant time.
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i;
    }
    return -1;
  };
  return {
    sign: (data) => mac(imported[0]!, data),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
