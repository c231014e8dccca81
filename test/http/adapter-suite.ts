/**
 * The behaviour every adapter must show, driven over real HTTP against a server listening on
 * loopback. Each adapter's test file builds the same small app (routes below) and passes it here.
 *
 * Routes the app must have (all JSON):
 *   GET  /whoami           → { id, userId, data, csrf }
 *   GET  /flash            → { flashes }            (reads and consumes)
 *   POST /flash?msg=m      → sets flash "info"
 *   POST /login?user=u[&keep=k] → session.regenerate({ userId: u, keepData: keepOption(k) });
 *                            { token: issuedToken }
 *   POST /set?key=k&value=v → session.set(k, v)
 *   POST /form             → urlencoded body, session.set('form', body.note)
 *   POST /skip             → no CSRF needed (skipCsrf: ['/skip']), session.set('skipped', true)
 *   POST /slow?ms=n        → session.set('slow', true), waits n ms, then answers
 *   GET  /wait?ms=n        → waits n ms, then answers { ok: true } (reads only)
 *   POST /logout           → session.destroy()
 *   POST /limited          → throws new RateLimitedError(1500)
 *   GET  /plain            → { ok: true } without touching the session
 *   POST /big?bytes=n      → session.set('big', 'x' repeated n times)
 *   POST /deep?depth=n     → session.set('deep', a value nested n arrays deep)
 *   POST /signin?user=u&password=p → session.login(u, () => verifyPassword(u, p)); the result as
 *                            JSON, with status 200, 401 (invalid) or 429 (rate_limited)
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, describe, it } from 'vitest';
import type { LoginResult, SessionManager } from '../../src/core/manager-api.js';
import type { SessionManagerOptions } from '../../src/core/manager-options.js';
import type { JsonValue, SessionStore } from '../../src/core/types.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { freePort } from '../support/services.js';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export type AppFactory = (
  manager: SessionManager,
  options: SessionHttpOptions,
) => Promise<RunningApp>;

/** How many times `verifyPassword` ran for each user name. */
export const verifications = new Map<string, number>();
export const RIGHT_PASSWORD = 'right-password';

/** A password check that takes 20 ms (as a real hash does) and is counted per user. */
export async function verifyPassword(user: string, password: string): Promise<string | null> {
  verifications.set(user, (verifications.get(user) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 20));
  return password === RIGHT_PASSWORD ? user : null;
}

/** The status a sign-in route answers for a login result. */
export function signinStatus(result: LoginResult): number {
  return result.ok ? 200 : result.reason === 'rate_limited' ? 429 : 401;
}

/** The `keepData` a `keep` query parameter asks for: `none` → false, `a,b` → those keys. */
export function keepOption(keep: string | null | undefined): boolean | string[] | undefined {
  if (keep === null || keep === undefined || keep === '') return undefined;
  return keep === 'none' ? false : keep.split(',');
}

/** A JSON value nested `depth` arrays deep (`[[[…]]]`), built without recursion. */
export function nested(depth: number): JsonValue {
  let value: JsonValue = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

/** A tiny cookie jar: what a browser would send back. */
export class Jar {
  cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): string[] {
    const set = res.headers.getSetCookie();
    for (const line of set) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return set;
  }
  csrf(): string {
    for (const [k, v] of this.cookies) if (k.endsWith('.csrf')) return v;
    return '';
  }
  session(): string | undefined {
    for (const [k, v] of this.cookies) if (!k.endsWith('.csrf')) return v;
    return undefined;
  }
}

export async function call(
  app: RunningApp,
  jar: Jar | null,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; csrf?: boolean } = {},
): Promise<{ res: Response; body: unknown; setCookie: string[] }> {
  const headers: Record<string, string> = { accept: 'application/json', ...(init.headers ?? {}) };
  if (jar?.cookies.size) headers.cookie = jar.header();
  if (jar && init.csrf !== false && method !== 'GET') headers['x-csrf-token'] ??= jar.csrf();
  const res = await fetch(app.url + path, { method, headers, body: init.body, redirect: 'manual' });
  const setCookie = jar ? jar.take(res) : res.headers.getSetCookie();
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { res, body, setCookie };
}

