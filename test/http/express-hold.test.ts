/**
 * The Express middleware holds a response (patches writeHead/write/end until the commit ran) only
 * when the request has something to commit: from load when the session slid or a cookie needs
 * correcting, else from the route's first change. These tests pin what that must keep: changes
 * made before the response starts are saved with their cookies, at any point of an async route;
 * a change after the response started is refused like a change after a commit and is not saved;
 * a request that changes nothing leaves the response untouched.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { sessionOf, tesseraSession } from '../../src/adapters/express.js';
import { SessionCommittedError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { Jar } from './http-client.js';

const store = createMemoryStore();
const manager = createSessionManager({ store, cleanupInterval: false, rateLimit: false });
const late: unknown[] = [];
let patchedOnRead: boolean | undefined;
let url = '';
let close: () => Promise<void>;

beforeAll(async () => {
  const app = express();
  const sessions = tesseraSession(manager);
  app.use(sessions);
  app.get('/login', async (req, res) => {
    await sessionOf(req).regenerate({ userId: 'ana' });
    res.json({ ok: true });
  });
  app.get('/read', (req, res) => {
    patchedOnRead = Object.hasOwn(res, 'end') || Object.hasOwn(res, 'writeHead');
    res.json({ n: sessionOf(req).get('n') ?? null });
  });
  // Changes after an await, still before the response: saved.
  app.post('/later', async (req, res) => {
    await new Promise((r) => setTimeout(r, 20));
    sessionOf(req).set('n', 1);
    res.json({ ok: true });
  });
  // Changes after the response was sent: refused, not saved.
  app.post('/after-end', (req, res) => {
    res.json({ ok: true });
    try {
      sessionOf(req).set('n', 2);
      late.push('accepted');
    } catch (err) {
      late.push(err);
    }
  });
  // Changes after the first byte of a streamed response: refused too.
  app.post('/streamed', (req, res) => {
    res.write('part');
    try {
      sessionOf(req).set('n', 3);
      late.push('accepted');
    } catch (err) {
      late.push(err);
    }
    res.end();
  });
  // A route passing its own Set-Cookie to writeHead keeps the session's cookies too.
  app.get('/login-writehead', async (req, res) => {
    await sessionOf(req).regenerate({ userId: 'cy' });
    res.writeHead(200, { 'set-cookie': 'theme=dark; Path=/', 'content-type': 'text/plain' });
    res.end('ok');
  });
  app.get('/login-writehead-array', async (req, res) => {
    await sessionOf(req).regenerate({ userId: 'di' });
    res.writeHead(200, 'Fine', ['Set-Cookie', 'theme=light; Path=/', 'X-Route', 'yes']);
    res.end('ok');
  });
  // Things only this response could carry, asked for after it started: refused.
  app.get('/csrf-streamed', (req, res) => {
    res.write('form:');
    try {
      late.push(sessionOf(req).csrfToken);
    } catch (err) {
      late.push(err);
    }
    res.end();
  });
  app.post('/flash', (req, res) => {
    sessionOf(req).flash('note', 'hello');
    res.json({ ok: true });
  });
  app.get('/flashes-late', (req, res) => {
    res.json({ ok: true });
    try {
      late.push(sessionOf(req).flashes());
    } catch (err) {
      late.push(err);
    }
  });
  app.get('/flashes', (req, res) => {
    res.json(sessionOf(req).flashes());
  });
  // A pre-session CSRF token asked for on a read: its cookie is set.
  app.get('/form', (req, res) => {
    res.json({ csrf: sessionOf(req).csrfToken });
  });
  app.use(sessions.errors);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((r) => server.close(() => r()));
});

afterAll(async () => {
  await close();
  await manager.close();
});

async function send(jar: Jar, method: string, path: string): Promise<Response> {
  const res = await fetch(url + path, {
    method,
    headers: { cookie: jar.header(), 'x-csrf-token': jar.csrf() },
  });
  jar.take(res);
  return res;
}

async function storedN(jar: Jar): Promise<unknown> {
  const res = await send(jar, 'GET', '/read');
  return ((await res.json()) as { n: unknown }).n;
}

describe('Express: holding the response only when there is something to commit', () => {
  it('a read that changes nothing leaves the response unpatched and sets no cookie', async () => {
    const jar = new Jar();
    await send(jar, 'GET', '/login');
    const res = await send(jar, 'GET', '/read');
    assert.equal(res.status, 200);
    assert.equal(patchedOnRead, false);
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  it('a change made after an await, before the response, is saved', async () => {
    const jar = new Jar();
    await send(jar, 'GET', '/login');
    assert.equal((await send(jar, 'POST', '/later')).status, 200);
    assert.equal(await storedN(jar), 1);
  });

  it('a change after the response ended is a SessionCommittedError and is not saved', async () => {
    const jar = new Jar();
    await send(jar, 'GET', '/login');
    late.length = 0;
    assert.equal((await send(jar, 'POST', '/after-end')).status, 200);
    assert.equal(late.length, 1);
    assert.ok(late[0] instanceof SessionCommittedError, String(late[0]));
    assert.equal(await storedN(jar), null);
  });

  it('a change after the first byte of a streamed response is refused and not saved', async () => {
    const jar = new Jar();
    await send(jar, 'GET', '/login');
    late.length = 0;
    const res = await send(jar, 'POST', '/streamed');
    assert.equal(await res.text(), 'part');
    assert.ok(late[0] instanceof SessionCommittedError, String(late[0]));
    assert.equal(await storedN(jar), null);
  });

  it("an anonymous visitor's pre-session CSRF token is set as a cookie", async () => {
    const jar = new Jar();
    const res = await send(jar, 'GET', '/form');
    const { csrf } = (await res.json()) as { csrf: string };
    assert.equal(jar.csrf(), csrf);
    assert.ok(csrf.length > 20);
  });

  it("a route's own Set-Cookie in writeHead keeps the session cookies beside it", async () => {
    for (const [path, theme, user] of [
      ['/login-writehead', 'dark', 'cy'],
      ['/login-writehead-array', 'light', 'di'],
    ] as const) {
      const jar = new Jar();
      const res = await send(jar, 'GET', path);
      assert.equal(res.status, 200);
      const cookies = res.headers.getSetCookie();
      assert.ok(cookies.includes(`theme=${theme}; Path=/`), String(cookies));
      assert.ok(
        cookies.some((c) => /^(__Host-)?tessera=[\w-]{20,}/.test(c)),
        `the session cookie came too: ${cookies}`,
      );
      assert.ok(
        cookies.some((c) => /^(__Host-)?tessera\.csrf=[\w-]{20,}/.test(c)),
        `the CSRF cookie came too: ${cookies}`,
      );
      if (path === '/login-writehead-array') {
        assert.equal(res.statusText, 'Fine');
        assert.equal(res.headers.get('x-route'), 'yes');
      }
      const store = await manager.listUserSessions(user);
      assert.equal(store.length, 1, 'the login stands');
    }
  });

  it('a pre-session CSRF token or a flash consumed after the response started is refused', async () => {
    late.length = 0;
    const anonymous = new Jar();
    const res = await send(anonymous, 'GET', '/csrf-streamed');
    assert.equal(await res.text(), 'form:');
    assert.ok(late[0] instanceof SessionCommittedError, String(late[0]));
    assert.equal(anonymous.csrf(), '', 'no CSRF cookie for a token nobody can use');

    const jar = new Jar();
    await send(jar, 'GET', '/login');
    await send(jar, 'POST', '/flash');
    late.length = 0;
    await send(jar, 'GET', '/flashes-late');
    assert.ok(late[0] instanceof SessionCommittedError, String(late[0]));
    // Not consumed: the next request still gets it.
    const flashes = await send(jar, 'GET', '/flashes');
    assert.deepEqual(await flashes.json(), { note: 'hello' });
  });

  it('a read whose touch was due slides the cookie (held from load)', async () => {
    const clock = { now: Date.now() };
    const timed = createSessionManager({
      store: createMemoryStore(),
      cleanupInterval: false,
      rateLimit: false,
      clock: () => clock.now,
    });
    const app = express();
    app.use(tesseraSession(timed));
    app.get('/login', async (req, res) => {
      await sessionOf(req).regenerate({ userId: 'bo' });
      res.json({ ok: true });
    });
    app.get('/read', (_req, res) => {
      res.json({ ok: true });
    });
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const login = await fetch(`${base}/login`);
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      clock.now += 1_000;
      const quiet = await fetch(`${base}/read`, { headers: { cookie } });
      assert.deepEqual(quiet.headers.getSetCookie(), []);
      clock.now += 10 * 60_000;
      const slid = await fetch(`${base}/read`, { headers: { cookie } });
      assert.equal(slid.status, 200);
      assert.ok(
        slid.headers.getSetCookie().some((c) => /max-age=\d+/i.test(c)),
        String(slid.headers.getSetCookie()),
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await timed.close();
    }
  });
});
