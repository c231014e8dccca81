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
 *   /login and /signin also take idle=d&absolute=d (absolute=none → false): the session's own
 *                            idleTimeout / absoluteTimeout ("remember me"), see timeoutOptions
 */
import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import type { SessionManager } from '../../src/core/manager-api.js';
import type { SessionManagerOptions } from '../../src/core/manager-options.js';
import type { SessionStore } from '../../src/core/types.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { freePort } from '../support/services.js';
import { testHardening } from './adapter-hardening.js';
import { testHttpOptions } from './adapter-options.js';
import { testRememberMe } from './adapter-remember-me.js';
import { call, hostRequest, Jar, type RunningApp, rawStatus } from './http-client.js';

export { call, hostRequest, Jar, type RunningApp, rawStatus } from './http-client.js';

export type AppFactory = (
  manager: SessionManager,
  options: SessionHttpOptions,
) => Promise<RunningApp>;

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
      // The idle timeout and a day: a browser back after an idle expiry still presents its token.
      const max = Math.floor(manager.settings.idleTimeout / 1000) + 86_400;
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

  testHardening(name, { start, login });
  testHttpOptions(name, { start, login });
  testRememberMe(name, { start, login });
}
