/** The run's forward proxy (proxy.ts) connects only where the policy allows, for plain requests and tunnels alike. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { loadConfig } from '../config/index.ts';
import { browsingPolicy } from './browsing.ts';
import { startGuardProxy, type GuardProxy } from './proxy.ts';

let service: http.Server;
let servicePort: number;
let proxy: GuardProxy;
/** Rebinding: the first answer is loopback (allowed on a laptop toolkit), every later one an internal address. */
let rebindAnswers = 0;

before(async () => {
  service = http.createServer((req, res) => res.setHeader('set-cookie', ['a=1', 'b=2']).end(`served ${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  servicePort = (service.address() as net.AddressInfo).port;
  const policy = browsingPolicy({
    config: loadConfig({ PUBLIC_URL: 'http://localhost:3000' }), env: 'sandpit',
    lookup: async (host) => {
      if (host === 'rebind.example') return [{ address: rebindAnswers++ ? '10.9.9.9' : '127.0.0.1', family: 4 }];
      if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    },
  });
  proxy = await startGuardProxy(policy);
});
after(async () => {
  await proxy.close();
  service.close();
});

const viaProxy = (url: string) => new Promise<{ status: number; body: string; cookies: string[] }>((resolve, reject) => {
  const p = new URL(proxy.url);
  http.get({ host: p.hostname, port: p.port, path: url, headers: { host: new URL(url).host } }, (res) => {
    let body = '';
    res.on('data', (c: Buffer) => (body += c.toString()));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []) }));
  }).on('error', reject);
});

const tunnel = (authority: string) => new Promise<string>((resolve, reject) => {
  const p = new URL(proxy.url);
  const s = net.connect(Number(p.port), p.hostname, () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
  s.once('data', (d: Buffer) => {
    resolve(d.toString().split('\r\n')[0]!);
    s.destroy();
  });
  s.on('error', reject);
});

test('an allowed page is fetched and answered as served, headers and all', async () => {
  const r = await viaProxy(`http://localhost:${servicePort}/start?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.body, `served localhost:${servicePort} /start?x=1`);
  assert.deepEqual(r.cookies, ['a=1', 'b=2']);
});

test('refused: the toolkit\'s own pages, internal addresses, the proxy itself; the reason is given', async () => {
  assert.match((await viaProxy('http://localhost:3000/console')).body, /toolkit's own pages/);
  assert.equal((await viaProxy('http://10.0.0.1/')).status, 403);
  assert.equal((await viaProxy(`${proxy.url}/`)).status, 403, 'a request for the proxy itself would come straight back in');
});

test('tunnels (https, WebSockets) are held to the same rule: never the toolkit\'s socket, never an internal address', async () => {
  assert.equal(await tunnel(`localhost:${servicePort}`), 'HTTP/1.1 200 Connection Established');
  assert.equal(await tunnel('localhost:3000'), 'HTTP/1.1 403 Forbidden');
  assert.equal(await tunnel('169.254.169.254:80'), 'HTTP/1.1 403 Forbidden');
  assert.equal(await tunnel('nowhere.example:443'), 'HTTP/1.1 403 Forbidden');
});

test('a name that re-points to an internal address after it was checked still reaches only the address checked', async () => {
  const first = await viaProxy(`http://rebind.example:${servicePort}/one`);
  const second = await viaProxy(`http://rebind.example:${servicePort}/two`);
  assert.deepEqual([first.status, second.status], [200, 200]);
  assert.equal(rebindAnswers, 1, 'resolved once for the run');
});
