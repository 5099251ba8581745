/**
 * The client page's snippets work as shown: the TypeScript module, written to a file next to a private.pem
 * and run by Node, completes a P9 login against the sandpit; the shell snippet quotes hostile values safely.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerClient } from '../identity/index.ts';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { connectionSnippets } from './snippets.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
let app: TestApp & { origin: string };
before(async () => {
  app = await startListeningApp('sqlite');
});
after(() => app.stop());

test('the TypeScript snippet, run as shown, completes a P9 login and checks vot (P9 for a service that also takes P5)', async () => {
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const client = await registerClient(app.database.db, {
    env: 'sandpit',
    name: 'Snippet service',
    redirectUris: ['https://svc.example.org/callback'],
    scopes: ['openid', 'profile'],
    vtr: ['P9.Cp.Cd', 'P5.Cp.Cd'],
    publicKeyPem: keys.publicKey,
  });
  const { typescript } = connectionSnippets(`${app.origin}/sandpit`, client);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-ts-'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  fs.writeFileSync(path.join(dir, 'private.pem'), keys.privateKey);
  fs.writeFileSync(path.join(dir, 'login.ts'), typescript);
  // A driver plays the user's browser between the snippet's two functions.
  fs.writeFileSync(path.join(dir, 'drive.ts'), `
    import { startLogin, finishLogin } from './login.ts';
    import { Browser } from ${JSON.stringify(path.join(ROOT, 'src/test-support/browser.ts'))};
    const { url, state, nonce } = startLogin();
    const b = new Browser(fetch, ${JSON.stringify(app.origin)});
    let page = await b.get(url.href);
    page = await b.post(page.url, { email: 'testuserlive@demo.signin.nhs.uk', password: 'Passw0rd$1' });
    page = await b.post(page.url, { otp: '190696' });
    page = await b.post(page.url, {});
    const { claims, userinfo } = await finishLogin(new URL(page.url), { state, nonce });
    console.log(JSON.stringify({ vot: claims.vot, nhs_number: userinfo.nhs_number }));
  `);
  // Asynchronously: the toolkit answering the snippet runs in this process.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['drive.ts'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)!), { vot: 'P9.Cp.Cd', nhs_number: '9686368973' });
});

test("the TypeScript snippet sends the vectors lowest level first, as the Federation spec's Example 3 does", () => {
  const client = {
    clientId: 'abc',
    redirectUris: ['https://svc.example.org/cb'],
    scopes: ['openid'],
    vtr: ['P9.Cm', 'P9.Cp.Cd', 'P5.Cp.Cd'],
  } as never;
  const { typescript } = connectionSnippets('https://auth.example.org', client);
  assert.match(typescript, /^const vtr = "\[\\"P5\.Cp\.Cd\\",\\"P9\.Cp\.Cd\\",\\"P9\.Cm\\"\]";$/m);
});

test('the shell snippet quotes what it interpolates', () => {
  const client = { clientId: 'abc', redirectUris: ["https://svc.example.org/o'neill/cb"], scopes: ['openid'], vtr: ['P9.Cp.Cd'] } as never;
  const { shell } = connectionSnippets('https://auth.example.org', client);
  const line = shell.split('\n').find((l) => l.includes('redirect_uri='))!;
  const printed = execFileSync('bash', ['-c', `printf '%s' ${line.split('redirect_uri=')[1]!.replace(/\s*\\$/, '')}`], {
    encoding: 'utf8',
  });
  assert.equal(printed, "https://svc.example.org/o'neill/cb");
});
