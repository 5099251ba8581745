/**
 * Provision Account's request body (spec-Provision_Account_v1 §3.3.1 T7) checked at the edge: every key mandatory,
 * every value a JSON string of its format; anything else is 11010 "Data in request not valid" (P§3.3.3 T11), with the
 * field named in the record only.
 */
import { isEmailAddress } from '../../security/email.ts';

export interface ProvisionInput {
  nhs_number: string;
  email_address: string;
  date_of_birth: string;
  ods_code: string;
  phone_number: string;
}

/** ASSUMPTION (brief §5): a body larger than this is not a request of T7's five short strings. */
export const BODY_LIMIT = 8 * 1024;

/** The NHS number's Modulus 11 check digit (NHS Data Dictionary): T7 asks for a "verified" number. */
export function validNhsNumber(s: string): boolean {
  if (!/^\d{10}$/.test(s)) return false;
  const sum = [...s.slice(0, 9)].reduce((t, d, i) => t + Number(d) * (10 - i), 0);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === Number(s[9]);
}

/** "MUST be in YYYY-MM-DD format" (T7): a real calendar date, and not after today. */
export function validDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s && d.getTime() <= Date.now();
}

const RULES: Record<keyof ProvisionInput, (s: string) => boolean> = {
  nhs_number: validNhsNumber,
  email_address: isEmailAddress,
  date_of_birth: validDate,
  // "A letter followed by 6 numbers", yet the example and every test ODS code has 5 (ASSUMPTION: both).
  ods_code: (s) => /^[A-Za-z]\d{5,6}$/.test(s),
  // "MUST include the country code e.g. +447825428822": E.164 (ASSUMPTION: not only UK numbers).
  phone_number: (s) => /^\+[1-9]\d{7,14}$/.test(s),
};

export type Parsed = { ok: true; input: ProvisionInput } | { ok: false; detail: string };

/** The body as received (a string, or undefined when there was none), parsed and checked. */
export function parseProvisionRequest(raw: string | undefined): Parsed {
  if (raw === undefined || raw === '') return { ok: false, detail: 'no body: send the JSON object of P§3.3.1 Table 7' };
  if (Buffer.byteLength(raw) > BODY_LIMIT) return { ok: false, detail: `the body is over ${BODY_LIMIT} bytes` };
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, detail: 'the body is not JSON' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, detail: 'the body is not a JSON object' };
  const input: Record<string, string> = {};
  for (const [key, rule] of Object.entries(RULES)) {
    const v = (body as Record<string, unknown>)[key];
    if (v === undefined) return { ok: false, detail: `${key} is missing` };
    if (typeof v !== 'string') return { ok: false, detail: `${key} is not a string` };
    if (!rule(v)) return { ok: false, detail: `${key} is not in the format of Table 7` };
    input[key] = v;
  }
  return {
    ok: true,
    input: {
      ...(input as unknown as ProvisionInput), email_address: input.email_address!.toLowerCase(), ods_code: input.ods_code!.toUpperCase(),
    },
  };
}
