import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJson, fetchPublicJson } from './outbound.ts';

test('a server that answers a byte at a time, never idle for long, is cut off at the deadline', { timeout: 10_000 }, async () => {
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const t = setInterval(() => res.write(' '), 100); // never idle for the socket timeout
    timers.add(t);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const started = Date.now();
    await assert.rejects(fetchJson(url, { publicOnly: false, timeoutMs: 600 }), /no complete answer within 0.6 seconds/);
    assert.ok(Date.now() - started < 5000, 'ended by the deadline, not by the trickle');
    await assert.rejects(fetchPublicJson(url), /not a public internet address/, 'and the real function refuses this address outright');
  } finally {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    server.close();
  }
});

test('only http and https URLs are fetched', async () => {
  await assert.rejects(fetchJson('ftp://keys.example/jwks.json', { publicOnly: false, timeoutMs: 100 }), /not an http or https URL/);
  await new Promise((r) => setTimeout(r, 150)); // nothing left running fires (a timer set for a request never made would throw here)
});

test('a prompt JSON answer is returned', async () => {
  const server = http.createServer((_req, res) => res.end('{"keys":[]}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    assert.deepEqual(
      await fetchJson(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { publicOnly: false, timeoutMs: 2000 }),
      { keys: [] },
    );
  } finally {
    server.close();
  }
});
