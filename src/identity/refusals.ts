/**
 * Refusals into the protocol record's closed codes (storage/record.ts), once, where they are caught: the engine's
 * error events (environment.ts) and the profile's own answers (steps/). Everything after reads codes; only this
 * module knows how the engine words its errors, and refusals.test.ts pins that wording against the real engine, so an
 * upgrade that rewords one fails a test instead of silently losing the trace's advice.
 */
import { OAUTH_ERRORS, UNCLASSIFIED, type Cause, type OAuthError, type ExchangeFailure } from '../storage/index.ts';

const CAUSE = Symbol('nhs cause');

/** Marks an error the toolkit throws with its cause, so that its wording can change freely. */
export function because<E extends Error>(cause: Cause, err: E): E {
  return Object.assign(err, { [CAUSE]: cause });
}

/**
 * The engine's wording (error_description and error_detail) of the causes it raises itself, in the order they are
 * tried: an expired assertion's detail also mentions its signature.
 */
const ENGINE_WORDING: [RegExp, Cause][] = [
  [/only be used once/, 'assertion_replayed'],
  [/"exp" claim|expired|expiration/, 'assertion_expired'],
  [/alg mismatch/, 'assertion_alg'],
  [/signature|no applicable key|matching key/, 'assertion_signature'],
  [/iss \(JWT issuer\)/, 'assertion_subject'],
  [/no client authentication mechanism|client_secret/, 'no_client_authentication'],
  [/redirect_uri/, 'redirect_uri'],
  [/grant request is invalid|authorization code/, 'code_invalid'],
  [/'nonce'|'state'/, 'state_nonce_missing'],
  [/response_mode/, 'response_mode'],
];

const isOAuthError = (v: unknown): v is OAuthError => typeof v === 'string' && (OAUTH_ERRORS as readonly string[]).includes(v);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The record's view of an error the engine raised or was given (a bare Error on `server_error`). */
export function classify(err: unknown): ExchangeFailure {
  const e = (err ?? {}) as { error?: unknown; error_description?: unknown; error_detail?: unknown; [CAUSE]?: Cause };
  if (!(err instanceof Error) || e.error === undefined) return { error: 'server_error' };
  const description = text(e.error_description);
  const detail = text(e.error_detail);
  const error = isOAuthError(e.error) ? e.error : UNCLASSIFIED;
  const said = [detail, description].filter(Boolean).join(' ');
  const cause = e[CAUSE] ?? ENGINE_WORDING.find(([test]) => test.test(said))?.[1];
  return {
    error,
    ...(cause ? { cause } : {}),
    // An unknown code is kept in words, so the record still says what happened.
    ...(error === UNCLASSIFIED
      ? { description: [String(e.error), description].filter(Boolean).join(': ') }
      : description
        ? { description }
        : {}),
    ...(detail ? { detail } : {}),
  };
}
