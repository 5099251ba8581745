/** Minimal pages for the reference relying party. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:Arial,sans-serif;margin:0;color:#212b32;background:#f0f4f5}
main{max-width:960px;margin:0 auto;padding:32px 16px}
.nhsuk-table{border-collapse:collapse;background:#fff;width:100%}
.nhsuk-table th,.nhsuk-table td{border-bottom:1px solid #d8dde0;padding:8px;text-align:left}
/* Long names and values (vtm, nonce) wrap rather than widen the page past a 320 px screen. */
.nhsuk-table{table-layout:fixed}.nhsuk-table th{width:40%}.nhsuk-table th,.nhsuk-table td code{overflow-wrap:anywhere}form{margin:16px 0}
.nhsuk-button{font-size:19px;padding:12px 16px;border:0;border-radius:4px;cursor:pointer;background:#007f3b;color:#fff}
.nhsuk-button--secondary{background:#4c6272}
/* NHS login button, per the brand guidance: NHS blue, "Continue to NHS login", the first and most prominent option. */
.nhslogin-button{display:inline-flex;align-items:center;gap:12px;background:#005eb8;color:#fff;font-weight:700;font-size:19px;
  text-decoration:none;padding:12px 20px;border-radius:4px;box-shadow:0 4px 0 #003087}
.nhslogin-button:focus{outline:4px solid #ffeb3b;color:#212b32;background:#ffeb3b;box-shadow:0 4px 0 #212b32}
.nhslogin-logo{background:#fff;color:#005eb8;font-style:italic;font-weight:700;padding:0 6px;letter-spacing:-1px}`;

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Reference service</title><style>${STYLE}</style></head>` +
    `<body><main id="maincontent">${body}</main></body></html>`;
}

export const NHS_LOGIN_BUTTON = `<a class="nhslogin-button" id="nhs-login" href="/login"><span ` +
  `class="nhslogin-logo" aria-hidden="true">NHS</span>Continue to NHS login</a>`;

/** The no-consent screen NHS login asks services to show after access_denied / ConsentNotGiven. */
export const NO_CONSENT_PAGE = page(
  'You cannot continue without sharing your information',
  `<h1 class="nhsuk-heading-l">You cannot continue without sharing your information</h1>
  <p>The service provider needs your NHS login information to verify your identity.</p>
  <p>If you need medical help, go to <a href="https://111.nhs.uk">111.nhs.uk</a> or call <a href="tel:111">111</a>.</p>
  <p>For an emergency, call <a href="tel:999">999</a>.</p>
  <p><a href="/login">Try again and share your information</a></p>`,
);

/**
 * The same screen for a service opened from the NHS App in a browser: NHS login's content for services that use the NHS
 * App, as given (example-no-consent-content-nhs-app-browser.md; no-consent-guidance.md: "only use the content provided",
 * and no back button of its own).
 */
export const NO_CONSENT_PAGE_NHS_APP = page(
  'You cannot continue without sharing your information',
  `<h1 class="nhsuk-heading-l">You cannot continue without sharing your information</h1>
  <p>The service provider needs your NHS login information to verify your identity.</p>
  <p>If you need medical help, go to <a href="https://111.nhs.uk/">111.nhs.uk</a> or call <a href="tel:111">111</a> or your GP.</p>
  <p>Call <a href="tel:999">999</a> if it's a life-threatening emergency.</p>
  <p>Close this tab to go back to NHS App.</p>`,
);
