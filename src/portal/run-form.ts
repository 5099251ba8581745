/** The conformance run form of the client page: its fields, and the tests that need the service configured with a test issuer. */
import { CATALOGUE, testIssuersOf } from '../conformance/index.ts';
import { CSRF, form, text } from '../web/forms.ts';

/** The form field of each test's own start URL (plan.ts `issuer`): a service configured with the client's test issuer. */
export const OWN_START_FIELDS: Record<string, string> = {
  'jwks-unparseable-key': 'start_url_jwks',
  'discovery-issuer-mismatch': 'start_url_discovery',
};

export const RUN_FIELDS = {
  start_url: text('Start page', 2000),
  ...Object.fromEntries(Object.values(OWN_START_FIELDS).map((f) => [f, text('Start page of your service with the test issuer', 2000)])),
  button_selector: text('NHS login button', 500),
  only: text('Only these tests', 2000),
  signed_in_text: text('Text shown only when signed in', 500),
};
export const RUN = form({ _csrf: CSRF, ...RUN_FIELDS });

/** What the run form shows again after a refusal. */
export type RunTyped = Record<string, string>;

/** The start URLs typed for the tests that need a test issuer, by test id (the run's `startUrls`). */
export const startUrlsOf = (typed: RunTyped): Record<string, string> =>
  Object.fromEntries(Object.entries(OWN_START_FIELDS).flatMap(([id, f]) => (typed[f]?.trim() ? [[id, typed[f].trim()]] : [])));

/** The tests that need a test issuer, for the client page: each one's issuer and the field for its start URL. */
export function testIssuerFields(issuer: string, clientId: string, typed: RunTyped = {}) {
  const issuers = testIssuersOf(issuer, clientId);
  return CATALOGUE.filter((t) => t.issuer).map((t) => {
    const field = OWN_START_FIELDS[t.id]!;
    return { id: t.id, title: t.title, issuer: issuers[t.id]!, field, value: typed[field] ?? '' };
  });
}
