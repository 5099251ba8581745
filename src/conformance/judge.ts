/**
 * Judging one test: what the browser saw (the service's final page) and what the environment saw (the calls
 * the service made, with which token, from the protocol record). A test passes only on both.
 */
import type { ErrorCode, EventKind } from '../storage/index.ts';
import type { Revisit, Observation } from './driver.ts';
import type { TestSpec } from './plan.ts';
import { SLOW_TOKEN_MS } from '../identity/faults.ts';

/** A protocol record entry of the run (storage/record.ts): a fault's name is in its details. */
export interface RunEvent {
  id: string;
  kind: EventKind;
  outcome: 'ok' | 'error';
  error: ErrorCode | null;
  description: string | null;
  at: number;
  details: Record<string, unknown>;
}

export interface Verdict {
  status: 'pass' | 'fail' | 'could_not_run';
  detail: string;
  /** Could not run for a reason of this attempt only (the journey completed, the fault was not met): worth one more. */
  retry?: true;
}

/** What "signed in" looks like for this service: its own text, or the calibration login's final page. */
export interface SignedInRule {
  text?: string | undefined;
  calibration?: { url: string } | undefined;
}

const path = (u: string) => {
  const url = new URL(u);
  return `${url.origin}${url.pathname}`;
};

/** A page that loaded and offers no NHS login button: what a signed-in page looks like without its text. */
export function looksSignedIn(o: Observation): boolean {
  return o.status > 0 && o.status < 400 && !o.loginButton;
}

export function signedIn(o: Observation, rule: SignedInRule): boolean | undefined {
  if (o.problem) return false;
  if (rule.text) return o.text.includes(rule.text);
  if (!rule.calibration) return undefined;
  return path(o.finalUrl) === path(rule.calibration.url) && looksSignedIn(o);
}

/** What the record shows of a journey whose token response was never spoiled, so that "could not run" says why. */
function whyNoFault(o: Observation, events: RunEvent[]): string {
  const token = events.findLast((e) => e.kind === 'token');
  const where = `the journey ended at ${o.finalUrl} (HTTP ${o.status})`;
  if (o.problem) return `${o.problem}; ${where}.`;
  if (!events.some((e) => e.kind === 'authorize')) return `the environment saw no authorization request of this test; ${where}.`;
  if (!token) return `the service did not redeem the code at the token endpoint; ${where}.`;
  if (token.outcome === 'error') return `the token request was refused (${token.error}: ${token.description ?? ''}); ${where}.`;
  return `the token response was not one a fault spoils; ${where}.`;
}

/** What the idle test's first journey is judged as: a plain sign-in. */
const SIGN_IN = { group: 'scenario', persona: 'P9', expect: 'signed_in', title: '', requirement: '', reference: '' } as const;

const DROPPED_ASSERTION = 'The service did not send the NHS App\'s assertedLoginIdentity to NHS login as asserted_login_identity.';
const NO_CONSENT_HEADING = 'You cannot continue without sharing your information';
/** The error each /authorize fault sends the service (identity/provider.ts); a refused NHS App assertion's depends on the prompt. */
const AUTHORIZE_ERRORS: Record<string, readonly string[]> = {
  authorize_invalid_scope: ['invalid_scope'],
  authorize_temporarily_unavailable: ['temporarily_unavailable'],
  authorize_server_error: ['server_error'],
  authorize_sso_refused: ['sso_login_required', 'invalid_request'],
};
/** The first login and one restart for refreshed credentials (gp-credentials.md: "re-starting the login process"). */
const GP_LOGINS = 2;
const GP_STAND_IN = "the toolkit's GP system stand-in (POST /<env>/gp-system/session, on the interface reference page)";

/** A GP test whose fault or GP session never happened: what the record shows instead. */
function gpNotMet(o: Observation, events: RunEvent[]): Verdict | undefined {
  if (!events.some((e) => e.kind === 'fault'))
    return {
      status: 'could_not_run', detail: `The service did not fetch gp_integration_credentials from /userinfo: ${whyNoFault(o, events)}`,
    };
  if (!events.some((e) => e.kind === 'gp_session'))
    return { status: 'could_not_run', detail: `The service did not open a GP session with the credentials at ${GP_STAND_IN}.` };
  return undefined;
}

