/**
 * Fetches a partner-supplied URL (a JWKS URL) without letting the partner aim the toolkit at its own network
 * (server-side request forgery): the connection is made only to public addresses — the address actually
 * connected to is checked, so a name that resolves to a private address, or is re-pointed after a check
 * (DNS rebinding), is refused. The body is capped and the wait is bounded. oidc-provider applies the same
 * rule to its own fetches of `jwks_uri` at token time, so what registers here also works there.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 5000;

const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(prefix, bits, 'ipv6');

/** True for addresses on the public internet; false for loopback, private, link-local, documentation, etc. */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]!);
    return !BLOCKED.check(address, 'ipv6');
  }
  return !BLOCKED.check(address, 'ipv4');
}

/** True for 127.0.0.0/8 and ::1 (also written as an IPv4-mapped address): this machine, whatever it runs. */
export function isLoopbackAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isLoopbackAddress(mapped[1]!);
  if (net.isIPv4(address)) return address.startsWith('127.');
  return net.isIPv6(address) && new net.SocketAddress({ address, family: 'ipv6' }).address === '::1';
}

/** Every address a name resolves to (the system resolver; tests give their own names). */
export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;
export const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Why the toolkit may not connect to `address` for a partner (undefined when it may): the rule of this module,
 * public addresses only, with loopback as the one exception an operator may allow (a toolkit on a laptop, whose
 * partner's service runs beside it).
 */
export function addressRefusal(address: string, o: { allowLoopback: boolean }): string | undefined {
  if (isLoopbackAddress(address)) {
    return o.allowLoopback ? undefined : `${address} is the toolkit's own machine (loopback), which it does not reach for partners`;
  }
  if (isPublicAddress(address)) return undefined;
  return `${address} is not a public internet address (private, link-local and reserved networks are refused)`;
}

export class OutboundError extends Error {
  override name = 'OutboundError';
}

const NOT_PUBLIC =
  'it is not a public internet address (localhost and private networks are refused: NHS login fetches it from the internet)';

/** net/tls `lookup` that hands out public addresses only. */
function publicLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void,
) {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const usable = addresses.filter((a) => isPublicAddress(a.address));
    if (!usable.length)
      return callback(new OutboundError(`${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}: ${NOT_PUBLIC}`), '');
    if (options.all) return callback(null, usable);
    callback(null, usable[0]!.address, usable[0]!.family);
  });
}

/** GETs `url` and parses JSON, refusing non-public addresses, redirects, large bodies and slow servers. */
export function fetchPublicJson(url: string): Promise<unknown> {
  return fetchJson(url, { publicOnly: true, timeoutMs: TIMEOUT_MS });
}

/** fetchPublicJson's work; tests reach a local server through it with `publicOnly: false`. */
export function fetchJson(url: string, o: { publicOnly: boolean; timeoutMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new OutboundError('it is not a valid URL'));
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return reject(new OutboundError('it is not an http or https URL'));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (o.publicOnly && net.isIP(host) && !isPublicAddress(host)) return reject(new OutboundError(`${host}: ${NOT_PUBLIC}`));
    const get = u.protocol === 'https:' ? https.get : http.get;
    let deadline: NodeJS.Timeout | undefined;
    const settle = <T>(f: (x: T) => void) => (x: T) => {
      clearTimeout(deadline);
      f(x);
    };
    resolve = settle(resolve);
    reject = settle(reject);
    const req = get(
      u,
      {
        ...(o.publicOnly ? { lookup: publicLookup as never } : {}),
        timeout: o.timeoutMs,
        headers: { accept: 'application/json', 'user-agent': 'nhs-login-integration-toolkit' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(
            new OutboundError(
              res.statusCode && res.statusCode >= 300 && res.statusCode < 400
                ? `it answered with a redirect (HTTP ${res.statusCode}); give the final URL`
                : `it answered HTTP ${res.statusCode}`,
            ),
          );
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BYTES) {
            req.destroy(new OutboundError(`the response is larger than ${MAX_BYTES / 1024} KB`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new OutboundError('the response is not JSON'));
          }
        });
        res.on('error', reject);
      },
    );
    // `timeout` above only fires when the socket is idle; this bounds the whole exchange, so a server that
    // trickles a byte every few seconds cannot hold the request (and the partner's registration) open.
    deadline = setTimeout(() => req.destroy(new OutboundError(`no complete answer within ${o.timeoutMs / 1000} seconds`)), o.timeoutMs);
    req.on('timeout', () => req.destroy(new OutboundError(`no answer within ${o.timeoutMs / 1000} seconds`)));
    req.on('error', (e) =>
      reject(
        e instanceof OutboundError ? e : new OutboundError(`it could not be reached (${(e as NodeJS.ErrnoException).code ?? e.message})`),
      ),
    );
  });
}
