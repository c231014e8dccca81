/**
 * The small app the security tests drive: Hono over a given manager, called in-process with
 * `app.request()`, plus a cookie jar that behaves like a browser's for one site.
 */
import { Hono } from 'hono';
import { tesseraSession } from '../../src/adapters/hono.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';

/** The one password that logs in; the tests search logs for it. */
export const PASSWORD = 'correct-horse-battery-staple-7f3a';

export function securityApp(manager: SessionManager, options: SessionHttpOptions = {}) {
  const app = new Hono();
  app.use(
    '*',
    tesseraSession(manager, { trustProxy: 1, ...options, remoteAddress: () => '127.0.0.1' }),
  );
  app.get('/whoami', (c) => {
    const s = c.get('session');
    return c.json({ id: s.id, userId: s.userId, data: s.data, csrf: s.csrfToken, ip: s.ip });
  });
  app.post('/set', (c) => {
    c.get('session').set(c.req.query('key') ?? 'k', c.req.query('value') ?? 'v');
    return c.json({ ok: true });
  });
  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const username = String(body.username ?? '');
    const result = await c
      .get('session')
      .login(username, () => (body.password === PASSWORD ? username.trim().toLowerCase() : null));
    return c.json(result, result.ok ? 200 : result.reason === 'rate_limited' ? 429 : 401);
  });
  app.post('/logout', async (c) => {
    await c.get('session').destroy();
    return c.json({ ok: true });
  });
  return app;
}

/** What a browser keeps for one site: cookies set by responses, sent back on each request. */
export class BrowserJar {
  readonly cookies = new Map<string, string>();
  readonly setCookieLines: string[] = [];

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.setCookieLines.push(line);
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get session(): string | undefined {
    for (const [k, v] of this.cookies) if (!k.endsWith('.csrf')) return v;
    return undefined;
  }

  get csrf(): string {
    for (const [k, v] of this.cookies) if (k.endsWith('.csrf')) return v;
    return '';
  }
}

/** A request from the jar's browser; unsafe methods carry the CSRF cookie's token in the header. */
export async function browse(
  app: Hono,
  jar: BrowserJar,
  method: string,
  path: string,
  init: { form?: Record<string, string>; headers?: Record<string, string>; csrf?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { accept: 'application/json', ...(init.headers ?? {}) };
  if (jar.cookies.size > 0) headers.cookie = jar.header();
  if (method !== 'GET') headers['x-csrf-token'] = init.csrf ?? jar.csrf;
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await app.request(`https://app.example${path}`, { method, headers, body });
  jar.take(res);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}
