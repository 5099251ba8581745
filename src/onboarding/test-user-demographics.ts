/**
 * A partner's own demographics for an integration test user, so that it matches the records seeded in the partner's
 * own service: the fields of NHS login's supplier test data request (test-data.md, "Required fields" and "GP IM1
 * details"), each checked as that page says, every problem at once.
 */
import { validDate, validNhsNumber } from '../identity/provision/request.ts';
import { isEmailAddress } from '../security/email.ts';
import { FormProblems, OnboardingError } from './errors.ts';

export interface Demographics {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD. */
  birthdate: string;
  postcode?: string | undefined;
  gpOdsCode?: string | undefined;
  phoneNumber?: string | undefined;
  email?: string | undefined;
  /** GP IM1 details: the account id and linkage key the stand-in GP system knows the patient by. */
  gpLinkage?: { accountId: string; linkageKey: string } | undefined;
}

export interface CheckedDemographics extends Required<Omit<Demographics, 'gpLinkage' | 'email'>> {
  email: string | undefined;
  gpLinkage: Demographics['gpLinkage'];
}

const NAME = /^[\p{L}][\p{L}' .-]{0,99}$/u;
// A UK postcode: outward code, space optional, inward code (BS 7666).
const POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$/;
const ODS_GP = /^[A-Z]\d{5}$/;
const LINKAGE = /^[\w-]{1,100}$/;

/** A real date in the past (as Provision Account checks one), and not before 1900: no test patient is older. */
const realDate = (s: string) => validDate(s) && Number(s.slice(0, 4)) >= 1900;

/** "+44 or 07" (test-data.md), kept as the E.164 number the phone_number claim carries. */
function ukMobile(s: string): string | undefined {
  const digits = s.replace(/[\s()-]/g, '');
  const m = /^(?:\+44|0)(7\d{9})$/.exec(digits);
  return m ? `+44${m[1]}` : undefined;
}

/**
 * The NHS number of a test user with its own demographics: 10 digits passing Modulus 11, from the test range.
 * ASSUMPTION: live NHS numbers are issued from 4, 6 and 7, and NHS login's test data (the packs, INT PDS) uses 9; a
 * number outside 9 could be a real person's, so it is refused.
 */
export function checkTestNhsNumber(nhsNumber: string): void {
  if (!validNhsNumber(nhsNumber))
    throw new OnboardingError('invalid_test_user', 'Enter a 10-digit NHS number that passes the checksum', 'nhs_number');
  if (!nhsNumber.startsWith('9'))
    throw new OnboardingError('invalid_test_user', 'Use an NHS number from the test range (starting with 9), never a real one',
      'nhs_number');
}

/** The demographics, checked; with `nhsNumber`, its problem is reported with the others (a form shows them all at once). */
export function checkDemographics(d: Demographics, nhsNumber?: string): CheckedDemographics {
  const problems: OnboardingError[] = [];
  const bad = (field: string, text: string) => problems.push(new OnboardingError('invalid_test_user', text, field));
  try {
    if (nhsNumber !== undefined) checkTestNhsNumber(nhsNumber);
  } catch (e) {
    problems.push(e as OnboardingError);
  }
  const givenName = d.givenName.trim();
  const familyName = d.familyName.trim();
  if (!NAME.test(givenName)) bad('given_name', 'Enter a first name: letters, spaces, hyphens and apostrophes, up to 100');
  if (!NAME.test(familyName)) bad('family_name', 'Enter a last name: letters, spaces, hyphens and apostrophes, up to 100');
  if (!realDate(d.birthdate)) bad('birthdate', 'Enter the date of birth as YYYY-MM-DD, a real date in the past');
  const postcode = (d.postcode ?? '').trim().toUpperCase();
  const pc = POSTCODE.exec(postcode);
  if (postcode && !pc) bad('postcode', 'Enter a UK postcode, like LS1 4AP');
  const gpOdsCode = (d.gpOdsCode ?? '').trim().toUpperCase();
  if (gpOdsCode && !ODS_GP.test(gpOdsCode)) bad('gp_ods_code', 'Enter the GP practice\'s ODS code: a letter and 5 digits, like A12345');
  const phone = d.phoneNumber?.trim() ? ukMobile(d.phoneNumber) : '+447700900123';
  if (!phone) bad('phone_number', 'Enter a UK mobile number starting with +44 or 07');
  const email = d.email?.trim().toLowerCase() || undefined;
  if (email && !isEmailAddress(email)) bad('email', 'Enter an email address in the correct format, like name@example.com');
  const link = d.gpLinkage;
  if (link && (!LINKAGE.test(link.accountId) || !LINKAGE.test(link.linkageKey)))
    bad('gp_linkage', 'Give the GP account id and linkage key: letters, digits, hyphens and underscores, up to 100 each');
  if (link && !gpOdsCode) bad('gp_ods_code', 'A user linked to a GP system needs the GP practice\'s ODS code');
  if (problems.length) throw problems.length === 1 ? problems[0]! : new FormProblems(problems);
  return {
    givenName, familyName, birthdate: d.birthdate, postcode: pc ? `${pc[1]} ${pc[2]}` : '', gpOdsCode, phoneNumber: phone!, email,
    gpLinkage: link,
  };
}
