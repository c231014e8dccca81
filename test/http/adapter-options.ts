/**
 * The adapter suite's tests for the middleware options of issue 15 §2, run on every adapter by
 * `testAdapter`: `exclude` (no store call, no cookie, no session, and no spelling of a protected
 * route passing as excluded), cookie scope (path, domain, SameSite=None, Partitioned, the prefix
 * that fits) and the cookies' lifetime following each session's own.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'vitest';
import type { SessionStore } from '../../src/core/types.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import type { Harness } from './adapter-hardening.js';
import { call, Jar, type RunningApp } from './http-client.js';

/** A memory store whose method calls are counted (after `reset`). */
function countedStore(): { store: SessionStore; calls: () => number; reset: () => void } {
  const inner = createMemoryStore();
  let count = 0;
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'close') return value;
      return (...args: unknown[]) => {
        count++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    calls: () => count,
    reset: () => {
      count = 0;
    },
  };
}

/** A request with the path exactly as written (fetch would normalise it). */
function rawRequest(
  app: RunningApp,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown; setCookie: string[] }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, method, path, headers: { accept: 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookie: res.headers['set-cookie'] ?? [],
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const attrs = (cookie: string) => cookie.split('; ').map((a) => a.toLowerCase());
const maxAgeOf = (cookie: string) => {
  const m = /; Max-Age=(\d+)/i.exec(cookie);
  return m ? Number(m[1]) : null;
};
const DAY = 86_400;

export function testHttpOptions(name: string, { start, login }: Harness): void {
  describe(`${name}: exclude`, () => {
    it('an excluded path calls no store and sets no cookie, even with a live session', async () => {
      const counted = countedStore();
      const { app } = await start({ exclude: ['/wait', '/static/*'] }, counted.store);
      const jar = new Jar();
      await login(app, jar);
      counted.reset();
      const excluded = await call(app, jar, 'GET', '/wait?ms=0');
      assert.equal(excluded.res.status, 200);
      assert.deepEqual(excluded.setCookie, []);
      const anonymous = await call(app, new Jar(), 'GET', '/wait?ms=0');
      assert.deepEqual(anonymous.setCookie, [], 'not even a pre-session CSRF cookie');
      assert.equal(counted.calls(), 0, 'no store call');
      // The same request on a path that is not excluded reads the store.
      await call(app, jar, 'GET', '/whoami');
      assert.ok(counted.calls() > 0);
    });

    it('a route that uses the session of an excluded request fails (500) and changes nothing', async () => {
      const { app } = await start({
        exclude: (r) => r.method === 'POST' && r.path === '/set',
      });
      const jar = new Jar();
      await login(app, jar);
      // No CSRF token: an excluded request is not checked, but it has no session to act on either.
      const write = await call(app, jar, 'POST', '/set?key=planted&value=1', { csrf: false });
      assert.equal(write.res.status, 500);
      assert.deepEqual(write.setCookie, []);
      const who = (await call(app, jar, 'GET', '/whoami')).body as {
        userId: string;
        data: Record<string, unknown>;
      };
      assert.equal(who.userId, 'alice');
      assert.equal(who.data.planted, undefined);
    });

    it('no spelling of a protected route passes as an excluded one', async () => {
      const { app } = await start({ exclude: ['/static/*', '/wait'] });
      const jar = new Jar();
      await login(app, jar);
      const cookie = { cookie: jar.header() };
      const reads = [
        '/static/../whoami',
        '/static/%2e%2e/whoami',
        '/static/%2E%2E/whoami',
        '/static/.%2e/whoami',
        '/static/..%2fwhoami',
        '/static/..%5cwhoami',
        '/static//../whoami',
        '/static/./../whoami',
        '/wait/../whoami',
      ];
      for (const path of reads) {
        const r = await rawRequest(app, 'GET', path, cookie);
        // Either no route, or the protected route with its session: never the route without one.
        assert.ok(
          r.status === 404 ||
            (r.status === 200 && (r.body as { userId: string }).userId === 'alice'),
          `${path}: ${r.status} ${JSON.stringify(r.body)}`,
        );
      }
      for (const path of ['/static/../set', '/static/%2e%2e/set', '/static//../set']) {
        const r = await rawRequest(app, 'POST', `${path}?key=planted&value=1`, cookie);
        assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status} needs CSRF`);
      }
      const who = (await call(app, jar, 'GET', '/whoami')).body as {
        data: Record<string, unknown>;
      };
      assert.equal(who.data.planted, undefined);
    });
  });

  describe(`${name}: cookie scope`, () => {
    it('a Domain makes the prefix __Secure-; set, read and cleared with the same Domain and Path', async () => {
      const { app } = await start({ cookieDomain: 'example.test' });
      const jar = new Jar();
      const { setCookie } = (await login(app, jar)) as { setCookie: string[] };
      const session = setCookie.find((c) => c.startsWith('__Secure-tessera='));
      const csrf = setCookie.find((c) => c.startsWith('__Secure-tessera.csrf='));
      assert.ok(session && csrf, setCookie.join(' | '));
      for (const cookie of [session, csrf])
        for (const attr of ['domain=example.test', 'path=/', 'secure', 'samesite=lax'])
          assert.ok(attrs(cookie).includes(attr), `${attr} in ${cookie}`);
      // Read back under the prefixed name.
      const who = await call(app, jar, 'GET', '/whoami');
      assert.equal((who.body as { userId: string }).userId, 'alice');
      const out = await call(app, jar, 'POST', '/logout');
      const cleared = out.setCookie.find((c) => c.startsWith('__Secure-tessera='));
      assert.ok(cleared, out.setCookie.join(' | '));
      for (const attr of ['domain=example.test', 'path=/', 'max-age=0'])
        assert.ok(attrs(cleared).includes(attr), `${attr} in ${cleared}`);
    });

    it('development mode on localhost leaves the Domain out (the browser would refuse it)', async () => {
      const { app } = await start({ mode: 'development', cookieDomain: 'example.test' });
      const { setCookie } = (await login(app, new Jar())) as { setCookie: string[] };
      const session = setCookie.find((c) => c.startsWith('tessera='));
      assert.ok(session && !/domain=/i.test(session), setCookie.join(' | '));
    });

    it('a path other than / makes the prefix __Secure-, with that Path', async () => {
      const { app } = await start({ cookiePath: '/account' });
      const jar = new Jar();
      const { setCookie } = (await login(app, jar)) as { setCookie: string[] };
      const session = setCookie.find((c) => c.startsWith('__Secure-tessera='));
      assert.ok(session, setCookie.join(' | '));
      assert.ok(attrs(session).includes('path=/account'));
      assert.ok(!attrs(session).some((a) => a.startsWith('domain=')));
      assert.equal(
        ((await call(app, jar, 'GET', '/whoami')).body as { userId: string }).userId,
        'alice',
      );
    });

    it('SameSite=None and Partitioned keep __Host- (Secure, no Domain, Path=/)', async () => {
      const { app } = await start({ sameSite: 'none', cookiePartitioned: true });
      const jar = new Jar();
      const { setCookie } = (await login(app, jar)) as { setCookie: string[] };
      const session = setCookie.find((c) => c.startsWith('__Host-tessera='));
      const csrf = setCookie.find((c) => c.startsWith('__Host-tessera.csrf='));
      assert.ok(session && csrf, setCookie.join(' | '));
      for (const cookie of [session, csrf])
        for (const attr of ['samesite=none', 'secure', 'partitioned', 'path=/'])
          assert.ok(attrs(cookie).includes(attr), `${attr} in ${cookie}`);
      const out = await call(app, jar, 'POST', '/logout');
      const cleared = out.setCookie.find((c) => c.startsWith('__Host-tessera='));
      assert.ok(cleared && attrs(cleared).includes('partitioned'), 'cleared in its partition');
    });
  });

  describe(`${name}: cookie lifetime`, () => {
    it("a 30-day session gets a 30-day cookie (and a day's grace)", async () => {
      const { app } = await start({}, undefined, { idleTimeout: '30d', absoluteTimeout: '30d' });
      const { setCookie } = (await login(app, new Jar())) as { setCookie: string[] };
      for (const prefix of ['__Host-tessera=', '__Host-tessera.csrf=']) {
        const cookie = setCookie.find((c) => c.startsWith(prefix));
        const age = maxAgeOf(cookie ?? '');
        assert.ok(age !== null && age <= 31 * DAY && age >= 31 * DAY - 5, `${prefix} ${age}`);
      }
    });

    it('the cookie ends with the absolute lifetime when that comes before the idle expiry', async () => {
      const { app } = await start({}, undefined, { idleTimeout: '30m', absoluteTimeout: '10m' });
      const { setCookie } = (await login(app, new Jar())) as { setCookie: string[] };
      const age = maxAgeOf(setCookie.find((c) => c.startsWith('__Host-tessera=')) ?? '');
      assert.ok(age !== null && age <= 600 + DAY && age >= 600 + DAY - 5, String(age));
    });

    it('cookiePersistent: false sets browser-session cookies (no Max-Age, no Expires)', async () => {
      const { app } = await start({ cookiePersistent: false });
      const anonymous = await call(app, new Jar(), 'GET', '/whoami');
      const jar = new Jar();
      const { setCookie } = (await login(app, jar)) as { setCookie: string[] };
      const cookies = [...anonymous.setCookie, ...setCookie];
      assert.ok(cookies.length >= 3, cookies.join(' | '));
      for (const cookie of cookies)
        assert.ok(!/max-age|expires/i.test(cookie), `browser-session cookie: ${cookie}`);
      // A logout still removes them.
      const out = await call(app, jar, 'POST', '/logout');
      assert.ok(out.setCookie.some((c) => c.startsWith('__Host-tessera=') && /Max-Age=0/.test(c)));
    });

    it('cookiePersistent as a function decides per session ("remember me")', async () => {
      const { app } = await start({ cookiePersistent: (s) => s.userId === 'alice' });
      const alice = (await login(app, new Jar(), 'alice')) as { setCookie: string[] };
      const bob = (await login(app, new Jar(), 'bob')) as { setCookie: string[] };
      const sessionOf = (set: string[]) => set.find((c) => c.startsWith('__Host-tessera='))!;
      assert.ok(maxAgeOf(sessionOf(alice.setCookie))! > DAY);
      assert.equal(maxAgeOf(sessionOf(bob.setCookie)), null);
    });
  });
}
