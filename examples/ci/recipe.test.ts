/**
 * The README's CI recipe (examples/ci/conformance.sh), run as a partner's CI runs it: against a running toolkit, with only
 * its address and an API token, starting the service itself. The reference RP gets a green JUnit file; a broken one a red
 * one naming the test it fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startListeningApp, type TestApp } from '../../src/test-support/harness.ts';
import { freePort } from '../../src/test-support/ports.ts';
import { CATALOGUE } from '../../src/conformance/plan.ts';
import { createInvitedOrganisation } from '../../src/onboarding/members.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NODE = process.execPath;

describe('the CI recipe against a running toolkit (sqlite)', () => {
  let app: TestApp & { origin: string };
  let token: string;
  let dir: string;
  before(async () => {
    app = await startListeningApp('sqlite');
    const made = await createInvitedOrganisation(app.database.db, { name: 'CI Ltd', adminEmail: 'lead@ci.example', tokenName: 'ci' });
    token = made.token!.token;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-recipe-'));
  });
  after(async () => {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The recipe as a CI job runs it: its exit status, what it printed and the JUnit file it wrote. */
  const recipe = async (out: string, service: (port: number) => string, extra: Record<string, string> = {}) => {
    const port = await freePort();
    const child = spawn('bash', [path.join(ROOT, 'examples/ci/conformance.sh')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, TOOLKIT_URL: app.origin, TOOLKIT_TOKEN: token,
        SERVICE_URL: `http://localhost:${port}`, START_SERVICE: service(port), TOOLKIT: `${NODE} bin/toolkit.js`,
        OUT: path.join(dir, out), ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stdout.on('data', (b: Buffer) => { printed += b; });
    child.stderr.on('data', (b: Buffer) => { printed += b; });
    const exit = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const junitFile = path.join(dir, out, 'junit.xml');
    return { exit, printed, junit: fs.existsSync(junitFile) ? fs.readFileSync(junitFile, 'utf8') : '' };
  };

  test('the reference RP, and two more of it for the test issuers: exit 0, a JUnit file with every test of the plan and no failure, '
    + 'a signed report', async (t) => {
    const started = Date.now();
    // Each instance on the port of the start page it is given (SERVICE_URL), with the issuer it is given.
    const urls = [await freePort(), await freePort()].map((p) => `http://localhost:${p}`).join(' ');
    const r = await recipe('reference', () => 'RP_ISSUER=$TOOLKIT_ISSUER RP_CLIENT_ID=$CLIENT_ID RP_PRIVATE_KEY=$PRIVATE_KEY '
      + `RP_PORT=\${SERVICE_URL##*:} ${NODE} examples/reference-rp/server.ts`, { TEST_ISSUER_SERVICE_URLS: urls });
    t.diagnostic(`the recipe, full plan: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(r.exit, 0, r.printed);
    const planned = CATALOGUE.filter((c) => !c.id.startsWith('im1-') && !c.via && c.expect !== 'reauthenticates').length;
    assert.ok(CATALOGUE.filter((c) => c.issuer).every((c) => r.junit.includes(`name="${c.id}: `)), 'the test issuers\' tests ran');
    assert.match(r.junit, new RegExp(`<testsuites name="NHS login conformance" tests="${planned}" failures="0"`));
    assert.match(fs.readFileSync(path.join(dir, 'reference', 'report.jws'), 'utf8'), /^[\w-]+\.[\w-]+\.[\w-]+\s*$/);
  });

  test('a broken RP: exit 1, and the JUnit file names the test it fails', async () => {
    const r = await recipe('broken', (port) => `PORT=${port} DEFECTS=skips_nonce_check ${NODE} src/test-support/broken-rp-server.ts`, {
      ONLY: 'login-p9,wrong-nonce', SCOPES: 'openid profile', VTR: 'P9.Cp.Cd',
    });
    assert.equal(r.exit, 1, r.printed);
    assert.match(r.junit, /tests="2" failures="1"/);
    assert.match(r.junit, /<testcase [^>]*name="wrong-nonce: [^"]*"[^>]*><failure message="The service signed the person in despite/);
  });

  test('without a token the recipe stops at once, naming the variable', async () => {
    const r = await recipe('no-token', () => 'true', { TOOLKIT_TOKEN: '' });
    assert.notEqual(r.exit, 0);
    assert.match(r.printed, /TOOLKIT_TOKEN/);
  });
});
