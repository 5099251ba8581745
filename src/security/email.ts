/**
 * The one email-format check for everything a person or partner types an address into. It runs on hostile input
 * before anything else, so it is linear: the length is capped first (RFC 5321 §4.5.3.1.3: a path is at most 256
 * octets, so an address at most 254), and the pattern has no two ways to match the same text. The pattern used
 * before, /^[^\s@]+@[^\s@]+\.[^\s@]+$/, can match the domain's dots in many ways: "a@" + "."×100,000 + "@"
 * kept the event loop busy for 12 s.
 */
/** The pattern alone (exported for its test); use isEmailAddress, which caps the length first. */
export const ADDRESS = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

export const MAX_EMAIL_LENGTH = 254;

export function isEmailAddress(text: string): boolean {
  return text.length <= MAX_EMAIL_LENGTH && ADDRESS.test(text);
}