/** example-no-consent-content-nhs-app-browser.md: a service used from the NHS App in a browser ends with it. */
const NHS_APP_CLOSE = 'Close this tab to go back to NHS App.';

/** The client's test issuer a test needs (identity/test-issuers.ts), and whether any service fetched its discovery document. */
export interface TestIssuerSeen {
  url: string;
  seen: boolean;
}

export function judge(spec: TestSpec, o: Observation, events: RunEvent[], rule: SignedInRule, testIssuer?: TestIssuerSeen): Verdict {
  const verdict = judgeJourney(spec, o, events, rule, testIssuer);
  if (!testIssuer || testIssuer.seen || verdict.status === 'pass') return verdict;
  const detail = `${verdict.detail} No service has fetched ${testIssuer.url}/.well-known/openid-configuration: start yours configured `
    + 'with that issuer, and give its start URL for this test.';
  return { ...verdict, detail };
}

function judgeJourney(spec: TestSpec, o: Observation, events: RunEvent[], rule: SignedInRule, testIssuer?: TestIssuerSeen): Verdict {
  const tokens = events.filter((e) => e.kind === 'token' && e.outcome === 'ok');
  const userinfo = events.filter((e) => e.kind === 'userinfo');
  const authorize = events.filter((e) => e.kind === 'authorize');
  const fault = events.find((e) => e.kind === 'fault');
  const isIn = signedIn(o, rule);
  const pass = (detail: string): Verdict => ({ status: 'pass', detail });
  const fail = (detail: string): Verdict => ({ status: 'fail', detail });

  // Whatever the test expects, a page the run could not open is not a page it can judge (and never one that "refused").
  if (o.refused) return fail(o.refused);
  // A login loop ends in the browser's own error (too many redirects): the count of logins says what it was.
  if (o.problem && spec.expect === 'gp_no_loop' && tokens.length > GP_LOGINS) return judgeGp(spec, o, events, false);
  if (spec.expect === 'discovery_refused') return judgeDiscovery(o, events, signedIn(o, rule), testIssuer);
  if (o.problem && spec.expect !== 'refused')
    return { status: o.problem.includes('button') || o.problem.includes('start URL') ? 'could_not_run' : 'fail', detail: o.problem };
  switch (spec.expect) {
    case 'signed_in': {
      if (!tokens.length) return fail('The service did not redeem the code at the token endpoint.');
      if (spec.id === 'vot-matches') {
        const sent = authorize.find((e) => typeof e.details.vtr === 'string' && !e.details.vtr_defaulted);
        if (!sent) return fail('The service sent no vtr: NHS login then uses its default vectors. Send the vectors you need explicitly.');
        const vot = String(tokens[0]!.details.vot ?? '');
        if (!String(sent.details.vtr).includes(`"${vot}"`))
          return fail(`The vot ${vot} is not in the vtr sent (${String(sent.details.vtr)}).`);
      }
      if (isIn === false) return fail(`The service did not show its signed-in page: it ended at ${o.finalUrl} (HTTP ${o.status}).`);
      // The NHS App's login left an NHS login session in the browser, so a service that drops the assertion still gets a code
      // without a password page: only the record shows whether the assertion was used (steps/record.ts sso_from).
      if (spec.via === 'nhs_app' && !authorize.some((e) => e.details.sso_from === 'nhs-app'))
        return fail(DROPPED_ASSERTION);
      if (isIn === undefined && (o.status >= 400 || o.loginButton))
        return fail(`The service ended at ${o.finalUrl} (HTTP ${o.status}), which does not look signed in.`);
      return pass(`Signed in at ${o.finalUrl}; the service redeemed its code${userinfo.length ? ' and fetched userinfo' : ''}.`);
    }
    case 'no_consent_screen': {
      if (tokens.length) return fail('A token was issued, but declining consent gives no code.');
      if (o.status >= 500) return fail(`The service failed (HTTP ${o.status}) on access_denied / ConsentNotGiven.`);
      const missing = [
        !o.text.toLowerCase().includes(NO_CONSENT_HEADING.toLowerCase()) && `the heading "${NO_CONSENT_HEADING}"`,
        !o.links.some((l) => l.startsWith('https://111.nhs.uk')) && 'a link to https://111.nhs.uk',
        !o.links.includes('tel:111') && 'a tel:111 link',
        !o.links.includes('tel:999') && 'a tel:999 link',
        spec.via === 'nhs_app' && !o.text.includes(NHS_APP_CLOSE) && `the NHS App line "${NHS_APP_CLOSE}"`,
      ].filter(Boolean);
      if (missing.length) return fail(`The no-consent screen lacks ${missing.join(', ')} (at ${o.finalUrl}).`);
      if (isIn) return fail('The person appears signed in after declining.');
      return pass('The no-consent screen, with the 111 and 999 links, and no session.');
    }
    case 'error_not_crash': {
      const errors = Object.hasOwn(AUTHORIZE_ERRORS, String(spec.fault)) ? AUTHORIZE_ERRORS[String(spec.fault)]! : ['invalid_scope'];
      const error = authorize.find((e) => e.error && errors.includes(e.error))?.error;
      if (!error && spec.via === 'nhs_app' && !authorize.some((e) => e.details.asserted_login_identity))
        return fail(DROPPED_ASSERTION);
      if (!error) return { status: 'could_not_run', detail: "The environment did not see the run's authorization request." };
      if (o.status === 0 || o.status >= 500) return fail(`The service did not handle ${error}: HTTP ${o.status} at ${o.finalUrl}.`);
      if (!o.text.trim()) return fail(`The service showed an empty page for ${error}.`);
      if (isIn) return fail(`The person appears signed in after an ${error} error.`);
      return pass(`An error page (HTTP ${o.status}) at ${o.finalUrl}.`);
    }
    case 'copes': {
      if (!fault) return { status: 'could_not_run', detail: `The fault was never applied: ${whyNoFault(o, events)}` };
      const applied = String(fault.details.fault);
      if (o.status === 0 || o.status >= 500) return fail(`The service failed after ${applied}: HTTP ${o.status} at ${o.finalUrl}.`);
      if (!o.text.trim()) return fail(`The service showed an empty page after ${applied}.`);
      return pass(`A page of the service's own (HTTP ${o.status}) at ${o.finalUrl}.`);
    }
    case 'times_out': {
      if (!fault) return { status: 'could_not_run', detail: `The token request was never held: ${whyNoFault(o, events)}` };
      const held = `${SLOW_TOKEN_MS / 1000} s`;
      if (isIn === undefined)
        return {
          status: 'could_not_run',
          detail: 'Could not tell what "signed in" looks like for this service: the calibration login failed. Give the signed-in text.',
        };
      if (isIn)
        return fail(`The service waited for the token endpoint for all of the ${held} it was held and then signed the person in: `
          + 'time the token request out (well under 30 s) and tell the person there is a problem.');
      if (o.status === 0 || o.status >= 500)
        return fail(`The token endpoint did not answer and the service failed: HTTP ${o.status} at ${o.finalUrl}.`);
      if (!o.text.trim()) return fail('The token endpoint did not answer and the service showed an empty page.');
      return pass(`The service stopped waiting and showed a page of its own (HTTP ${o.status}) at ${o.finalUrl}.`);
    }
    case 'reauthenticates':
      return fail('Judged by the idle check.');
    case 'redeems_once':
      return fail('Judged by the callback check.');
    case 'gp_no_loop':
    case 'gp_restricted':
      return judgeGp(spec, o, events, isIn);
    case 'completes':
      if (o.status === 0 || o.status >= 500) return fail(`The service failed: HTTP ${o.status} at ${o.finalUrl}.`);
      return pass(`Back at the service (HTTP ${o.status}) at ${o.finalUrl}.`);
    case 'refused': {
      if (!fault) {
        const detail = `The fault was never applied: ${whyNoFault(o, events)}`;
        return { status: 'could_not_run', detail, ...(o.problem ? {} : { retry: true as const }) };
      }
      if (isIn === undefined)
        return {
          status: 'could_not_run',
          detail: 'Could not tell what "signed in" looks like for this service: the calibration login failed. Give the signed-in text.',
        };
      const applied = String(fault.details.fault);
      if (isIn) return fail(`The service signed the person in despite: ${applied}.`);
      if (spec.fault === 'authorize_wrong_state' && tokens.length)
        return fail('The service redeemed the code of an authorization response whose state it did not send.');
      if (spec.fault !== 'userinfo_sub_mismatch' && userinfo.length)
        return fail(`The service called /userinfo with the access token that came with a bad ID token (${applied}).`);
      return pass(`Refused (ended at ${o.finalUrl}, HTTP ${o.status}); no further call with the token.`);
    }
    case 'settings_reachable':
      return fail('Judged by the settings check.');
  }
}

