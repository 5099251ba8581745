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

/** The first requested vector the sign-in satisfies: that is the ID token's `vot`. */
export function matchVector(requested: Vector[], achieved: Achieved): Vector | undefined {
  return requested.find(
    (v) => levelAtLeast(achieved.level, v.level) && v.credentials.every((c) => achieved.credentials.includes(c)),
  );
}

/** The lowest level that would satisfy some requested vector (the uplift target), given credentials. */
export function levelNeeded(requested: Vector[]): Level {
  return requested.map((v) => v.level).sort((a, b) => LEVEL_RANK[a] - LEVEL_RANK[b])[0] ?? 'P9';
}

export function higherLevel(a: string, b: string): string {
  return (LEVEL_RANK[a as Level] ?? 0) >= (LEVEL_RANK[b as Level] ?? 0) ? a : b;
}
