/** The CLI as a client of a running toolkit's API (--url, TOOLKIT_TOKEN): a partner's clients, from another machine. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { createApiToken, createOrganisation } from '../onboarding/index.ts';
import { main } from './main.ts';

describe('CLI clients through the API (sqlite)', () => {
  let app: TestApp & { origin: string };
  let dir: string;
  let env: Record<string, string>;
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  };
  before(async () => {
    app = await startListeningApp('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-remote-'));
    const org = await createOrganisation(app.database.db, 'remote-owner', { name: 'Remote Ltd' });
    // No DATABASE_URL: only the toolkit's address and the organisation's token.
    env = { TOOLKIT_URL: app.origin, TOOLKIT_TOKEN: (await createApiToken(app.database.db, org.id, 'remote-owner', 'ci')).token };
    await main(['keys', 'generate', '--out', dir], capture().io, {});
  });
  after(async () => {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('clients create registers a sandpit client for the token\'s organisation and prints its client_id alone', async () => {
    const c = capture();
    const args = ['clients', 'create', '--name', 'From CI', '--redirect-uri', 'http://localhost:8080/callback'];
    assert.equal(await main([...args, '--public-key', path.join(dir, 'public.pem')], c.io, env), 0, c.err.join('\n'));
    assert.match(c.out[0]!, /^[\w-]{10,}$/);
    const listed = capture();
    assert.equal(await main(['clients', 'list'], listed.io, env), 0);
    assert.match(listed.out.join('\n'), new RegExp(`sandpit +${c.out[0]}  From CI  \\[P9\\.Cp\\.Cd\\]`));
    const shown = capture();
    assert.equal(await main(['clients', 'show', c.out[0]!, '--json'], shown.io, env), 0);
    assert.equal(JSON.parse(shown.out[0]!).discovery, `${app.origin}/sandpit/.well-known/openid-configuration`);
  });

  test('a registration the toolkit refuses is its error code\'s line and exit status', async () => {
    const c = capture();
    const args = ['clients', 'create', '--name', 'Bad', '--redirect-uri', 'not a url', '--public-key', path.join(dir, 'public.pem')];
    assert.equal(await main([...args, '--json'], c.io, env), 1);
    assert.equal(JSON.parse(c.err[0]!).error, 'invalid_redirect_uri');
  });

  test("another organisation's client is not found; the operator's commands refuse --url", async () => {
    const c = capture();
    assert.equal(await main(['clients', 'show', 'someone-elses'], c.io, env), 1);
    assert.match(c.err[0]!, /^Error: There is no such client in your organisation$/);
    assert.equal(await main(['clients', 'sso', 'x', '--env', 'sandpit', '--url', app.origin], c.io, {}), 2);
    assert.match(c.err.at(-1)!, /"clients sso" runs on the toolkit's own machine/);
  });
});
