/**
 * A cookie-keeping, redirect-following HTTP client for in-process journey tests (the real-browser tests use
 * Chromium; this one exercises the same pages without JavaScript, as a no-JS user would).
 */
export interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Page {
  url: string;
  status: number;
  text: string;
}

export class Browser {
  readonly #fetch: typeof fetch;
  readonly #origin: string;
  #cookies: Cookie[] = [];
  /** Sent with every request, as Playwright's extraHTTPHeaders are (e.g. X-Toolkit-Test-User). */
  extraHeaders: Record<string, string> = {};
  constructor(fetchImpl: typeof fetch, origin: string) {
    this.#fetch = fetchImpl;
    this.#origin = origin;
  }

  #store(setCookies: string[]) {
    for (const sc of setCookies) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const attr = Object.fromEntries(
        attrs.map((a) => {
          const i = a.indexOf('=');
          return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
        }),
      );
      const cpath = attr.path || '/';
      this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.path === cpath));
      const expired = attr['max-age'] === '0' || (attr.expires && Date.parse(attr.expires) < Date.now());
      if (!expired && value !== '') this.#cookies.push({ name, value, path: cpath });
    }
  }

  cookieHeader(url: URL): string {
    return this.#cookies.filter((c) => url.pathname.startsWith(c.path)).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  addCookie(name: string, value: string, path = '/'): void {
    this.#store([`${name}=${value}; Path=${path}`]);
  }

  /** The cookies held (e.g. to hand a signed-in session to Chromium). */
  cookies(): Cookie[] {
    return [...this.#cookies];
  }

  hasCookie(name: string): boolean {
    return this.#cookies.some((c) => c.name === name);
  }

  /** Requests `url`, following redirects while they stay on the toolkit; returns the last page or external URL. */
  async request(url: string, init: { method?: string; form?: Record<string, string> | URLSearchParams } = {}): Promise<Page> {
    let current = new URL(url, this.#origin);
    let method = init.method ?? (init.form ? 'POST' : 'GET');
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hops = 0; hops < 20; hops++) {
      if (current.origin !== this.#origin) return { url: current.href, status: 0, text: '' };
      const headers: Record<string, string> = { ...this.extraHeaders, cookie: this.cookieHeader(current) };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await this.#fetch(current.href, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'manual' });
      this.#store(res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url: current.href, status: res.status, text: await res.text() };
    }
    throw new Error('too many redirects');
  }

  get(url: string) {
    return this.request(url);
  }
  post(url: string, form: Record<string, string> | URLSearchParams) {
    return this.request(url, { form });
  }
}

/** The CSRF token of the first form on a page. */
export const csrfOf = (p: Page) => /name="_csrf" value="([^"]+)"/.exec(p.text)?.[1] ?? '';

/** A fetch whose requests come from `address` (X-Forwarded-For: the app must trust it, TRUST_PROXY=true). */
export function fromAddress(fetchImpl: typeof fetch, address: string): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('x-forwarded-for', address);
    return fetchImpl(input, { ...init, headers });
  }) as typeof fetch;
}
