/**
 * Configuration: read once from the process environment at start-up, validated, then passed down.
 * No other module reads `process.env` (see docs in README "Configuration").
 */
import path from 'node:path';
import { ToolkitError } from '../errors.ts';
import { CAPABILITIES, ENVIRONMENT_NAMES, type Capabilities, type EnvironmentName } from './capabilities.ts';

export {
  CAPABILITIES, capabilitiesOf, ENVIRONMENT_NAMES, isEnvironmentName, type Capabilities, type EnvironmentName,
} from './capabilities.ts';

export interface EnvironmentConfig {
  name: EnvironmentName;
  /** What this environment allows (capabilities.ts): the code asks these, never the name. */
  capabilities: Readonly<Capabilities>;
  /** Issuer URL, no trailing slash (NHS login issuers have none). */
  issuer: string;
  /** Path prefix the issuer is mounted on ('' when routed by host at the root). */
  mountPath: string;
  /** Host (with port) the issuer is reached on. */
  host: string;
  /** True when this issuer has its own host, different from PUBLIC_URL's. */
  hostRouted: boolean;
}

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  database: DatabaseConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  environments: EnvironmentConfig[];
  /** SMTP server for outgoing mail; without one, mail waits in the database outbox. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Which proxies to believe about the client address (X-Forwarded-For): Fastify's `trustProxy`. */
  trustProxy: boolean | string[];
  /** The Chromium the conformance suite drives (Debian's by default; never a downloaded browser). */
  chromiumPath: string;
  /** A Slack-compatible webhook for the team's notifications (optional). */
  chatWebhookUrl: string | undefined;
  /**
   * Prometheus `/metrics`, never open on the public port: its own listener when `port` is set, and on the public
   * port only for a request bearing `token`.
   */
  metrics: { port: number | undefined; host: string; token: string | undefined };
  /** Whether a conformance run's browser may open services on this machine's loopback (a toolkit on a laptop). */
  conformanceAllowLoopback: boolean;
  /**
   * Whether the portal serves the local mailbox (/portal/dev/mail, every queued message with its links): only with no
   * SMTP_URL on a toolkit reached on loopback. A hosted toolkit must never show one person's links to another.
   */
  localMailbox: boolean;
}

export class ConfigError extends ToolkitError<'invalid_config'> {
  override name = 'ConfigError';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('invalid_config', `${variable}: ${message}`, variable);
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

function parsePort(variable: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(variable, `must be a whole number from 0 to 65535, got "${raw}"`);
  return Number(raw);
}

/** METRICS_PORT, METRICS_HOST, METRICS_TOKEN (README "Configuration"). */
function parseMetrics(env: Env, port: number): Config['metrics'] {
  const metricsPort = parsePort('METRICS_PORT', env.METRICS_PORT);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${port}): /metrics has a listener of its own`);
  }
  const token = env.METRICS_TOKEN || undefined;
  // A bearer token on the public port: long enough that it cannot be guessed, and sendable in a header as it is.
  if (token !== undefined && !/^[\x21-\x7e]{32,}$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 32 characters without spaces, e.g. the output of openssl rand -hex 32');
  }
  return { port: metricsPort, host: env.METRICS_HOST || '127.0.0.1', token };
}

function parseUrl(variable: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `must use http or https, got "${url.protocol}"`);
  }
  if (url.search || url.hash) throw new ConfigError(variable, 'must not have a query string or fragment');
  return url;
}

function stripSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

function parseDatabase(raw: string | undefined, cwd: string): DatabaseConfig {
  if (raw === undefined || raw === '') return { kind: 'sqlite', file: path.resolve(cwd, 'data', 'toolkit.db') };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  const m = /^(?:sqlite|file):(.+)$/.exec(raw);
  if (m?.[1]) return { kind: 'sqlite', file: m[1] === ':memory:' ? ':memory:' : path.resolve(cwd, m[1]) };
  throw new ConfigError('DATABASE_URL', `must start with postgres://, postgresql://, sqlite: or file:, got "${raw.split(':')[0]}:..."`);
}

/**
 * TRUST_PROXY: unset or "false" (use the socket address), "true" (any proxy), or a comma list of proxy
 * addresses/CIDRs. Rate limits per address depend on it: behind a proxy without it, every visitor shares the
 * proxy's address. A hop count is refused: Fastify 5 treats one as "trust nothing" (a hop count cannot check that
 * a request came through the proxy), which would silently make every per-address limit one limit for everybody.
 */
function parseTrustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    throw new ConfigError(
      'TRUST_PROXY',
      `a hop count (${raw}) cannot check that requests come through your ` +
        `proxy: give the proxy's addresses or CIDRs instead, like 10.0.0.0/8`,
    );
  }
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((a) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a));
  if (bad !== undefined || !list.length)
    throw new ConfigError('TRUST_PROXY', `must be true, false or a comma list of IP addresses/CIDRs, got "${bad ?? raw}"`);
  return list;
}

/** A URL on this machine's loopback: localhost, 127.0.0.0/8 or [::1] (the URL parser has normalised the host). */
function onLoopback(url: URL): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
}

/**
 * CONFORMANCE_ALLOW_LOOPBACK: whether a run's browser may open http://localhost services (the partner's relying
 * party on the same laptop as the toolkit). By default only when the toolkit itself is reached on loopback: a
 * hosted toolkit's loopback is its own machine, never a partner's service.
 */
function parseAllowLoopback(raw: string | undefined, publicUrl: URL): boolean {
  if (raw === undefined || raw === '') return onLoopback(publicUrl);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigError('CONFORMANCE_ALLOW_LOOPBACK', `must be true or false, got "${raw}"`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const port = parsePort('PORT', env.PORT) ?? 3000;
  const host = env.HOST || '127.0.0.1';
  const publicUrl = parseUrl('PUBLIC_URL', env.PUBLIC_URL || `http://localhost:${port}`);
  if (publicUrl.pathname !== '/' && publicUrl.pathname !== '') {
    throw new ConfigError('PUBLIC_URL', 'must be an origin without a path, e.g. https://toolkit.example.org');
  }
  const base = stripSlash(publicUrl.href);
  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }

  const environments = ENVIRONMENT_NAMES.map((name): EnvironmentConfig => {
    const variable = `${name.toUpperCase()}_ISSUER`;
    const raw = env[variable];
    const issuerUrl = parseUrl(variable, raw || `${base}/${name}`);
    const issuer = stripSlash(issuerUrl.href);
    const mountPath = stripSlash(issuerUrl.pathname);
    const hostRouted = issuerUrl.host !== publicUrl.host;
    return { name, capabilities: CAPABILITIES[name], issuer, mountPath, host: issuerUrl.host, hostRouted };
  });
  const seen = new Set<string>();
  for (const e of environments) {
    const key = `${e.host}${e.mountPath}`;
    if (seen.has(key)) throw new ConfigError(`${e.name.toUpperCase()}_ISSUER`, `collides with another environment's issuer (${e.issuer})`);
    seen.add(key);
    if (!e.hostRouted && e.mountPath === '') {
      throw new ConfigError(`${e.name.toUpperCase()}_ISSUER`, 'on the PUBLIC_URL host an issuer needs a path such as /sandpit');
    }
  }

  let smtpUrl: string | undefined;
  if (env.SMTP_URL) {
    if (!/^smtps?:\/\//.test(env.SMTP_URL))
      throw new ConfigError('SMTP_URL', 'must start with smtp:// or smtps://, e.g. smtp://user:pass@mail.example.org:587');
    smtpUrl = env.SMTP_URL;
  }
  const mailFrom = env.MAIL_FROM || `NHS login integration toolkit <no-reply@${publicUrl.hostname}>`;

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const chromiumPath = env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!path.isAbsolute(chromiumPath))
    throw new ConfigError('CHROMIUM_PATH', `must be an absolute path to a Chromium binary, got "${chromiumPath}"`);
  const chatWebhookUrl = env.CHAT_WEBHOOK_URL ? parseUrl('CHAT_WEBHOOK_URL', env.CHAT_WEBHOOK_URL).href : undefined;
  const metrics = parseMetrics(env, port);
  const conformanceAllowLoopback = parseAllowLoopback(env.CONFORMANCE_ALLOW_LOOPBACK, publicUrl);
  const database = parseDatabase(env.DATABASE_URL, cwd);
  const localMailbox = smtpUrl === undefined && onLoopback(publicUrl);
  return {
    port, host, publicUrl: base, database, logLevel, environments, smtpUrl, mailFrom, trustProxy, chromiumPath, chatWebhookUrl, metrics,
    conformanceAllowLoopback, localMailbox,
  };
}
