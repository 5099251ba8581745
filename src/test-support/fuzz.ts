/**
 * Hostile input for every route: the routes come from Fastify itself (App.routes, its onRoute hook), so a route
 * added later is fuzzed without anyone listing it. Each route's fields come from its schema, from the forms and
 * links of the pages the toolkit serves, and from the OpenAPI document; each field is then duplicated, sent as
 * a list, an object, a number, oversized, in odd unicode, with NUL, or left out, and whole bodies are sent in the
 * wrong content type. Deterministic for a seed.
 */
import type { RouteOptions } from 'fastify';

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Face = 'portal' | 'console' | 'api' | 'journey' | 'protocol' | 'other';

export interface Target {
  method: string;
  /** Fastify's URL pattern (`:param`), or a protocol path the engine answers. */
  url: string;
  face: Face;
  schema?: RouteOptions['schema'];
}

export function faceOf(url: string): Face {
  if (url.startsWith('/portal')) return 'portal';
  if (url.startsWith('/console')) return 'console';
  if (url.startsWith('/api/')) return 'api';
  const protocol = /^\/(sandpit|integration|live)\/(authorize|token|userinfo|\.well-known|v2\/Users|provision-account|gp-system)/;
  if (protocol.test(url)) return 'protocol';
  if (/^\/(sandpit|integration|live)\//.test(url)) return 'journey';
  return 'other';
}

/** The routes worth fuzzing: one per method and URL (HEAD is GET's shadow), static assets left out. */
export function targetsOf(routes: RouteOptions[]): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  for (const r of routes) {
    for (const method of [r.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      if (r.url.startsWith('/nhsuk-frontend')) continue;
      const key = `${method} ${r.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ method, url: r.url, face: faceOf(r.url), schema: r.schema });
    }
  }
  return out;
}

export const paramNames = (url: string) => [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);

export function fill(url: string, values: (name: string) => string | undefined): string | undefined {
  let missing = false;
  const path = url.replace(/:(\w+)/g, (_m, name: string) => {
    const v = values(name);
    if (v === undefined) missing = true;
    return encodeURIComponent(v ?? '');
  });
  return missing ? undefined : path;
}

/** The forms on a page: where each posts, its fields with their first value (checkbox groups: every value). */
export interface ScrapedForm {
  method: string;
  action: string;
  fields: Map<string, string[]>;
  /** The limits the page states: an input's maxlength, a character count's data-maxlength. */
  limits: Map<string, number>;
}

const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1]?.replaceAll('&amp;', '&');

export function scrapeForms(html: string, pagePath: string): ScrapedForm[] {
  const forms: ScrapedForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = new URL(attr(m[1]!, 'action') || pagePath, 'http://x').pathname;
    const fields = new Map<string, string[]>();
    const limits = new Map<string, number>();
    for (const c of m[2]!.matchAll(/data-maxlength="(\d+)"[\s\S]*?<textarea\b[^>]*\bname="([^"]+)"/gi)) limits.set(c[2]!, Number(c[1]));
    for (const t of m[2]!.matchAll(/<(input|select|textarea|button)\b([^>]*)>/gi)) {
      const name = attr(t[2]!, 'name');
      if (!name) continue;
      const maxlength = attr(t[2]!, 'maxlength');
      if (maxlength) limits.set(name, Number(maxlength));
      const type = attr(t[2]!, 'type') ?? '';
      const firstOption = () => /<option[^>]*value="([^"]*)"/.exec(m[2]!.slice(t.index))?.[1] ?? '';
      const value = attr(t[2]!, 'value') ?? (t[1]!.toLowerCase() === 'select' ? firstOption() : '');
      const prev = fields.get(name);
      if (!prev) fields.set(name, [value]);
      else if (type === 'checkbox') prev.push(value);
    }
    forms.push({ method: (attr(m[1]!, 'method') ?? 'get').toUpperCase(), action, fields, limits });
  }
  return forms;
}

/** Query keys of the links on a page, by the path they lead to. */
export function scrapeLinkQueries(html: string, pagePath: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of html.matchAll(/href="([^"#]*\?[^"#]*)"/gi)) {
    const u = new URL(m[1]!.replaceAll('&amp;', '&'), `http://x${pagePath}`);
    const keys = out.get(u.pathname) ?? new Set<string>();
    for (const k of u.searchParams.keys()) keys.add(k);
    out.set(u.pathname, keys);
  }
  return out;
}

type Declared = { type: string; maxLength?: number | undefined };
/** The fields a route's schema declares for one part (body or querystring), with each one's JSON type and length limit. */
export function schemaFields(schema: RouteOptions['schema'], part: 'body' | 'querystring'): Map<string, Declared> {
  const s = bodyOf(schema, part);
  const out = new Map<string, Declared>();
  for (const [name, p] of Object.entries(s?.properties ?? {})) {
    out.set(name, { type: String([p.type].flat()[0] ?? 'string'), maxLength: p.maxLength });
  }
  return out;
}

type Props = { properties?: Record<string, { type?: unknown; maxLength?: number }> };
/** A route's schema for one part; for a body declared per content type, its urlencoded form's. */
export function bodyOf(schema: RouteOptions['schema'], part: 'body' | 'querystring'): Props | undefined {
  const s = (schema as Record<string, (Props & { content?: Record<string, { schema: Props }> }) | undefined> | undefined)?.[part];
  return s?.content?.['application/x-www-form-urlencoded']?.schema ?? s;
}

/**
 * The mutations a field of this type must be refused for (the value is not of its type, or breaks its limits). A long
 * value within a string's stated limit (a document's content, 15 MB) is not a wrong shape.
 */
export function refusedFor(type: string | undefined, m: Mutation, maxLength?: number): boolean {
  if (type === 'string' && m === 'long' && maxLength !== undefined && maxLength >= LONG.length) return false;
  if (type === 'string') return ['duplicate', 'long', 'nul', 'array', 'object', 'number', 'boolean'].includes(m);
  if (type === 'array') return ['object', 'number', 'boolean', 'long', 'nul'].includes(m);
  if (type === 'boolean' || type === 'integer') return ['array', 'object', 'long', 'unicode', 'nul'].includes(m);
  return false;
}

export type Mutation =
  | 'duplicate' | 'long' | 'oversized' | 'unicode' | 'nul' | 'missing' | 'empty' | 'array' | 'object' | 'number' | 'boolean' | 'null';
export const FORM_MUTATIONS: Mutation[] = ['duplicate', 'long', 'oversized', 'unicode', 'nul', 'missing', 'empty'];
export const JSON_MUTATIONS: Mutation[] = ['array', 'object', 'number', 'boolean', 'null', 'long', 'unicode', 'nul', 'missing'];
/** Past every field's stated limit, but under the 64 KB form limit: refused field by field. */
export const LONG = 'x'.repeat(20_000);
/** Past the 64 KB form limit: the body itself is refused. */
export const OVERSIZED = 'y'.repeat(70_000);
export const UNICODE = ['Zoë Åström 🏥 e\u0301', '\u202eevil\u202c', '\u{1F469}\u200d\u{1F52C}', '\uFEFF\u00A0', 'עברית العربية', '\uD800'];
export const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

/** One field's value under a form mutation: the pairs it contributes (none when missing). */
export function formPairs(name: string, value: string, m: Mutation, random: () => number): [string, string][] {
  switch (m) {
    case 'duplicate': return [[name, value || 'a'], [name, 'b']];
    case 'long': return [[name, LONG]];
    case 'oversized': return [[name, OVERSIZED]];
    case 'unicode': return [[name, UNICODE[Math.floor(random() * UNICODE.length)]!]];
    case 'nul': return [[name, `a\u0000b`]];
    case 'missing': return [];
    case 'empty': return [[name, '']];
    default: return [[name, value]];
  }
}

export function jsonValue(value: unknown, m: Mutation, random: () => number): unknown {
  switch (m) {
    case 'array': return [value ?? 'a', 'b'];
    case 'object': return { value, __proto__x: 1, nested: { deep: [1, { a: 'b' }] } };
    case 'number': return 12345;
    case 'boolean': return true;
    case 'null': return null;
    case 'long': return LONG;
    case 'unicode': return UNICODE[Math.floor(random() * UNICODE.length)]!;
    case 'nul': return 'a\u0000b';
    default: return value;
  }
}

/** Whole-body variants: the wrong content type, broken JSON, JSON that is not an object, a broken multipart. */
export const BODY_VARIANTS: { label: string; type: string; body: string }[] = [
  { label: 'json array', type: 'application/json', body: '[["a","b"],["c"]]' },
  { label: 'json string', type: 'application/json', body: '"hello"' },
  { label: 'json null', type: 'application/json', body: 'null' },
  { label: 'json number', type: 'application/json', body: '12' },
  { label: 'broken json', type: 'application/json', body: '{"a": [' },
  { label: 'proto json', type: 'application/json', body: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"x":1}}}' },
  { label: 'text/plain', type: 'text/plain', body: 'email=a@example.org' },
  { label: 'xml', type: 'application/xml', body: '<a>b</a>' },
  { label: 'cut multipart', type: 'multipart/form-data; boundary=zzz', body: '--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\n' },
  { label: 'multipart without boundary', type: 'multipart/form-data', body: 'a=b' },
  { label: 'form in utf-16', type: 'application/x-www-form-urlencoded; charset=utf-16', body: 'a=b' },
  { label: 'bad percent', type: 'application/x-www-form-urlencoded', body: 'a=%E0%A4%A&b=%&c=%00&%zz=1' },
  { label: 'proto form', type: 'application/x-www-form-urlencoded', body: '__proto__=x&constructor=y&toString=z&hasOwnProperty=w' },
];

/** Path parameter values that have broken lookups before: NUL, an own-key trap, oversized, broken encoding. */
export const PARAM_VALUES = ['\u0000', 'constructor', '__proto__', 'toString', 'z'.repeat(3000), 'Zoë🏥', '..', ' '];

/** Percent-encodes, sending a lone surrogate as the invalid UTF-8 a broken client would send (encodeURIComponent throws). */
function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s].map((c) => (c.length === 1 && /[\uD800-\uDFFF]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}
export const encodePairs = (pairs: [string, string][]) => pairs.map(([k, v]) => `${safeEncode(k)}=${safeEncode(v)}`).join('&');
