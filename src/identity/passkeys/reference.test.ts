/** The interface reference says what passkeys are offered and which vector they assert (issue 15 §5). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../test-support/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp('sqlite');
});
after(async () => app?.stop());

test('the reference page has a #passkeys section: offered only for P9.Cm, vot P9.Cm, the RP ID', async () => {
  const res = await app.fetch(`${app.config.publicUrl}/portal/reference/sandpit`);
  assert.equal(res.status, 200);
  const html = await res.text();
  const section = html.slice(html.indexOf('id="passkeys"'), html.indexOf('id="test-users"'));
  assert.ok(section.length > 0, 'a #passkeys section before the test users');
  assert.match(section, /only when your request&#39;s vtr has a vector a passkey alone meets \(P9\.Cm\)/);
  assert.match(section, /vot is P9\.Cm/);
  assert.match(section, new RegExp(`Relying party ID <code>${new URL(app.config.publicUrl).hostname}</code>`));
});
