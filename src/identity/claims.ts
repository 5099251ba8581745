/**
 * Scopes and the claims each returns, per proofing level (NHS login interface spec, "Scopes and claims").
 * Claims a person does not have are omitted, never null.
 */
import { randomUUID } from 'node:crypto';
import type { PersonRow } from '../storage/index.ts';
import { levelAtLeast } from './vectors.ts';
import { capabilitiesOf } from '../config/index.ts';

export const SCOPES = [
  'openid',
  'profile',
  'basic_demographics',
  'profile_extended',
  'email',
  'phone',
  'landline',
  'gp_registration_details',
  'gp_integration_credentials',
  'client_metadata',
  'nhs_app_credentials',
] as const;

/** oidc-provider `claims` configuration: scope -> claims. `acr`/`amr`/`azp` are deliberately absent (not used by NHS login). */
export const CLAIMS_BY_SCOPE: Record<string, string[]> = {
  openid: ['sub', 'jti', 'vot', 'vtm', 'auth_time'],
  profile: ['nhs_number', 'family_name', 'birthdate', 'identity_proofing_level'],
  basic_demographics: ['family_name', 'birthdate', 'identity_proofing_level'],
  profile_extended: ['given_name'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified', 'phone_number_pds_matched'],
  landline: ['landline_number', 'landline_number_verified'],
  gp_registration_details: ['gp_registration_details'],
  gp_integration_credentials: ['gp_integration_credentials'],
  client_metadata: ['client_user_metadata'],
  nhs_app_credentials: [],
};

/** The proofing levels each scope's claims are returned for (interface spec table); tested against personClaims. */
export const SCOPE_LEVELS: Record<string, string> = {
  openid: 'P0, P5, P9',
  profile: 'P5, P9',
  basic_demographics: 'P5, P9',
  profile_extended: 'P5, P9 (not in the sandpit, which has no PDS)',
  email: 'P0, P5, P9',
  phone: 'P0, P5, P9',
  landline: 'P0, P5, P9 (when the person has one)',
  gp_registration_details: 'P5, P9',
  gp_integration_credentials: 'P9, IM1 clients only, people with a GP online linkage',
  client_metadata: 'P0, P5, P9, clients agreed for it',
  nhs_app_credentials: 'NHS App only',
};

/** Conditional ID token claims besides the protocol ones; everything else is for /userinfo only. */
const ID_TOKEN_CLAIMS = new Set(['jti', 'vot', 'vtm', 'nhs_number', 'family_name', 'birthdate', 'identity_proofing_level']);

/** What each scope means to a person, for the consent screen. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  profile: 'your NHS number, surname and date of birth',
  basic_demographics: 'your surname and date of birth',
  profile_extended: 'your first name',
  email: 'your email address',
  phone: 'your mobile phone number',
  landline: 'your landline phone number',
  gp_registration_details: 'the GP surgery you are registered with',
  gp_integration_credentials: 'the details that link you to your GP online services account',
  client_metadata: 'information this service stores with your NHS login',
  nhs_app_credentials: 'your NHS App credentials',
};

export interface ClaimContext {
  env: string;
  person: PersonRow;
  /** The vector the sign-in achieved, for `vot`. */
  vot: string | undefined;
  vtm: string;
  clientIm1: boolean;
  clientUserMetadata: string | undefined;
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== ''));
}

/** Every claim the person has; oidc-provider then keeps those the granted scopes name. */
export function personClaims(use: 'id_token' | 'userinfo', c: ClaimContext): Record<string, unknown> {
  const p = c.person;
  const verified = levelAtLeast(p.proofing_level, 'P5');
  const pds = capabilitiesOf(c.env)?.pds === true;
  const all = compact({
    vot: c.vot,
    vtm: c.vtm,
    email: p.email,
    email_verified: true,
    phone_number: p.phone_number,
    phone_number_verified: p.phone_number ? true : undefined,
    phone_number_pds_matched: p.phone_number
      ? p.phone_pds_matched !== null
        ? p.phone_pds_matched === 1
        : verified && pds
      : undefined,
    ...(verified
      ? {
          nhs_number: p.nhs_number,
          family_name: p.family_name,
          birthdate: p.birthdate,
          identity_proofing_level: p.highest_level,
          // The sandpit has no PDS, so NHS login's sandpit returns no given_name.
          given_name: pds ? p.given_name : undefined,
          gp_registration_details: p.gp_ods_code ? { gp_ods_code: p.gp_ods_code } : undefined,
        }
      : {}),
    gp_integration_credentials:
      c.clientIm1 && levelAtLeast(p.proofing_level, 'P9') && p.im1 === 1 && p.gp_linkage_key
        ? { gp_user_id: p.gp_user_id, gp_linkage_key: p.gp_linkage_key, gp_ods_code: p.gp_ods_code }
        : undefined,
    client_user_metadata: c.clientUserMetadata,
  });
  if (use === 'userinfo') {
    delete all.vot;
    delete all.vtm;
    return all;
  }
  // NHS login ID tokens carry a jti (an RP passes it on as asserted_login_identity's `code`).
  all.jti = randomUUID();
  return Object.fromEntries(Object.entries(all).filter(([k]) => ID_TOKEN_CLAIMS.has(k)));
}