/** Sends raw bytes (headers Node's clients would refuse) and returns the status code. */
export function rawStatus(url: string, head: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no status line: ${data.slice(0, 200)}`)));
    socket.write(head);
  });
}

/** A request with a chosen Host header (fetch does not allow setting it). */
export function hostRequest(
  url: string,
  host: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; setCookie: string[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers: { host, accept: 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * POSTs a body of `totalBytes` streamed in 64 KiB chunks (never held whole: one chunk is reused),
 * returns the status as soon as the answer arrives (then stops sending), and the largest growth
 * of this process's RSS seen while it ran, in MiB. `prefix` is sent first.
 */
export function streamHugeBody(
  url: string,
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
  prefix = '',
): Promise<{ status: number; ms: number; rssGrowthMiB: number }> {
  const { hostname, port } = new URL(url);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      {
        host: hostname,
        port,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': String(totalBytes + prefix.length) },
      },
      (res) => {
        answered = true;
        const ms = performance.now() - started;
        res.resume();
        res.on('end', () => {
          clearInterval(sampler);
          peak = Math.max(peak, process.memoryUsage().rss);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, ms, rssGrowthMiB: (peak - before) / 2 ** 20 });
        });
      },
    );
    // The server may answer and close before the body is sent: not an error of the test.
    req.on('error', (err) => {
      if (!answered) {
        clearInterval(sampler);
        reject(err);
      }
    });
    if (prefix) req.write(prefix);
    const pump = () => {
      while (!answered && sent < totalBytes) {
        const piece = Math.min(chunk.length, totalBytes - sent);
        sent += piece;
        if (!req.write(piece === chunk.length ? chunk : chunk.subarray(0, piece))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

type Who = {
  id: string | null;
  userId: string | null;
  data: Record<string, unknown>;
  csrf: string;
};

export function testAdapter(name: string, factory: AppFactory): void {
  const managers: SessionManager[] = [];
  const apps: RunningApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(managers.map((m) => m.close()));
  });
  async function start(
    options: SessionHttpOptions = {},
    store: SessionStore = createMemoryStore(),
    managerOptions: SessionManagerOptions = {},
  ) {
    const manager = createSessionManager({ store, cleanupInterval: false, ...managerOptions });
    managers.push(manager);
    const app = await factory(manager, { skipCsrf: ['/skip'], ...options });
    apps.push(app);
    return { app, manager, store };
  }
  async function login(app: RunningApp, jar: Jar, user = 'alice') {
    await call(app, jar, 'GET', '/whoami');
    const r = await call(app, jar, 'POST', `/login?user=${user}`);
    assert.equal(r.res.status, 200);
    return r;
  }

  describe(`${name}: cookies`, () => {
    it('production mode: __Host- prefix, Secure, HttpOnly session cookie, readable CSRF cookie', async () => {
      const { app, manager } = await start({ mode: 'production' });
      const jar = new Jar();
      const { setCookie } = await login(app, jar);
      const session = setCookie.find((c) => c.startsWith('__Host-tessera='));
      const csrf = setCookie.find((c) => c.startsWith('__Host-tessera.csrf='));
      assert.ok(session, `session cookie in ${setCookie.join(' | ')}`);
      assert.ok(csrf);
      const max = Math.floor(manager.settings.idleTimeout / 1000);
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', `Max-Age=${max}`])
        assert.ok(session.split('; ').includes(attr), `${attr} in ${session}`);
      for (const attr of ['Secure', 'SameSite=Lax', 'Path=/', `Max-Age=${max}`])
        assert.ok(csrf.split('; ').includes(attr), `${attr} in ${csrf}`);
      assert.ok(!/httponly/i.test(csrf), 'the CSRF cookie is readable by scripts');
      assert.ok(!/domain=/i.test(session), '__Host- cookies carry no Domain');
    });

    it('development mode relaxes Secure for localhost only', async () => {
      const { app } = await start({ mode: 'development' });
      const jar = new Jar();
      const { setCookie } = await login(app, jar);
      const session = setCookie.find((c) => c.startsWith('tessera='));
      assert.ok(session, `plain name in ${setCookie.join(' | ')}`);
      assert.ok(!/secure/i.test(session));
      assert.ok(/HttpOnly/.test(session) && /SameSite=Lax/.test(session));
      // The same server reached under another host name keeps Secure and the prefix.
      const other = await hostRequest(app.url, 'app.example.com', 'GET', '/whoami', {});
      const csrf = other.setCookie.find((c) => c.startsWith('__Host-tessera.csrf='));
      assert.ok(
        csrf && /Secure/.test(csrf),
        `Secure CSRF cookie in ${other.setCookie.join(' | ')}`,
      );
      const token = csrf.split(';')[0]!.split('=')[1]!;
      const login2 = await hostRequest(app.url, 'app.example.com', 'POST', '/login?user=bob', {
        cookie: `__Host-tessera.csrf=${token}`,
        'x-csrf-token': token,
      });
      assert.equal(login2.status, 200);
      assert.ok(login2.setCookie.some((c) => c.startsWith('__Host-tessera=') && /Secure/.test(c)));
    });

    it('a plain page view by an anonymous visitor writes nothing and sets no session cookie', async () => {
      const { app, store } = await start();
      const r = await call(app, new Jar(), 'GET', '/plain');
      assert.equal(r.res.status, 200);
      const w = await call(app, new Jar(), 'GET', '/whoami');
      assert.equal((w.body as Who).id, null);
      assert.ok(!w.setCookie.some((c) => /^(__Host-)?tessera=/.test(c)));
      assert.equal((await store.stats!(Date.now())).activeSessions, 0);
    });

    it('the first write of an anonymous visitor creates the session', async () => {
      const { app, store } = await start();
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      const r = await call(app, jar, 'POST', '/set?key=theme&value=dark');
      assert.equal(r.res.status, 200);
      assert.ok(jar.session());
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, null);
      assert.equal(who.data.theme, 'dark');
      assert.equal((await store.stats!(Date.now())).anonymousSessions, 1);
    });
  });

  describe(`${name}: CSRF`, () => {
    it('accepts the token in the header or the _csrf form field', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      assert.equal((await call(app, jar, 'POST', '/set?key=a&value=1')).res.status, 200);
      const form = await call(app, jar, 'POST', '/form', {
        csrf: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: jar.csrf(), note: 'from a form' }).toString(),
      });
      assert.equal(form.res.status, 200, String(form.body));
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.data.a, '1');
      assert.equal(who.data.form, 'from a form');
    });

    it('rejects a missing or wrong token with a clear 403, JSON or HTML by Accept', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const missing = await call(app, jar, 'POST', '/set?key=a&value=1', { csrf: false });
      assert.equal(missing.res.status, 403);
      assert.equal((missing.body as { error: string }).error, 'csrf');
      assert.match((missing.body as { message: string }).message, /CSRF token/);
      const wrong = await call(app, jar, 'POST', '/set?key=a&value=1', {
        headers: { 'x-csrf-token': 'A'.repeat(43), accept: 'text/html' },
      });
      assert.equal(wrong.res.status, 403);
      assert.match(wrong.res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(String(wrong.body), /CSRF token/);
      const formWrong = await call(app, jar, 'POST', '/form', {
        csrf: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'note=x&_csrf=wrong',
      });
      assert.equal(formWrong.res.status, 403);
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).data.a, undefined);
    });

    it('a route that throws RateLimitedError gets 429 with Retry-After, JSON or HTML by Accept', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const json = await call(app, jar, 'POST', '/limited');
      assert.equal(json.res.status, 429);
      assert.equal(json.res.headers.get('retry-after'), '2');
      assert.equal((json.body as { error: string }).error, 'rate_limited');
      const html = await call(app, jar, 'POST', '/limited', { headers: { accept: 'text/html' } });
      assert.equal(html.res.status, 429);
      assert.match(String(html.body), /Too many attempts/);
    });

    it('an anonymous POST needs the pre-session token from the CSRF cookie', async () => {
      const { app } = await start();
      const jar = new Jar();
      const bare = await call(app, jar, 'POST', '/set?key=a&value=1');
      assert.equal(bare.res.status, 403, 'no cookie yet: no token to match');
      await call(app, jar, 'GET', '/whoami');
      assert.equal((await call(app, jar, 'POST', '/set?key=a&value=1')).res.status, 200);
    });

    it('a route can opt out; a bearer-token request needs no CSRF token', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      assert.equal((await call(app, jar, 'POST', '/skip', { csrf: false })).res.status, 200);
      const api = await call(app, new Jar(), 'GET', '/whoami');
      const token = (
        await call(app, null, 'POST', '/login?user=carol', {
          headers: {
            'x-csrf-token': (api.body as Who).csrf,
            cookie: `tessera.csrf=${(api.body as Who).csrf}; __Host-tessera.csrf=${(api.body as Who).csrf}`,
          },
        })
      ).body as { token: string };
      assert.equal(typeof token.token, 'string');
      const auth = { authorization: `Bearer ${token.token}` };
      const set = await call(app, null, 'POST', '/set?key=api&value=yes', { headers: auth });
      assert.equal(set.res.status, 200);
      assert.deepEqual(set.setCookie, [], 'API clients get no cookies');
      const who = (await call(app, null, 'GET', '/whoami', { headers: auth })).body as Who;
      assert.equal(who.userId, 'carol');
      assert.equal(who.data.api, 'yes');
    });
  });

  describe(`${name}: session lifecycle`, () => {
    it('login regenerates the token: the old cookie is dead, the data carries over', async () => {
      const { app } = await start();
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      await call(app, jar, 'POST', '/set?key=cart&value=3');
      const before = jar.session()!;
      await call(app, jar, 'POST', '/login?user=alice');
      const after = jar.session()!;
      assert.notEqual(after, before);
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, 'alice');
      assert.equal(who.data.cart, '3');
      const old = new Jar();
      old.cookies.set('tessera', before);
      old.cookies.set('__Host-tessera', before);
      const stale = await call(app, old, 'GET', '/whoami');
      assert.equal((stale.body as Who).userId, null);
      assert.equal((stale.body as Who).id, null);
      assert.ok(
        stale.setCookie.some((c) => /Max-Age=0/.test(c)),
        'the dead cookie is cleared',
      );
    });

    it('50 parallel requests setting 50 different keys keep all 50', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => call(app, jar, 'POST', `/set?key=k${i}&value=${i}`)),
      );
      assert.ok(results.every((r) => r.res.status === 200));
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      for (let i = 0; i < 50; i++) assert.equal(who.data[`k${i}`], String(i), `k${i}`);
    });

    it('a logout that lands during a slow request of the same session stays logged out', async () => {
      const { app, manager } = await start();
      const jar = new Jar();
      await login(app, jar);
      const token = jar.session()!;
      const slow = call(app, jar, 'POST', '/slow?ms=400');
      await new Promise((r) => setTimeout(r, 100));
      const logout = await call(app, jar, 'POST', '/logout');
      assert.equal(logout.res.status, 200);
      const slowDone = await slow;
      assert.ok(
        !slowDone.setCookie.some(
          (c) => c.includes(token) || (/^(__Host-)?tessera=/.test(c) && !/Max-Age=0/.test(c)),
        ),
        'the slow response does not set a session cookie',
      );
      const revived = new Jar();
      revived.cookies.set('tessera', token);
      revived.cookies.set('__Host-tessera', token);
      const who = (await call(app, revived, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, null);
      assert.deepEqual(await manager.listUserSessions('alice'), []);
    });

    it('a slow write sent before a login does not touch the cookies the login set', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const slow = call(app, jar, 'POST', '/slow?ms=400');
      await new Promise((r) => setTimeout(r, 100));
      await call(app, jar, 'POST', '/login?user=alice');
      const fresh = jar.session()!;
      const slowDone = await slow;
      assert.equal(slowDone.res.status, 200);
      assert.deepEqual(slowDone.setCookie, [], 'no Set-Cookie for a session rotated meanwhile');
      assert.equal(jar.session(), fresh, 'the browser keeps the new session');
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).userId, 'alice');
      assert.equal(
        (await call(app, jar, 'POST', '/set?key=after&value=1')).res.status,
        200,
        'the CSRF cookie still matches the new session',
      );
    });

    it('a slow read whose touch was due, sent before a login, does not re-set the dead token', async () => {
      const { app } = await start({}, createMemoryStore(), { touchAfter: 0 });
      const jar = new Jar();
      await login(app, jar);
      const slow = call(app, jar, 'GET', '/wait?ms=400');
      await new Promise((r) => setTimeout(r, 100));
      await call(app, jar, 'POST', '/login?user=bob');
      const fresh = jar.session()!;
      const slowDone = await slow;
      assert.equal(slowDone.res.status, 200);
      assert.deepEqual(slowDone.setCookie, [], 'no Set-Cookie for a session rotated meanwhile');
      assert.equal(jar.session(), fresh);
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).userId, 'bob');
      assert.equal((await call(app, jar, 'POST', '/set?key=after&value=1')).res.status, 200);
    });

    it('flash messages are readable on the next request only', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      await call(app, jar, 'POST', '/flash?msg=saved');
      assert.deepEqual(
        ((await call(app, jar, 'GET', '/flash')).body as { flashes: unknown }).flashes,
        { info: 'saved' },
      );
      assert.deepEqual(
        ((await call(app, jar, 'GET', '/flash')).body as { flashes: unknown }).flashes,
        {},
      );
    });
  });

  describe(`${name}: what a login carries over`, () => {
    it("two users in one browser: alice logging in over bob's session does not get his data", async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar, 'bob');
      await call(app, jar, 'POST', '/set?key=note&value=bob-secret');
      await call(app, jar, 'POST', '/flash?msg=for-bob');
      await call(app, jar, 'POST', '/login?user=alice');
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, 'alice');
      assert.deepEqual(who.data, {}, "none of bob's data");
      const flashes = ((await call(app, jar, 'GET', '/flash')).body as { flashes: unknown })
        .flashes;
      assert.deepEqual(flashes, {});
    });

    it('data planted in an anonymous session is dropped when the login asks (keepData)', async () => {
      const { app } = await start();
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      await call(app, jar, 'POST', '/set?key=returnTo&value=https://evil.example/');
      await call(app, jar, 'POST', '/set?key=cart&value=3');
      await call(app, jar, 'POST', '/login?user=alice&keep=cart');
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.deepEqual(who.data, { cart: '3' });
      const other = new Jar();
      await call(app, other, 'GET', '/whoami');
      await call(app, other, 'POST', '/set?key=returnTo&value=https://evil.example/');
      await call(app, other, 'POST', '/login?user=carol&keep=none');
      assert.deepEqual(((await call(app, other, 'GET', '/whoami')).body as Who).data, {});
    });
  });

  describe(`${name}: login rate limit under a burst`, () => {
    const signin = (app: RunningApp, jar: Jar, user: string, password: string) =>
      call(app, jar, 'POST', `/signin?user=${user}&password=${password}`);

    it('40 parallel sign-ins for one user check the password at most 5 times; the right one past the budget is refused', async () => {
      const { app } = await start();
      const user = `burst-${name}-${Date.now()}`;
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          signin(app, jar, user, i === 25 ? RIGHT_PASSWORD : `guess${i}`),
        ),
      );
      const checks = verifications.get(user) ?? 0;
      assert.ok(checks <= 5, `the password was checked ${checks} times`);
      assert.equal(answers[25]!.res.status, 429, JSON.stringify(answers[25]!.body));
      assert.equal(answers.filter((a) => a.res.status === 200).length, 0);
      assert.ok(answers.every((a) => a.res.status === 401 || a.res.status === 429));
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).userId, null);
    });

    it('parallel sign-ins for many users from one address check passwords at most maxAttemptsPerIp times', async () => {
      const { app } = await start();
      const stamp = `${name}-${Date.now()}`;
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      const answers = await Promise.all(
        Array.from({ length: 45 }, (_, i) => signin(app, jar, `ip-${stamp}-${i}`, 'wrong')),
      );
      let checks = 0;
      for (let i = 0; i < 45; i++) checks += verifications.get(`ip-${stamp}-${i}`) ?? 0;
      assert.ok(checks <= 20, `passwords were checked ${checks} times (maxAttemptsPerIp 20)`);
      assert.ok(answers.filter((a) => a.res.status === 429).length >= 25);
    });
  });

  describe(`${name}: only a store failure is a 503`, () => {
    it('session data over maxDataBytes is a 413 with a clear message, and nothing is saved', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const big = await call(app, jar, 'POST', '/big?bytes=70000');
      assert.equal(big.res.status, 413, JSON.stringify(big.body));
      assert.equal(big.res.headers.get('retry-after'), null);
      assert.equal((big.body as { error: string }).error, 'too_large');
      assert.match((big.body as { message: string }).message, /session data .*65536 bytes/);
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, 'alice', 'still logged in');
      assert.equal(who.data.big, undefined);
    });

    it('a value that cannot be stored is the application’s error (its framework answers), never a 503', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const deep = await call(app, jar, 'POST', '/deep?depth=5000');
      assert.equal(deep.res.status, 500, JSON.stringify(deep.body));
      assert.equal(deep.res.headers.get('retry-after'), null);
      assert.doesNotMatch(JSON.stringify(deep.body), /store_unavailable|unreachable/);
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).data.deep, undefined);
    });

    it('an error that is not ours while saving goes to the framework’s error handling', async () => {
      const { app, manager } = await start();
      const update = manager.update.bind(manager);
      manager.update = async (session, patch) => {
        if (patch.set && Object.hasOwn(patch.set, 'bug'))
          throw new TypeError('a bug in a listener');
        return update(session, patch);
      };
      const jar = new Jar();
      await login(app, jar);
      const failed = await call(app, jar, 'POST', '/set?key=bug&value=1');
      assert.equal(failed.res.status, 500, JSON.stringify(failed.body));
      assert.equal(failed.res.headers.get('retry-after'), null);
      assert.doesNotMatch(JSON.stringify(failed.body), /store_unavailable|unreachable/);
      assert.equal((await call(app, jar, 'POST', '/set?key=a&value=1')).res.status, 200);
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).data.a, '1');
    });
  });

  describe(`${name}: huge form bodies`, () => {
    const MiB = 2 ** 20;
    const form = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };

    it('an anonymous 300 MB form POST without a token gets its 403 without the body being buffered', async () => {
      const { app } = await start();
      const r = await streamHugeBody(app.url, '/form', form, 300 * MiB, 'note=');
      assert.ok([403, 413].includes(r.status), `status ${r.status}`);
      assert.ok(r.rssGrowthMiB < 24, `RSS grew by ${r.rssGrowthMiB.toFixed(1)} MiB`);
    });

    it('a 300 MB form with a pre-session CSRF cookie but no token in its first MiB: 413, not read on', async () => {
      const { app } = await start();
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      const headers = { ...form, cookie: jar.header() };
      const r = await streamHugeBody(app.url, '/form', headers, 300 * MiB, 'note=');
      assert.equal(r.status, 413);
      assert.ok(r.rssGrowthMiB < 24, `RSS grew by ${r.rssGrowthMiB.toFixed(1)} MiB`);
    });

    it('a 300 MB form of a logged-in session with a wrong header token: 403 at once', async () => {
      const { app } = await start();
      const jar = new Jar();
      await login(app, jar);
      const headers = { ...form, cookie: jar.header(), 'x-csrf-token': 'A'.repeat(43) };
      const r = await streamHugeBody(app.url, '/form', headers, 300 * MiB, 'note=');
      assert.equal(r.status, 403);
      assert.ok(r.rssGrowthMiB < 24, `RSS grew by ${r.rssGrowthMiB.toFixed(1)} MiB`);
    });
  });

  describe(`${name}: hostile cookie headers never give a 500`, () => {
    it('malformed, oversized, duplicated and non-ASCII cookies give a fresh anonymous session or a 4xx', async () => {
      const { app } = await start({ mode: 'development' });
      const jar = new Jar();
      await login(app, jar);
      const good = jar.session()!;
      const cases: (string | Buffer)[] = [
        'tessera=%',
        'tessera=%E0%A4%A',
        'tessera',
        '=;;;=====; ;',
        `tessera=${'A'.repeat(43)}`,
        `tessera=${good}; tessera=${good}`,
        `tessera=${good}; tessera=${'B'.repeat(43)}`,
        `tessera=${'x'.repeat(8200)}`,
        `a=${'y'.repeat(8200)}; tessera=${good}`,
        'tessera="quoted"',
        Buffer.from('tessera=caf\xe9\xff\x80', 'latin1'),
        Buffer.from(`tessera=${good.slice(0, 40)}é€😀`, 'utf8'),
        Buffer.from('tessera=\x01\x02', 'latin1'),
      ];
      for (const value of cases) {
        const head = Buffer.concat([
          Buffer.from(
            `GET /whoami HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\nCookie: `,
          ),
          Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'),
          Buffer.from('\r\n\r\n'),
        ]);
        const status = await rawStatus(app.url, head);
        assert.ok(status < 500, `status ${status} for cookie ${String(value).slice(0, 60)}`);
      }
      // Duplicated session cookies are ambiguous: anonymous, not the first one.
      const dup = await call(app, null, 'GET', '/whoami', {
        headers: { cookie: `tessera=${good}; tessera=${good}` },
      });
      assert.equal((dup.body as Who).userId, null);
      // Two Cookie header lines (Node joins them) are read the same way.
      const status = await rawStatus(
        app.url,
        Buffer.from(
          `GET /whoami HTTP/1.1\r\nHost: localhost\r\nCookie: tessera=${good}\r\nCookie: tessera=${good}\r\nConnection: close\r\n\r\n`,
        ),
      );
      assert.ok(status < 500);
      // The legitimate cookie alone still works.
      assert.equal(((await call(app, jar, 'GET', '/whoami')).body as Who).userId, 'alice');
    });
  });

  describe(`${name}: store outage`, () => {
    it('an unreachable store gives 503 with a clear body; routes without a session keep working', async () => {
      const store = createRedisStore({
        port: await freePort(),
        connectTimeout: 300,
        prefix: `t${Date.now()}:`,
      });
      const { app } = await start({ mode: 'development' }, store);
      const cookie = { cookie: `tessera=${'A'.repeat(43)}` };
      const read = await call(app, null, 'GET', '/whoami', { headers: cookie });
      assert.equal(read.res.status, 503);
      assert.equal((read.body as { error: string }).error, 'store_unavailable');
      const html = await call(app, null, 'GET', '/whoami', {
        headers: { ...cookie, accept: 'text/html' },
      });
      assert.equal(html.res.status, 503);
      assert.match(String(html.body), /session store is unreachable/);
      // A login (a write inside the route) also answers 503 rather than crashing.
      const jar = new Jar();
      await call(app, jar, 'GET', '/whoami');
      const loginRes = await call(app, jar, 'POST', '/login?user=alice');
      assert.equal(loginRes.res.status, 503);
      // A write at response time (an anonymous first write) too.
      const write = await call(app, jar, 'POST', '/set?key=a&value=1');
      assert.equal(write.res.status, 503);
      assert.equal((await call(app, null, 'GET', '/plain')).res.status, 200);
      assert.equal((await call(app, null, 'GET', '/whoami')).res.status, 200);
      await store.close();
    });
  });
}
