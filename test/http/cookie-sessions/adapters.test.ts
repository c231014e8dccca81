/**
 * Client-side sessions (a manager on the encrypted cookie store) through Express, Fastify, Hono
 * and `handleFetch`: the session travels as sealed chunk cookies, read back by any server with the
 * same secrets; chunks are added and cleared as the session grows and shrinks; what cannot work
 * client-side fails with `NotSupportedError`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import type { SessionManager } from '../../../src/core/manager-api.js';
import type { SessionManagerOptions } from '../../../src/core/manager-options.js';
import { createSessionManager } from '../../../src/index.js';
import {
  type CookieStoreOptions,
  createCookieStore,
  generationsFromRateLimitStore,
} from '../../../src/stores/cookie/index.js';
import { createMemoryRateLimitStore } from '../../../src/stores/memory.js';
import { RIGHT_PASSWORD } from '../adapter-helpers.js';
import { call, Jar, type RunningApp } from '../http-client.js';
import { ADAPTERS, startApp } from './apps.js';

const SECRET = randomBytes(32).toString('base64');
const OLD_SECRET = randomBytes(32).toString('base64');
const DEV = { mode: 'development' } as const;

type Who = {
  id: string | null;
  userId: string | null;
  data: Record<string, unknown>;
  csrf: string;
  miss: { reason: string; terminationReason: string | null } | null;
};

/** The session's chunk cookies in the jar, by name, in chunk order. */
function chunks(jar: Jar): [string, string][] {
  return [...jar.cookies]
    .filter(([name]) => name === 'tessera' || /^tessera\.\d+$/.test(name))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
}

