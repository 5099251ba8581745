/**
 * Where a conformance run's browser may go. A partner chooses the start URL and everything its service then
 * sends the browser to, and the browser runs on the toolkit's machine: without a rule it would load the
 * toolkit's own console, /metrics or an internal service and hand the partner a screenshot of it
 * (server-side request forgery). The rule is the one the JWKS fetch has (security/outbound.ts: public
 * addresses only, after resolving the name), with loopback allowed where the operator says so (a toolkit on a
 * laptop), and on the toolkit itself only the run's environment's sign-in pages and their assets.
 *
 * Three places hold the rule. The driver's route check (driver.ts) aborts a refused request before it leaves,
 * with the page named in the verdict. The proxy every connection of the browser goes through (proxy.ts) holds
 * it for what no route sees: HTTP redirects (Playwright routes none) and WebSockets. Inside https the proxy sees
 * no path, so the toolkit refuses a run's browser, known by its user agent, everything but the journeys
 * (refusedToRunBrowser, web/app.ts): a redirect to its own https name ends there.
 *
 * Each name is resolved once per run and the answer is pinned: the route check and the proxy use the same
 * addresses, and Chromium, which sends every request through the proxy, resolves nothing itself. A name that
 * re-points after the check (DNS rebinding) still reaches only the address that was checked.
 */
import net from 'node:net';
import os from 'node:os';
import type { Config } from '../config/index.ts';
import { addressRefusal, isLoopbackAddress, OutboundError, systemLookup, type Lookup } from '../security/outbound.ts';

/**
 * The paths the environments serve under an issuer (identity/http.ts: the protocol; identity/journeys: the pages;
 * identity/nhs-app: the stand-in NHS App, where the NHS App tests start).
 */
const ENVIRONMENT_PATH = /^\/(?:(?:authorize|token|userinfo|settings)(?:\/|$)|(?:\.well-known|interaction|trustmark|nhs-app)\/)/;
/** The design system's files the journey pages load (web/views.ts ASSET_PREFIX and INIT_SCRIPT_PATH). */
export const ASSET_PATH = /^\/nhsuk-frontend(?:\/|-init\.js$)/;
/** Ends the user agent of a run's browser (driver.ts), so that the toolkit can tell it apart (refusedToRunBrowser). */
export const RUN_BROWSER_MARK = 'NHSLoginToolkitConformance/1';

/** Whether `pathname` is one of the protocol or journey paths of the environment mounted at `mountPath`. */
const environmentPath = (mountPath: string, pathname: string) =>
  (mountPath === '' || pathname.startsWith(`${mountPath}/`)) && ENVIRONMENT_PATH.test(pathname.slice(mountPath.length));

/**
 * Whether the toolkit refuses a request: one from a run's browser for anything but an environment's protocol
 * and journey pages and their assets. The browser's own checks see no HTTP redirect (Playwright routes none),
 * and its proxy sees no path inside https, so a service that redirects the browser to the toolkit's own https
 * name is refused here, by the toolkit (web/app.ts). The mark is no credential: sending it only has pages refused.
 */
export function refusedToRunBrowser(config: Config, userAgent: string | undefined, url: string): boolean {
  if (!userAgent?.endsWith(RUN_BROWSER_MARK)) return false;
  const pathname = url.split('?')[0]!;
  return !ASSET_PATH.test(pathname) && !config.environments.some((e) => environmentPath(e.mountPath, pathname));
}

export interface BrowsingPolicy {
  /** Why the run's browser may not open `url` (undefined when it may). */
  refusal(url: string): Promise<string | undefined>;
  /**
   * The checked address the proxy connects to for `host:port`; the URL is known for plain http, not for a
   * tunnel (https), which may then never reach the toolkit's own socket. Throws OutboundError with the reason.
   */
  target(host: string, port: number, url?: URL): Promise<{ address: string; family: number }>;
}

export interface BrowsingOptions {
  config: Config;
  /** The run's environment: its issuer's pages are the only ones of the toolkit the browser may open. */
  env: string;
  lookup?: Lookup | undefined;
}

const TOOLKIT = 'it is one of the toolkit\'s own pages (a conformance run may open only the environment\'s sign-in pages here)';
const SERVICE = 'it is a service of the toolkit\'s own (its mail server or database)';
const DEFAULT_PORTS: Record<string, number> = { 'smtp:': 587, 'smtps:': 465, 'postgres:': 5432, 'postgresql:': 5432 };

/** host[:port] without brackets or a trailing dot, the way a name is compared. */
const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
const portOf = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));

/** This machine's addresses: a connection to one of them at the toolkit's port is the toolkit, whatever the name. */
function localAddresses(): Set<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
}

