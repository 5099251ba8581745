/**
 * The shape of every /api/v1 request, as Fastify route schemas, and the OpenAPI document's request bodies are
 * built from the same objects (openapi.ts adds enums and descriptions), so the document states the limits the
 * API enforces. JSON is validated strictly: no coercion (`5` is not the string "5", `["x"]` is not "x"), unknown
 * properties dropped (clients may send fields a later version reads), the first problem answered as
 * `{ error: "invalid_request", message, field }`.
 */
import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const NO_NUL = '^[^\\u0000]*$';
export const str = (maxLength: number) => ({ type: 'string', maxLength, pattern: NO_NUL }) as const;
export const strs = (maxItems: number, maxLength: number) => ({ type: 'array', maxItems, items: str(maxLength) }) as const;
const obj = <P extends Record<string, object>>(properties: P, required: (keyof P & string)[] = []) =>
  ({ type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false }) as const;

const SWITCHES = {
  level: str(10),
  otp_disabled: { type: 'boolean' },
  phone_pds_matched: { type: 'boolean' },
  pds_trace_fails: { type: 'boolean' },
} as const;

// A fault of a sequence (identity/fault-sequence.ts checks the rest: which kinds take ms, which step may last until cleared).
const COUNT = { type: ['integer', 'null'], minimum: 1, maximum: 1000 } as const;
const FAULT_STEP = obj({
  kind: str(100), count: COUNT, seconds: { type: ['integer', 'null'], minimum: 1, maximum: 3600 },
  ms: { type: ['integer', 'null'], minimum: 1, maximum: 30_000 },
}, ['kind']);

export const BODIES = {
  newClient: obj({
    name: str(100), env: str(20), redirect_uris: strs(10, 2000), scopes: strs(20, 100), vtr: { ...strs(10, 20), minItems: 1 },
    public_key_pem: str(16_384), jwks_uri: str(2000),
  }, ['name', 'redirect_uris', 'vtr']),
  organisation: obj({ name: str(160), ods_code: str(20) }),
  invitation: obj({ email: str(254), role: str(30) }, ['email', 'role']),
  role: obj({ role: str(30) }, ['role']),
  message: obj({ body: str(4000) }, ['body']),
  application: obj({
    eligibility: { type: 'object', maxProperties: 10, additionalProperties: str(10) },
    product_name: str(120), description: str(4000), sponsor: str(200), vectors: strs(10, 20), scopes: strs(20, 100),
    scope_reasons: { type: 'object', maxProperties: 20, additionalProperties: str(500) },
    contact_name: str(120), contact_email: str(254), safety_officer_email: str(254),
  }),
  document: obj({ kind: str(40), filename: str(255), content_base64: str(15 * 1024 * 1024) }, ['kind', 'filename', 'content_base64']),
  testUser: obj({
    env: str(20), nhs_number: str(20), ...SWITCHES,
    // The partner's own demographics (onboarding/test-user-demographics.ts checks each): all optional, a name or birth
    // date makes the user the partner's own rather than the PDS record's.
    given_name: str(100), family_name: str(100), birthdate: str(10), postcode: str(10), gp_ods_code: str(10),
    phone_number: str(20), email: str(254), gp_linkage: obj({ account_id: str(100), linkage_key: str(100) }, ['account_id', 'linkage_key']),
  }, ['level']),
  testUserChange: obj(SWITCHES, ['level']),
  gpState: obj({ state: str(30) }, ['state']),
  environmentRequest: obj({ env: str(20) }, ['env']),
  conformanceRun: obj({
    start_url: str(2000), only: strs(50, 100), button_selector: str(500), signed_in_text: str(500),
    // By test id: the service configured with the client's test issuer for that test (its `test_issuers`).
    start_urls: { type: 'object', maxProperties: 10, propertyNames: { pattern: '^[a-z0-9-]{1,100}$' }, additionalProperties: str(2000) },
  }, ['start_url']),
  key: obj({ public_key_pem: str(16_384), jwks_uri: str(2000) }),
  sessionRules: obj({
    idle_minutes: { type: ['integer', 'null'], minimum: 1, maximum: 30 },
    absolute_minutes: { type: ['integer', 'null'], minimum: 2, maximum: 720 },
  }, ['idle_minutes', 'absolute_minutes']),
  nhsApp: obj({ url: { type: ['string', 'null'], maxLength: 2000, pattern: '^[^\\u0000]*$' } }, ['url']),
  fault: obj({ kind: str(100), count: COUNT }, ['kind']),
  faults: obj({ steps: { type: 'array', minItems: 1, maxItems: 20, items: FAULT_STEP } }, ['steps']),
};

/** Path parameters: ids and file names, never longer than Fastify routes them (100), never NUL. */
export const params = (...names: string[]) => ({ params: obj(Object.fromEntries(names.map((n) => [n, str(100)])), names) });

const ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false });
export const strictCompiler: FastifySchemaCompiler<object> = ({ schema }) => ajv.compile(schema);

/** A closed message for the first problem Ajv found, naming the field; nothing of the request is repeated. */
type AjvError = { instancePath: string; keyword: string; params: Record<string, unknown> };
export function validationProblem(errors: AjvError[], part: string): { message: string; field?: string } {
  const e = errors[0];
  if (!e) return { message: 'The request is not valid' };
  // A field inside a list is named as the domain names it, counting from 1: `steps.2.count`.
  const path = e.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : p));
  if (e.keyword === 'required') path.push(String(e.params.missingProperty));
  const field = path.join('.') || undefined;
  const where = part === 'params' ? 'The address' : field ? field : 'The body';
  const messages: Record<string, string> = {
    required: `${field} is required`,
    type: part === 'body' && !field ? 'Send a JSON object' : `${where} must be ${[e.params.type].flat().join(' or ')}`,
    maxLength: `${where} must be at most ${String(e.params.limit)} characters`,
    minItems: `${where} must have at least ${String(e.params.limit)} item`,
    maxItems: `${where} must have at most ${String(e.params.limit)} items`,
    maxProperties: `${where} must have at most ${String(e.params.limit)} entries`,
    pattern: `${where} must not contain the character NUL`,
    minimum: `${where} must be at least ${String(e.params.limit)}`,
    maximum: `${where} must be at most ${String(e.params.limit)}`,
  };
  const message = Object.hasOwn(messages, e.keyword) ? messages[e.keyword]! : `${where} is not valid`;
  return { message, ...(field && part === 'body' ? { field } : {}) };
}
