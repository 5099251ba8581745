/**
 * Vectors of trust (RFC 8485 as profiled by NHS login): `P9.Cp.Cd` = proofing level P9 AND password AND
 * registered device. Components inside a vector are ANDed; vectors in a `vtr` array are ORed.
 * NHS login interface spec §"Vectors of trust".
 */
export type Level = 'P0' | 'P5' | 'P9';
export type Credential = 'Cp' | 'Cd' | 'Ck' | 'Cm';

/** The vector profiles NHS login uses; any other string is refused. */
export const SUPPORTED_VECTORS = ['P0.Cp', 'P0.Cp.Cd', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'] as const;
export const DEFAULT_VTR = ['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'];
const LEVEL_RANK: Record<Level, number> = { P0: 0, P5: 5, P9: 9 };

/**
 * Vectors in the order the Federation spec's examples send them (§5.1.6.1–3, e.g. Example 3's
 * ["P5.Cp.Cd","P5.Cp.Ck","P5.Cm","P9.Cp.Cd","P9.Cp.Ck","P9.Cm"]): lower identity level first, then Cp.Cd, Cp.Ck,
 * Cm — the order of SUPPORTED_VECTORS. The order changes no vot (matchVector picks the best); it is for display.
 */
export function inSpecOrder(values: readonly string[]): string[] {
  const at = (v: string) => (SUPPORTED_VECTORS as readonly string[]).indexOf(v) >>> 0; // unknown ones last, as given
  return [...values].sort((a, b) => at(a) - at(b));
}

export interface Vector {
  value: string;
  level: Level;
  credentials: Credential[];
}

export class VtrError extends Error {
  override name = 'VtrError';
}

export function parseVector(value: string): Vector {
  if (!(SUPPORTED_VECTORS as readonly string[]).includes(value)) {
    throw new VtrError(`"${value}" is not a vector NHS login supports (${SUPPORTED_VECTORS.join(', ')})`);
  }
  const [level, ...credentials] = value.split('.') as [Level, ...Credential[]];
  return { value, level, credentials };
}

/** Parses the `vtr` request parameter: a JSON array of vector strings; absent means the default. */
export function parseVtr(raw: string | undefined): Vector[] {
  if (raw === undefined || raw === '') return DEFAULT_VTR.map(parseVector);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new VtrError('vtr must be a JSON array of vector strings, e.g. ["P9.Cp.Cd"]');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((v) => typeof v === 'string')) {
    throw new VtrError('vtr must be a non-empty JSON array of vector strings, e.g. ["P9.Cp.Cd"]');
  }
  return [...new Set(parsed as string[])].map(parseVector);
}

export function levelAtLeast(have: string, need: Level): boolean {
  return (LEVEL_RANK[have as Level] ?? -1) >= LEVEL_RANK[need];
}

/** What a sign-in has established: the person's proofing level and the credentials they presented. */
export interface Achieved {
  level: string;
  credentials: readonly string[];
}

/**
 * The best requested vector the sign-in satisfies: that is the ID token's `vot` (NHS login Federation spec
 * §5.1.4 "Returning Vectors of Trust values": the vot must match one of the vtr's values).
 *
 * "Best" follows §5.1.6.3 (Example 3, a service offering both basic and sensitive data): it sends
 * ["P5.Cp.Cd",…,"P9.Cp.Cd",…] with the P5 vectors first, and "for a P9 user the service can offer all the
 * functionalities", so a P9 user must come back with a P9 vector whatever the order of the vtr. Hence:
 *   1. the higher identity verification level wins (P9 > P5 > P0, §5.1.1);
 *   2. at the same level, the stronger authentication wins. Assumption (the spec gives no rule): strength is
 *      the number of factors the vector asserts, Cm counting as two because Table 21 describes it alone as
 *      "2FA" — so "P0.Cp.Cd" beats "P0.Cp" for a sign-in with password and OTP;
 *   3. a remaining tie keeps the relying party's order (the first such vector in its vtr).
 */
export function matchVector(requested: Vector[], achieved: Achieved): Vector | undefined {
  let best: Vector | undefined;
  for (const v of requested) {
    if (!levelAtLeast(achieved.level, v.level) || !v.credentials.every((c) => achieved.credentials.includes(c))) continue;
    if (!best || compareStrength(v, best) > 0) best = v;
  }
  return best;
}

const FACTORS: Record<Credential, number> = { Cp: 1, Cd: 1, Ck: 1, Cm: 2 };

/** Positive when `a` asserts more than `b`: identity level first, then authentication factors. */
function compareStrength(a: Vector, b: Vector): number {
  const factors = (v: Vector) => v.credentials.reduce((n, c) => n + FACTORS[c], 0);
  return LEVEL_RANK[a.level] - LEVEL_RANK[b.level] || factors(a) - factors(b);
}

export function higherLevel(a: string, b: string): string {
  return (LEVEL_RANK[a as Level] ?? 0) >= (LEVEL_RANK[b as Level] ?? 0) ? a : b;
}