export function browsingPolicy(o: BrowsingOptions): BrowsingPolicy {
  const { config } = o;
  const lookup = o.lookup ?? systemLookup;
  const mountPath = config.environments.find((e) => e.name === o.env)?.mountPath ?? '';
  // The toolkit by name: PUBLIC_URL and every issuer (a host-routed issuer's host serves the console too). The
  // operator's own names: what they resolve to is not the partner's choice, and may well be this machine (a
  // reverse proxy beside the toolkit) or a private network.
  const named = [config.publicUrl, ...config.environments.map((e) => e.issuer)].map((u) => new URL(u))
    .map((u) => ({ protocol: u.protocol, host: bare(u.hostname), port: portOf(u) }));
  const isNamed = (protocol: string, host: string, port: number) =>
    named.some((n) => n.protocol === protocol && n.host === host && n.port === port);
  // Services only the toolkit talks to, by address: its mail server and its database.
  const services = [config.smtpUrl, config.database.kind === 'postgres' ? config.database.url : undefined]
    .filter((u): u is string => !!u).map((u) => new URL(u))
    .map((u) => ({ host: bare(u.hostname), port: Number(u.port || DEFAULT_PORTS[u.protocol] || 0) }));
  const pinned = new Map<string, Promise<{ address: string; family: number }[]>>();

  /** Every address of `host`, resolved once for the run (a literal address is its own answer). */
  const resolve = (host: string) => {
    let answer = pinned.get(host);
    if (!answer) {
      const family = net.isIP(host);
      answer = family ? Promise.resolve([{ address: host, family }]) : lookup(host);
      pinned.set(host, answer);
      answer.catch(() => pinned.delete(host)); // a failed lookup may be tried again; only answers are pinned
    }
    return answer;
  };
  const serviceAddresses = Promise.all(services.map(async (s) => ({
    port: s.port,
    addresses: (await resolve(s.host).catch(() => [])).map((a) => a.address),
  })));

  const toolkitPath = (pathname: string) => ASSET_PATH.test(pathname) || environmentPath(mountPath, pathname);

  /** Why `address:port` is refused; `pathOk` says whether the request is for an environment page (unknown in a tunnel). */
  async function addressReason(address: string, port: number, pathOk: boolean): Promise<string | undefined> {
    const local = isLoopbackAddress(address) || localAddresses().has(address);
    if (local && port === config.port) return pathOk ? undefined : TOOLKIT;
    // The toolkit's other listener (/metrics), whatever host it is bound to.
    if (local && port === config.metrics.port) return TOOLKIT;
    if ((await serviceAddresses).some((s) => s.port === port && s.addresses.includes(address))) return SERVICE;
    if (local && !isLoopbackAddress(address)) return `${address} is an address of the toolkit's own machine`;
    return addressRefusal(address, { allowLoopback: config.conformanceAllowLoopback });
  }

  /** The addresses of `host` a connection may use, and why the others are refused. */
  async function checked(host: string, port: number, pathOk: boolean) {
    const addresses = await resolve(host);
    const reasons = await Promise.all(addresses.map((a) => addressReason(a.address, port, pathOk)));
    // The toolkit's own socket among the answers decides, whichever address a connection would pick.
    const own = reasons.find((r) => r === TOOLKIT);
    const usable = own ? [] : addresses.filter((_a, i) => reasons[i] === undefined);
    return { usable, reason: own ?? reasons.find((r) => r !== undefined) ?? `${host} has no address` };
  }

  const policy: BrowsingPolicy = {
    async refusal(raw) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return 'it is not a valid URL';
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'only http and https pages can be opened';
      const host = bare(u.hostname);
      const pathOk = toolkitPath(u.pathname);
      if (isNamed(u.protocol, host, portOf(u))) return pathOk ? undefined : TOOLKIT;
      try {
        const { usable, reason } = await checked(host, portOf(u), pathOk);
        return usable.length ? undefined : `${u.host}: ${reason}`;
      } catch {
        return undefined; // a name that does not resolve is no danger: the proxy cannot connect to it either
      }
    },
    async target(rawHost, port, url) {
      const host = bare(rawHost);
      if (url) {
        const why = await policy.refusal(url.href);
        if (why) throw new OutboundError(why);
      }
      let result: Awaited<ReturnType<typeof checked>>;
      try {
        // A tunnel (https) to the toolkit's own name: which page it carries is checked by name (driver.ts) and,
        // for a redirect, which no route sees, by the toolkit itself (refusedToRunBrowser).
        if (isNamed(url?.protocol ?? 'https:', host, port)) return (await resolve(host))[0]!;
        result = await checked(host, port, url ? toolkitPath(url.pathname) : false);
      } catch (e) {
        throw new OutboundError(`${host} could not be resolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (!result.usable.length) throw new OutboundError(result.reason);
      return result.usable[0]!;
    },
  };
  return policy;
}
