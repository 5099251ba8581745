/** The stand-in NHS App on the interface reference (`#nhs-app`): what it sends, what a service does, and the assumptions. */
import type { Capabilities } from '../../config/index.ts';
import { NHS_APP_CLIENT_ID } from './host.ts';
import { NHS_APP_USER_AGENTS } from './routes.ts';
import { proxyLinks } from './proxy.ts';

export function nhsAppFacts(env: { name: string; issuer: string; capabilities: Readonly<Capabilities> }) {
  if (!env.capabilities.nhsApp) return undefined;
  return {
    launcher: `${env.issuer}/nhs-app/services/<client_id>`,
    issuer: NHS_APP_CLIENT_ID,
    steps: [
      'The NHS App opens your NHS App address with ?assertedLoginIdentity=<jwt> (a GET, in the browser the person uses).',
      `The JWT is signed RS512 by the NHS App (iss "${NHS_APP_CLIENT_ID}" here); its code is the jti of the NHS App's ID token for `
        + 'the person; it lasts 60 seconds and is good for one authorization.',
      'Your service sends it on to /authorize as asserted_login_identity, with your usual parameters (state, nonce, vtr): the person '
        + 'is signed in without a password, and is asked to share their information with your service the first time.',
      'If the person declines there, show the NHS App variant of the no-consent screen: it ends "Close this tab to go back to NHS App." '
        + 'and has no back button of your own (no-consent-guidance.md).',
    ],
    assumptions: [
      'The launcher is the toolkit\'s, not the NHS App: it logs in with NHS login as the NHS App does, then opens your service.',
      'The NHS App may open every service whose partner gave an NHS App address here; on the real NHS App that is agreed in its own '
        + 'onboarding, with the NHS App team.',
      `The real NHS App adds ${NHS_APP_USER_AGENTS.join(' or ')} (with its version) to the user agent; this stand-in cannot change `
        + 'your browser\'s, so set it in the browser\'s developer tools to see your service as it shows inside the app.',
      ...(proxyLinks(env.name).length
        ? proxyLinks(env.name).map((l) => `Proxy access: ${l.proxy} manages health services for ${l.patients.join(' and ')}; `
          + 'acting for one of them, the NHS App\'s assertion names the patient, so your service signs the patient in.')
        : env.name === 'integration'
          ? ['Proxy access: link your own test users on your organisation\'s test users page ("Manages health services for"); '
            + 'acting for the patient, the NHS App\'s assertion names the patient, so your service signs the patient in.']
          : ['Proxy access has no linked test accounts in this environment.']),
    ],
  };
}
