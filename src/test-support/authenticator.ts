/**
 * A software passkey authenticator for server-side tests of the WebAuthn ceremonies (the browser tests use Chromium's
 * virtual authenticator instead). It makes what a platform authenticator makes (WebAuthn L3 §6.1 authenticator data,
 * §6.5 attestation "none", §6.3.3 ES256 assertion signatures), with node:crypto's P-256 keys; the verification under
 * test is @simplewebauthn/server's.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const b64 = (b: Uint8Array) => isoBase64URL.fromBuffer(new Uint8Array(b));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface SoftAuthenticator {
  credentialId: Uint8Array;
  counter: number;
  /** Flags byte: UP (0x01) and UV (0x04) unless changed. */
  flags: number;
  userHandle?: string;
  register(options: { challenge: string; rp: { id?: string }; user: { id: string } }, origin: string): Record<string, unknown>;
  assert(options: { challenge: string; rpId?: string }, origin: string): Record<string, unknown>;
}

export function softAuthenticator(): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = new Map<number, number | Uint8Array>([
    [1, 2], [3, -7], [-1, 1], [-2, isoBase64URL.toBuffer(jwk.x!)], [-3, isoBase64URL.toBuffer(jwk.y!)],
  ]);
  const auth: SoftAuthenticator = {
    credentialId: new Uint8Array(randomBytes(16)),
    counter: 0,
    flags: 0x05,
    register(options, origin) {
      auth.userHandle = options.user.id;
      const clientData = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false });
      const id = auth.credentialId;
      const attested = Buffer.concat([Buffer.alloc(16), Buffer.from([id.length >> 8, id.length & 255]), id, isoCBOR.encode(cose)]);
      const authData = authenticatorData(options.rp.id!, auth.flags | 0x40, auth.counter, attested);
      const object = new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]);
      const attestationObject = isoCBOR.encode(object as never);
      return {
        id: b64(id), rawId: b64(id), type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: b64(Buffer.from(clientData)), attestationObject: b64(attestationObject), transports: ['internal'] },
      };
    },
    assert(options, origin) {
      auth.counter += 1;
      const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
      const authData = authenticatorData(options.rpId!, auth.flags, auth.counter);
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), privateKey as KeyObject);
      return {
        id: b64(auth.credentialId), rawId: b64(auth.credentialId), type: 'public-key', clientExtensionResults: {},
        response: {
          clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature), userHandle: auth.userHandle,
        },
      };
    },
  };
  return auth;
}

function authenticatorData(rpId: string, flags: number, counter: number, attested?: Uint8Array): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
}