function judgeGp(spec: TestSpec, o: Observation, events: RunEvent[], isIn: boolean | undefined): Verdict {
  const notMet = gpNotMet(o, events);
  if (notMet) return notMet;
  const logins = events.filter((e) => e.kind === 'token' && e.outcome === 'ok').length;
  const gp = events.filter((e) => e.kind === 'gp_session');
  const failed = o.status === 0 || o.status >= 500 ? `HTTP ${o.status} at ${o.finalUrl}` : !o.text.trim() ? 'an empty page' : undefined;
  if (spec.expect === 'gp_no_loop') {
    if (logins > GP_LOGINS)
      return {
        status: 'fail',
        detail: `The service restarted the login ${logins - 1} times while the GP system kept refusing the same credentials `
          + `(${gp.length} refused GP sessions): it loops on "retrieve GP credentials". Restart once at most, then tell the person.`,
      };
    if (failed) return { status: 'fail', detail: `The service failed when the GP system refused the credentials: ${failed}.` };
    return {
      status: 'pass',
      detail: `${logins} login${logins === 1 ? '' : 's'}, ${gp.length} refused GP session${gp.length === 1 ? '' : 's'}, then a page `
        + `of the service's own (HTTP ${o.status}) at ${o.finalUrl}.`,
    };
  }
  const restricted = gp.find((e) => e.details.level === 'Restricted');
  if (!restricted) return { status: 'could_not_run', detail: 'The GP system stand-in never answered Restricted for this test.' };
  const lifted = events.find((e) => e.kind === 'gp_state' && e.at >= restricted.at);
  if (!lifted) {
    const again = events.some((e) => e.kind === 'authorize' && e.at > restricted.at);
    return {
      status: 'fail',
      detail: again
        ? 'After "ApplicationLinkLevel": "Restricted" the service sent the person back to NHS login without prompt=login: they were '
          + 'signed in by their session without re-authenticating, so the account stayed Restricted.'
        : 'The service did not send the person back to NHS login after "ApplicationLinkLevel": "Restricted" (it must, so that they '
          + 're-authenticate and the restriction is lifted).',
    };
  }
  if (!gp.some((e) => e.details.level === 'Linked' && e.at >= lifted.at))
    return { status: 'fail', detail: 'After the person re-authenticated, the service did not open a GP session again.' };
  if (failed) return { status: 'fail', detail: `The service failed after the restriction was lifted: ${failed}.` };
  if (isIn === false) return { status: 'fail', detail: `The service did not show its signed-in page: it ended at ${o.finalUrl}.` };
  return {
    status: 'pass', detail: 'Restricted, then a sign-in with credentials lifted it, then a Linked GP session and the signed-in page.',
  };
}

