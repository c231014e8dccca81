/**
 * The adapter suite's tests for the findings of the second security review (issue 14), run on
 * every adapter by `testAdapter`: what a login carries over, a slow request across a login, login
 * bursts, which errors are a 503, and huge form bodies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { SessionManager } from '../../src/core/manager-api.js';
import type { SessionManagerOptions } from '../../src/core/manager-options.js';
import type { SessionStore } from '../../src/core/types.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { RIGHT_PASSWORD, streamHugeBody, verifications } from './adapter-helpers.js';
import { call, Jar, type RunningApp } from './http-client.js';

type Who = {
  id: string | null;
  userId: string | null;
  data: Record<string, unknown>;
  csrf: string;
};

/** What the suite hands over: its app starter and its login. */
export interface Harness {
  start(
    options?: SessionHttpOptions,
    store?: SessionStore,
    managerOptions?: SessionManagerOptions,
  ): Promise<{ app: RunningApp; manager: SessionManager; store: SessionStore }>;
  login(app: RunningApp, jar: Jar, user?: string): Promise<unknown>;
}

export function testHardening(name: string, { start, login }: Harness): void {
  describe(`${name}: a request in flight across a login`, () => {
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
      // InvalidInputError is a 400 on every adapter (Hono's own handler would answer it 500).
      assert.equal(deep.res.status, 400, JSON.stringify(deep.body));
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
}
