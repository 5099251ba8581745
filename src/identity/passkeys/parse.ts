/**
 * The shape of a credential a page posts back (the JSON of a PublicKeyCredential, as the page's script serialises it),
 * checked at the edge: anything else is refused before @simplewebauthn/server sees it, so a hostile body is a refusal,
 * never a thrown TypeError and a 500.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

const MAX_JSON = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]*$/;

const isB64 = (v: unknown, max = MAX_JSON): v is string => typeof v === 'string' && v.length > 0 && v.length <= max && B64URL.test(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseCommon(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_JSON) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v.type !== 'public-key' || !isB64(v.id, 1024) || v.rawId !== v.id || !isObject(v.response)) return undefined;
  if (v.clientExtensionResults !== undefined && !isObject(v.clientExtensionResults)) return undefined;
  if (!isB64(v.response.clientDataJSON)) return undefined;
  return v;
}

export function parseRegistration(raw: unknown): RegistrationResponseJSON | undefined {
  const v = parseCommon(raw);
  if (!v) return undefined;
  const r = v.response as Record<string, unknown>;
  if (!isB64(r.attestationObject)) return undefined;
  if (r.transports !== undefined && !(Array.isArray(r.transports) && r.transports.every((t) => typeof t === 'string'))) {
    return undefined;
  }
  return { ...(v as unknown as RegistrationResponseJSON), clientExtensionResults: (v.clientExtensionResults ?? {}) as never };
}

export function parseAuthentication(raw: unknown): AuthenticationResponseJSON | undefined {
  const v = parseCommon(raw);
  if (!v) return undefined;
  const r = v.response as Record<string, unknown>;
  if (!isB64(r.authenticatorData) || !isB64(r.signature)) return undefined;
  if (r.userHandle !== undefined && r.userHandle !== null && !isB64(r.userHandle, 1024)) return undefined;
  return { ...(v as unknown as AuthenticationResponseJSON), clientExtensionResults: (v.clientExtensionResults ?? {}) as never };
}