/**
 * The idle test (plan.ts `session-idle`): a sign-in, then no activity past the client's idle limit, then the service's page
 * opened again. Only NHS login's sign-in page there is a full authentication journey started without user interaction.
 */
export function judgeAfterIdle(
  o: Observation, later: Revisit | undefined, events: RunEvent[], rule: SignedInRule, idleS: number,
): Verdict {
  const first = judge({ ...SIGN_IN, id: 'session-idle' }, o, events.filter((e) => !later || e.at < later.at), rule);
  if (first.status !== 'pass' || !later) return { status: first.status, detail: `The first sign-in: ${first.detail}` };
  const idle = `${Math.round((later.at - later.idleFrom) / 1000)} s without activity (the client's idle limit is ${idleS} s)`;
  if (later.signInPage) return { status: 'pass', detail: `After ${idle} the service sent the person to NHS login to sign in again.` };
  const again = events.filter((e) => e.at >= later.at);
  const fail = (detail: string): Verdict => ({ status: 'fail', detail });
  if (later.status >= 500 || (later.status === 0 && !later.text.trim()))
    return fail(`After ${idle} the service failed: HTTP ${later.status} at ${later.finalUrl}.`);
  if (later.atNhsLogin)
    return fail(`After ${idle} the service sent the person to NHS login without prompt=login or max_age: NHS login showed `
      + `${later.finalUrl} rather than its sign-in page.`);
  if (again.some((e) => e.kind === 'token' && e.outcome === 'ok'))
    return fail(`After ${idle} the service sent the person to NHS login without prompt=login or max_age, so their NHS login session `
      + 'signed them in again with no full authentication.');
  if (signedIn({ ...o, ...later, problem: undefined }, rule) ?? !later.loginButton)
    return fail(`After ${idle} the service still showed its signed-in page (${later.finalUrl}): end its session at the idle limit.`);
  return fail(`After ${idle} the service showed a page of its own (${later.finalUrl}) instead of sending the person to NHS login `
    + 'by itself: the documentation asks for a redirect to the authentication journey without user interaction.');
}