describe.each(ADAPTERS)('client-side sessions through %s', (adapter) => {
  const running: RunningApp[] = [];
  const managers: SessionManager[] = [];
  afterAll(async () => {
    await Promise.all(running.map((a) => a.close()));
    await Promise.all(managers.map((m) => m.close()));
  });
  async function serve(
    store: Partial<CookieStoreOptions> = {},
    options: SessionManagerOptions = {},
  ): Promise<RunningApp> {
    const cookies = createCookieStore({ secrets: [SECRET], ...store });
    const manager = createSessionManager({
      store: cookies.sessionStore(),
      cleanupInterval: false,
      ...options,
    });
    managers.push(manager);
    const app = await startApp(adapter, manager, DEV);
    running.push(app);
    return app;
  }
  const whoami = async (app: RunningApp, jar: Jar) =>
    (await call(app, jar, 'GET', '/whoami')).body as Who;

  it('seals the session into the cookie (no token), and another server with the same secrets reads it', async () => {
    const [a, b] = [await serve(), await serve()];
    const jar = new Jar();
    await call(a, jar, 'GET', '/whoami');
    const set = await call(a, jar, 'POST', '/set?key=color&value=blue');
    assert.equal(set.res.status, 200);
    const cookie = jar.cookies.get('tessera')!;
    assert.match(cookie, /^1~t1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a sealed value, not a token');
    assert.ok(cookie.length > 200);
    const line = set.setCookie.find((l) => l.startsWith('tessera='))!;
    assert.match(line, /HttpOnly/i);
    assert.match(line, /SameSite=Lax/i);
    const fromB = await whoami(b, jar);
    assert.deepEqual(fromB.data, { color: 'blue' });
    assert.equal(fromB.csrf, jar.csrf(), 'the CSRF token is the sealed session’s');
    await call(b, jar, 'POST', '/set?key=size&value=L');
    assert.deepEqual((await whoami(a, jar)).data, { color: 'blue', size: 'L' });
  });

  it('checks CSRF against the token sealed in the session', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/set?key=a&value=1');
    const refused = await call(app, jar, 'POST', '/set?key=a&value=2', {
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    assert.equal(refused.res.status, 403);
    assert.deepEqual((await whoami(app, jar)).data, { a: '1' });
  });

  it('adds chunk cookies as the session grows past one cookie and clears them as it shrinks', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    const grow = await call(app, jar, 'POST', '/big?bytes=9000');
    assert.equal(grow.res.status, 200);
    const big = chunks(jar);
    assert.deepEqual(
      big.map(([n]) => n),
      ['tessera', 'tessera.1', 'tessera.2', 'tessera.3'],
    );
    assert.match(big[0]![1], /^4~/);
    for (const [, value] of big) assert.ok(value.length <= 3800);
    assert.equal(((await whoami(app, jar)).data.big as string).length, 9000);
    const shrink = await call(app, jar, 'POST', '/drop?key=big');
    for (const name of ['tessera.1', 'tessera.2', 'tessera.3'])
      assert.ok(
        shrink.setCookie.some((l) => l.startsWith(`${name}=;`) && /Max-Age=0/i.test(l)),
        `${name} cleared`,
      );
    assert.deepEqual(
      chunks(jar).map(([n]) => n),
      ['tessera'],
    );
    assert.deepEqual((await whoami(app, jar)).data, {});
  });

  it('a session too large for maxChunks cookies is refused with 413, the old one kept', async () => {
    const app = await serve({ maxChunks: 2 });
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/set?key=a&value=1');
    const before = jar.header();
    const res = await call(app, jar, 'POST', '/big?bytes=9000');
    assert.equal(res.res.status, 413);
    assert.match(JSON.stringify(res.body), /over the limit/);
    assert.equal(jar.header(), before);
    assert.deepEqual((await whoami(app, jar)).data, { a: '1' });
  });

  it('flash messages, login (a new id and CSRF token, data kept), and destroy clearing every chunk', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/big?bytes=6000');
    await call(app, jar, 'POST', '/flash?msg=hello');
    const anon = await whoami(app, jar);
    assert.deepEqual((await call(app, jar, 'GET', '/flash')).body, {
      flashes: { info: 'hello' },
    });
    assert.deepEqual((await call(app, jar, 'GET', '/flash')).body, { flashes: {} });
    await call(app, jar, 'POST', '/login?user=alice');
    const alice = await whoami(app, jar);
    assert.equal(alice.userId, 'alice');
    assert.notEqual(alice.id, anon.id);
    assert.notEqual(alice.csrf, anon.csrf);
    assert.equal((alice.data.big as string).length, 6000);
    assert.ok(chunks(jar).length >= 2);
    const sent = chunks(jar).map(([n]) => n);
    const out = await call(app, jar, 'POST', '/logout');
    for (const name of sent)
      assert.ok(
        out.setCookie.some((l) => l.startsWith(`${name}=;`) && /Max-Age=0/i.test(l)),
        `${name} cleared`,
      );
    assert.deepEqual(chunks(jar), []);
    assert.equal((await whoami(app, jar)).id, null);
  });

  it('session.login: rate-limited sign-in regenerates into the user', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    const bad = await call(app, jar, 'POST', '/signin?user=bob&password=wrong');
    assert.equal((bad.body as { ok: boolean }).ok, false);
    const good = await call(app, jar, 'POST', `/signin?user=bob&password=${RIGHT_PASSWORD}`);
    assert.deepEqual(good.body, { ok: true, userId: 'bob' });
    assert.equal((await whoami(app, jar)).userId, 'bob');
  });

  it('tampered, truncated, re-ordered and stale chunks are no session, and are cleared', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/big?bytes=9000');
    await call(app, jar, 'POST', '/login?user=carol');
    const good = new Map(jar.cookies);
    const stale = new Map(good);
    await call(app, jar, 'POST', '/set?key=n&value=2');
    const fresh = new Map(jar.cookies);
    const flip = (v: string, at: number) =>
      v.slice(0, at) + (v[at] === 'A' ? 'B' : 'A') + v.slice(at + 1);
    const variants: [string, (m: Map<string, string>) => void][] = [
      ['a changed character', (m) => m.set('tessera.1', flip(m.get('tessera.1')!, 100))],
      ['a truncated last chunk', (m) => m.set('tessera.3', m.get('tessera.3')!.slice(0, -5))],
      ['a missing chunk', (m) => m.delete('tessera.2')],
      [
        'two chunks swapped',
        (m) => {
          const [one, two] = [m.get('tessera.1')!, m.get('tessera.2')!];
          m.set('tessera.1', two).set('tessera.2', one);
        },
      ],
      ['a chunk of an older cookie', (m) => m.set('tessera.2', stale.get('tessera.2')!)],
      ['a duplicated chunk name', () => {}],
    ];
    for (const [what, spoil] of variants) {
      const bad = new Jar();
      bad.cookies = new Map(fresh);
      spoil(bad.cookies);
      let header = bad.header();
      // A name sent twice is ambiguous (cookie tossing): the chunk counts as absent.
      if (what === 'a duplicated chunk name') header += '; tessera.1=x';
      const res = await call(app, null, 'GET', '/whoami', { headers: { cookie: header } });
      const who = res.body as Who;
      assert.equal(who.id, null, `${what}: ${JSON.stringify(res.body)}`);
      assert.ok(
        res.setCookie.some((l) => l.startsWith('tessera=;') && /Max-Age=0/i.test(l)),
        `${what}: the dead cookie is cleared`,
      );
    }
    // A leftover chunk without its first cookie is no session, and is cleared.
    const orphan = await call(app, null, 'GET', '/whoami', {
      headers: { cookie: `tessera.2=${fresh.get('tessera.2')}` },
    });
    assert.equal((orphan.body as Who).id, null);
    assert.ok(orphan.setCookie.some((l) => l.startsWith('tessera.2=;') && /Max-Age=0/i.test(l)));
    // The whole older cookie still opens: a client-side session cannot be withdrawn alone.
    const old = new Jar();
    old.cookies = stale;
    assert.equal((await whoami(app, old)).userId, 'carol');
  });

  it('rotates keys: cookies sealed with the old key stay valid and are resealed with the new one', async () => {
    const before = await serve({ secrets: [OLD_SECRET] });
    const rotated = await serve({ secrets: [SECRET, OLD_SECRET] });
    const newOnly = await serve({ secrets: [SECRET] });
    const jar = new Jar();
    await call(before, jar, 'GET', '/whoami');
    await call(before, jar, 'POST', '/set?key=k&value=v');
    const oldCookie = jar.header();
    assert.equal((await whoami(newOnly, jar)).id, null, 'the new key alone cannot open it');
    jar.cookies = new Map(oldCookie.split('; ').map((p) => p.split('=') as [string, string]));
    assert.deepEqual((await whoami(rotated, jar)).data, { k: 'v' });
    await call(rotated, jar, 'POST', '/set?key=k2&value=v2');
    assert.deepEqual((await whoami(newOnly, jar)).data, { k: 'v', k2: 'v2' });
  });

  it('listing devices and ending another browser’s session throw NotSupportedError', async () => {
    const app = await serve();
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/login?user=dave');
    const devices = await call(app, jar, 'GET', '/devices');
    assert.equal(devices.res.status, 501);
    assert.equal((devices.body as { error: string }).error, 'NOT_SUPPORTED');
    assert.match((devices.body as { message: string }).message, /cannot list a user's sessions/);
    const end = await call(app, jar, 'POST', `/end?id=${'a'.repeat(64)}`);
    assert.equal(end.res.status, 501);
    assert.match((end.body as { message: string }).message, /cannot end another browser/);
    const all = await call(app, jar, 'POST', '/logout-all');
    assert.equal(all.res.status, 501);
    assert.match((all.body as { message: string }).message, /generations/);
    assert.equal((await whoami(app, jar)).userId, 'dave', 'nothing changed');
  });

  it('with generations, log out everywhere kills every cookie of the user (all but this one if asked)', async () => {
    const generations = generationsFromRateLimitStore(createMemoryRateLimitStore());
    const app = await serve({ generations });
    const [laptop, phone, other] = [new Jar(), new Jar(), new Jar()];
    for (const [jar, user] of [
      [laptop, 'erin'],
      [phone, 'erin'],
      [other, 'frank'],
    ] as const) {
      await call(app, jar, 'GET', '/whoami');
      await call(app, jar, 'POST', `/login?user=${user}`);
    }
    const except = await call(app, laptop, 'POST', '/logout-all?except=1');
    assert.equal(except.res.status, 200);
    assert.equal((await whoami(app, laptop)).userId, 'erin', 'this browser stays signed in');
    const dead = await whoami(app, phone);
    assert.equal(dead.id, null);
    assert.deepEqual(dead.miss, { reason: 'terminated', terminationReason: 'logout-all' });
    assert.equal((await whoami(app, other)).userId, 'frank', 'another user is untouched');
    await call(app, laptop, 'POST', '/logout-all');
    assert.equal((await whoami(app, laptop)).id, null);
    assert.deepEqual(chunks(laptop), []);
  });

  it('in production the chunks carry the __Host- prefix and the session cookie’s attributes', async () => {
    const cookies = createCookieStore({ secrets: [SECRET] });
    const manager = createSessionManager({ store: cookies.sessionStore(), cleanupInterval: false });
    managers.push(manager);
    const app = await startApp(adapter, manager, { mode: 'production' });
    running.push(app);
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    const grow = await call(app, jar, 'POST', '/big?bytes=5000');
    const lines = grow.setCookie.filter((l) => /^__Host-tessera(\.\d+)?=/.test(l));
    assert.deepEqual(
      lines.map((l) => l.slice(0, l.indexOf('='))),
      ['__Host-tessera', '__Host-tessera.1'],
    );
    for (const line of lines) {
      assert.match(line, /; Secure/i);
      assert.match(line, /; HttpOnly/i);
      assert.match(line, /; Path=\//i);
      assert.doesNotMatch(line, /Domain=/i);
    }
    assert.equal(((await whoami(app, jar)).data.big as string).length, 5000);
  });

  it('a bearer header names no client-side session; two tabs writing at once: last write wins', async () => {
    const app = await serve();
    const bearer = await call(app, null, 'GET', '/whoami', {
      headers: { authorization: `Bearer ${'A'.repeat(43)}` },
    });
    assert.equal(bearer.res.status, 200);
    assert.equal((bearer.body as Who).id, null);
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/set?key=base&value=1');
    const [tabA, tabB] = [new Jar(), new Jar()];
    tabA.cookies = new Map(jar.cookies);
    tabB.cookies = new Map(jar.cookies);
    await call(app, tabA, 'POST', '/set?key=a&value=1');
    await call(app, tabB, 'POST', '/set?key=b&value=1');
    // Each response carries the whole session as its request left it; the browser keeps the last.
    assert.deepEqual((await whoami(app, tabB)).data, { base: '1', b: '1' });
    assert.deepEqual((await whoami(app, tabA)).data, { base: '1', a: '1' });
  });

  it('the hijack check ends a session whose user agent changed, and clears its cookies', async () => {
    const app = await serve({}, { bindUserAgent: true });
    const jar = new Jar();
    const ua = { 'user-agent': 'Browser/1.0' };
    await call(app, jar, 'GET', '/whoami', { headers: ua });
    await call(app, jar, 'POST', '/big?bytes=5000', { headers: ua });
    assert.equal(chunks(jar).length, 2);
    const stolen = await call(app, jar, 'GET', '/whoami', {
      headers: { 'user-agent': 'Other/2.0' },
    });
    assert.equal((stolen.body as Who).id, null);
    assert.equal((stolen.body as Who).miss?.reason, 'ua_mismatch');
    assert.deepEqual(chunks(jar), [], 'both chunks cleared');
  });

  it('an idle session expires: no session, with the reason', async () => {
    let now = Date.now();
    const app = await serve({}, { clock: () => now, idleTimeout: 60_000, touchAfter: 1_000 });
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/set?key=a&value=1');
    now += 30_000;
    const slid = await call(app, jar, 'GET', '/whoami');
    assert.ok(
      slid.setCookie.some((l) => l.startsWith('tessera=')),
      'a touch reseals the cookie',
    );
    now += 50_000;
    assert.deepEqual((await whoami(app, jar)).data, { a: '1' }, 'the slide kept it alive');
    now += 61_000;
    const gone = await whoami(app, jar);
    assert.equal(gone.id, null);
    assert.equal(gone.miss?.reason, 'expired_idle');
  });
});
