/**
 * Two things every adapter shares through the HTTP layer: `refusalPage` renders the layer's own
 * refusals (the CSRF 403, the store-outage 503) as the app's page for browsers while JSON clients
 * keep the JSON body; and `session.miss` says why the token a request presented no longer works
 * (`validate`'s reason, and why a terminated session ended where the store keeps it).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, describe, it } from 'vitest';
import { tesseraSession as expressSession, sessionOf } from '../../src/adapters/express.js';
import { tesseraSession as fastifySession } from '../../src/adapters/fastify.js';
import { handleFetch } from '../../src/adapters/fetch.js';
import { tesseraSession as honoSession } from '../../src/adapters/hono.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionHttp } from '../../src/http/handler.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';
import { escapeHtml, type Refusal } from '../../src/http/responses.js';
import type { RequestSession } from '../../src/http/session.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore, type SqlStore } from '../../src/stores/sql/index.js';
import { freePort } from '../support/services.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-refusals-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface App {
  url: string;
  close(): Promise<void>;
}
type Factory = (manager: SessionManager, options: SessionHttpOptions) => Promise<App>;

const missOf = (s: RequestSession) => ({ miss: s.miss, userId: s.userId });

/** The same two routes on each adapter: GET /miss (the session's miss) and POST /form. */
const ADAPTERS: Record<string, Factory> = {
  express: async (manager, options) => {
    const app = express();
    app.use(expressSession(manager, options));
    app.get('/miss', (req, res) => {
      res.json(missOf(sessionOf(req)));
    });
    app.post('/form', (_req, res) => {
      res.json({ ok: true });
    });
    const server = await new Promise<Server>((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((done) => server.close(() => done())),
    };
  },
  fastify: async (manager, options) => {
    const app = Fastify();
    await app.register(fastifySession, { manager, ...options });
    app.get('/miss', async (req) => missOf(req.session));
    app.post('/form', async () => ({ ok: true }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  hono: async (manager, options) => {
    const app = new Hono();
    app.use('*', honoSession(manager, options));
    app.get('/miss', (c) => c.json(missOf(c.get('session'))));
    app.post('/form', (c) => c.json({ ok: true }));
    const server = await new Promise<ReturnType<typeof serve>>((done) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => done(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((done) => server.close(() => done())),
    };
  },
  fetch: async (manager, options) => {
    // handleFetch needs no server: the "URL" is a marker and requests go straight to it.
    const http = createSessionHttp(manager, options);
    const app = {
      url: 'fetch:',
      close: async () => {},
      handle: (request: Request) =>
        handleFetch(
          http,
          request,
          (req, session) =>
            new URL(req.url).pathname === '/miss'
              ? Response.json(missOf(session as RequestSession))
              : Response.json({ ok: true }),
          '127.0.0.1',
        ),
    };
    return app;
  },
};

/** Sends a request to a running app, or straight into handleFetch for the `fetch` one. */
async function send(app: App, path: string, init: RequestInit = {}): Promise<Response> {
  if (app.url === 'fetch:') {
    // A runtime's Request carries the Host header the client sent; here it is set by hand.
    const headers = new Headers(init.headers);
    headers.set('host', 'localhost');
    return (app as App & { handle(r: Request): Promise<Response> }).handle(
      new Request(`http://localhost${path}`, { ...init, headers }),
    );
  }
  return fetch(app.url + path, { redirect: 'manual', ...init });
}

const appPage = (r: Refusal) =>
  `<!doctype html><title>My app</title><main class="my-app"><h1>${r.status} ${escapeHtml(r.title)}</h1><p>${escapeHtml(r.message)}</p><p>${r.kind} at ${r.method} ${escapeHtml(r.path)}</p></main>`;

const HTML = { accept: 'text/html,application/xhtml+xml' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('refusalPage: the layer refuses in the app’s own page', () => {
  for (const [name, factory] of Object.entries(ADAPTERS)) {
    it(`${name}: the CSRF 403 and the store-outage 503 use the app's page; JSON clients get JSON`, async () => {
      const manager = createSessionManager({ cleanupInterval: false });
      const app = await factory(manager, { mode: 'development', refusalPage: appPage });
      // A store that is down: port with nothing listening.
      const down = createRedisStore({ port: await freePort(), connectTimeout: 200 });
      const broken = createSessionManager({ store: down, cleanupInterval: false });
      const brokenApp = await factory(broken, { mode: 'development', refusalPage: appPage });
      try {
        const page = await send(app, '/form', {
          method: 'POST',
          headers: { ...HTML, ...FORM },
          body: 'note=x',
        });
        assert.equal(page.status, 403);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        const html = await page.text();
        assert.match(html, /<main class="my-app">/);
        assert.match(html, /403 Forbidden: missing or invalid CSRF token/);
        assert.match(html, /csrf at POST \/form/);

        const api = await send(app, '/form', {
          method: 'POST',
          headers: { accept: 'application/json', ...FORM },
          body: 'note=x',
        });
        assert.equal(api.status, 403);
        assert.equal(((await api.json()) as { error: string }).error, 'csrf');

        const token = randomBytes(32).toString('base64url');
        const outage = await send(brokenApp, '/miss', {
          headers: { ...HTML, cookie: `tessera=${token}` },
        });
        assert.equal(outage.status, 503);
        assert.equal(outage.headers.get('retry-after'), '5');
        const outageHtml = await outage.text();
        assert.match(outageHtml, /<main class="my-app">/);
        assert.match(outageHtml, /503 Session service unavailable/);
        assert.match(outageHtml, /store_unavailable at GET \/miss/);
      } finally {
        await app.close();
        await brokenApp.close();
        await broken.close();
        await down.close();
        await manager.close();
      }
    });
  }

  it('a hook that returns nothing or throws leaves the built-in page (still a 403)', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const silent = await ADAPTERS.express!(manager, {
      mode: 'development',
      refusalPage: () => null,
    });
    const failing = await ADAPTERS.express!(manager, {
      mode: 'development',
      refusalPage: () => {
        throw new Error('template missing');
      },
    });
    try {
      for (const app of [silent, failing]) {
        const res = await send(app, '/form', {
          method: 'POST',
          headers: { ...HTML, ...FORM },
          body: 'x=1',
        });
        assert.equal(res.status, 403);
        assert.match(await res.text(), /<h1>403 Forbidden: missing or invalid CSRF token<\/h1>/);
      }
      assert.throws(
        () => createSessionHttp(manager, { refusalPage: 'nope' as never }),
        /refusalPage/,
      );
    } finally {
      await silent.close();
      await failing.close();
      await manager.close();
    }
  });
});

describe('session.miss: why the presented token no longer works', () => {
  let now = Date.now();
  let store: SqlStore;
  let manager: SessionManager;
  const apps: App[] = [];

  const missFor = async (app: App, token: string | null) => {
    const res = await send(app, '/miss', {
      headers: { accept: 'application/json', ...(token ? { cookie: `tessera=${token}` } : {}) },
    });
    return ((await res.json()) as { miss: unknown }).miss;
  };

  afterAll(async () => {
    for (const app of apps) await app.close();
    await manager?.close();
    await store?.close();
  });

  it('on SQL: administrator, another device, the per-user limit, log out everywhere, inactivity, lifetime', async () => {
    store = createSqlStore({
      url: `sqlite:${join(folder, 'miss.db')}`,
      table: `m_${randomBytes(4).toString('hex')}`,
    });
    manager = createSessionManager({
      store,
      cleanupInterval: false,
      idleTimeout: '30m',
      absoluteTimeout: '12h',
      maxSessionsPerUser: 2,
      clock: () => now,
    });
    for (const factory of Object.values(ADAPTERS))
      apps.push(await factory(manager, { mode: 'development' }));
    const [app] = apps as [App];

    const live = await manager.create({ userId: 'live' });
    assert.equal(await missFor(app, live.token), null, 'a live session has no miss');
    assert.equal(await missFor(app, null), null, 'no token, no miss');
    assert.deepEqual(await missFor(app, 'not-a-token'), {
      reason: 'malformed',
      terminationReason: null,
    });
    assert.deepEqual(await missFor(app, randomBytes(32).toString('base64url')), {
      reason: 'not_found',
      terminationReason: null,
    });

    const byAdmin = await manager.create({ userId: 'alice' });
    await manager.terminate(byAdmin.session.id, 'admin');
    // Every adapter exposes it the same way.
    for (const each of apps)
      assert.deepEqual(await missFor(each, byAdmin.token), {
        reason: 'terminated',
        terminationReason: 'admin',
      });

    const revoked = await manager.create({ userId: 'bob' });
    await manager.terminate(revoked.session.id, 'logout');
    assert.deepEqual(await missFor(app, revoked.token), {
      reason: 'terminated',
      terminationReason: 'logout',
    });

    // maxSessionsPerUser is 2: the third login evicts the least recently active.
    const first = await manager.create({ userId: 'carol' });
    now += 10;
    await manager.create({ userId: 'carol' });
    now += 10;
    await manager.create({ userId: 'carol' });
    assert.deepEqual(await missFor(app, first.token), {
      reason: 'terminated',
      terminationReason: 'limit',
    });

    const elsewhere = await manager.create({ userId: 'dave' });
    const here = await manager.create({ userId: 'dave' });
    await manager.terminateUser('dave', { exceptId: here.session.id, reason: 'logout-all' });
    assert.deepEqual(await missFor(app, elsewhere.token), {
      reason: 'terminated',
      terminationReason: 'logout-all',
    });

    const idle = await manager.create({ userId: 'erin' });
    const idleAfterCleanup = await manager.create({ userId: 'frank' });
    now += 31 * 60_000;
    assert.deepEqual(await missFor(app, idle.token), {
      reason: 'expired_idle',
      terminationReason: null,
    });
    // Cleanup retires it as a timeout; the reason stays the expiry.
    await manager.cleanup();
    assert.deepEqual(await missFor(app, idleAfterCleanup.token), {
      reason: 'expired_idle',
      terminationReason: null,
    });

    const old = await manager.create({ userId: 'grace' });
    for (let i = 0; i < 25; i++) {
      now += 29 * 60_000; // active every 29 minutes: only the 12-hour lifetime can end it
      if (i < 24) assert.ok((await manager.validate(old.token)).session, `alive at step ${i}`);
    }
    assert.deepEqual(await missFor(app, old.token), {
      reason: 'expired_absolute',
      terminationReason: null,
    });
  });

  it('a store without the reason (memory) still says terminated', async () => {
    const memory = createSessionManager({ store: createMemoryStore(), cleanupInterval: false });
    const app = await ADAPTERS.hono!(memory, { mode: 'development' });
    try {
      const issued = await memory.create({ userId: 'heidi' });
      await memory.terminate(issued.session.id, 'admin');
      assert.deepEqual(await missFor(app, issued.token), {
        reason: 'terminated',
        terminationReason: null,
      });
    } finally {
      await app.close();
      await memory.close();
    }
  });
});