/**
 * The code-reuse test (plan.ts `code-reuse`): a sign-in, then the callback URL NHS login sent the browser to opened again.
 * A token request before any new authorization request is the same code sent again (Federation spec 3.4: "The client MUST
 * NOT use the authorization code more than once"); a new login (a new authorization request) is a fine answer.
 */
export function judgeCallbackAgain(o: Observation, later: Revisit | undefined, events: RunEvent[], rule: SignedInRule): Verdict {
  const first = judge({ ...SIGN_IN, id: 'code-reuse' }, o, events.filter((e) => !later || e.at < later.at), rule);
  if (first.status !== 'pass') return { status: first.status, detail: `The sign-in: ${first.detail}` };
  if (!later)
    return { status: 'could_not_run', detail: `The browser never saw the service's callback with a code (it ended at ${o.finalUrl}).` };
  const fail = (detail: string): Verdict => ({ status: 'fail', detail });
  const again = events.filter((e) => e.at >= later.at);
  const login = again.findIndex((e) => e.kind === 'authorize');
  const redeemed = again.slice(0, login < 0 ? undefined : login).find((e) => e.kind === 'token');
  if (redeemed)
    return fail('Opening the callback again made the service send the same code to /token again: NHS login refused it '
      + `(${redeemed.error ?? redeemed.outcome}${redeemed.description ? `: ${redeemed.description}` : ''}) and revoked the tokens `
      + 'issued for it. Treat the state as used as soon as the callback receives it, and redeem each code once.');
  if (later.status >= 500 || (later.status === 0 && !later.text.trim()))
    return fail(`Opening the callback again, the service failed: HTTP ${later.status} at ${later.finalUrl}.`);
  if (!later.text.trim()) return fail('Opening the callback again, the service showed an empty page.');
  return {
    status: 'pass',
    detail: `Opening the callback again sent no second token request; the service showed ${later.finalUrl} (HTTP ${later.status}).`,
  };
}

export function judgeSettings(
  o: Observation,
  settings: { status: number; text: string } | undefined,
  email: string,
  issuer: string,
): Verdict {
  if (o.problem) return { status: 'fail', detail: o.problem };
  if (!settings) return { status: 'fail', detail: `The page after signing in (${o.finalUrl}) has no link to ${issuer}/settings.` };
  if (settings.status !== 200 || !settings.text.includes(email))
    return {
      status: 'fail',
      detail: `The settings link did not reach the settings page with the person signed in (HTTP ${settings.status}).`,
    };
  return { status: 'pass', detail: 'The settings page opened from the service without signing in again.' };
}

/**
 * A discovery document whose issuer is not the one it was fetched for is not used (OpenID Connect Discovery 1.0 §4.3): the
 * person is not sent to the authorization endpoint it names. The service may say so on its start page or after its button.
 */
function judgeDiscovery(o: Observation, events: RunEvent[], isIn: boolean | undefined, testIssuer?: TestIssuerSeen): Verdict {
  const fail = (detail: string): Verdict => ({ status: 'fail', detail });
  if (o.problem?.startsWith('the start URL')) return fail(o.problem);
  if (events.some((e) => e.kind === 'authorize' || e.kind === 'token'))
    return fail('The service used a discovery document whose issuer is not the address it fetched it from: it sent the person to '
      + 'the authorization endpoint the document names (OpenID Connect Discovery 1.0 4.3: "MUST NOT be used").');
  if (isIn) return fail(`The person appears signed in at ${o.finalUrl}.`);
  if (!testIssuer?.seen) return fail('The service did not sign the person in, but it was not seen reading the discovery document either.');
  return { status: 'pass', detail: `The service did not use the discovery document; it ended at ${o.finalUrl} (HTTP ${o.status}).` };
}
