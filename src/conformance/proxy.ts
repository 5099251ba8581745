/**
 * The forward proxy a run's Chromium sends every request through (HTTP/1.1 absolute-form for http, CONNECT
 * tunnels for https and WebSockets). It is the one place that resolves names and opens connections for the
 * browser, and it connects only to an address the run's policy checked (browsing.ts): the route check in the
 * driver gives clear failures, this makes them hold for what no route sees (WebSockets, a name that re-points
 * after the check). Listens on loopback for the run's lifetime.
 */
import http from 'node:http';
import net from 'node:net';
import { isLoopbackAddress } from '../security/outbound.ts';
import type { BrowsingPolicy } from './browsing.ts';

/** Headers for one hop only (RFC 9110 §7.6.1), and those addressed to the proxy. */
const HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
const UPSTREAM_TIMEOUT_MS = 30_000;

export interface GuardProxy {
  /** For Chromium's --proxy-server. */
  url: string;
  close(): Promise<void>;
}

export async function startGuardProxy(policy: Pick<BrowsingPolicy, 'target'>): Promise<GuardProxy> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    if (sockets.has(s)) return; // a kept-alive connection, seen again
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const agent = new http.Agent({ keepAlive: true });
  let ownPort = 0;
  // The proxy itself is refused too: a request for it would come straight back in.
  const target = async (host: string, port: number, url?: URL) => {
    const t = await policy.target(host, port, url);
    if (port === ownPort && isLoopbackAddress(t.address)) throw new Error('it is the run\'s own proxy');
    return t;
  };

  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return res.writeHead(400).end();
    }
    if (url.protocol !== 'http:') return res.writeHead(400).end();
    target(url.hostname, Number(url.port || 80), url).then(({ address, family }) => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP.has(k)));
      const upstream = http.request({
        host: address, family, port: Number(url.port || 80), method: req.method, path: url.pathname + url.search,
        headers: { ...headers, host: url.host }, agent, timeout: UPSTREAM_TIMEOUT_MS,
      }, (up) => {
        const raw: string[] = [];
        for (let i = 0; i < up.rawHeaders.length; i += 2) {
          if (!HOP.has(up.rawHeaders[i]!.toLowerCase())) raw.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
        }
        res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
        up.pipe(res);
      });
      upstream.on('socket', track);
      upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
      upstream.on('error', () => {
        if (res.headersSent) res.destroy();
        else res.writeHead(502, { 'content-type': 'text/plain' }).end('The service could not be reached.');
      });
      req.pipe(upstream);
    }, (err: Error) => {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`A conformance run may not open this page: ${err.message}`);
    });
  });
  server.on('connection', track);
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!m) return socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const port = Number(m[2]);
    target(m[1]!, port).then(({ address }) => {
      const upstream = net.connect({ host: address, port });
      let connected = false;
      track(upstream);
      upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () => upstream.destroy());
      upstream.once('connect', () => {
        connected = true;
        upstream.setTimeout(0);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => undefined); // 'close' follows
      upstream.once('close', () => (connected ? socket.destroy() : socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')));
      socket.on('close', () => upstream.destroy());
    }, () => socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  ownPort = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${ownPort}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}
