/**
 * express-session itself, unmodified, on TesseraStore over real Tessera stores: memory, Redis (the
 * shared server, under a random key prefix), SQLite (a file in a temporary folder) and PostgreSQL
 * (its own table): data across requests, regenerate, destroy, ids hashed at rest, and the Store
 * methods express-session's MemoryStore offers beyond get/set/destroy.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { TesseraStore } from '../../../src/adapters/express-session.js';
import { sessionIdFor } from '../../../src/core/tokens.js';
import type { SessionStore } from '../../../src/core/types.js';
import { backends, cleanUpBackends } from './backends.js';

const promisify =
  <T>(fn: (cb: (err?: unknown, v?: T) => void) => void) =>
  () =>
    new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

function suite(name: string, makeStore: () => Promise<SessionStore>, enabled = true) {
  describe.skipIf(!enabled)(`express-session on TesseraStore over ${name}`, () => {
    let server: Server;
    let url = '';
    let backing: SessionStore;
    let store: TesseraStore;
    beforeAll(async () => {
      backing = await makeStore();
      store = new TesseraStore({ store: backing });
      const app = express();
      app.use(
        session({
          store,
          secret: 'test secret',
          resave: false,
          saveUninitialized: false,
          rolling: true,
          cookie: { maxAge: 60_000 },
        }),
      );
      app.get('/view', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.json({ views: req.session.views, userId: req.session.userId ?? null });
      });
      app.get('/peek', (req, res) => {
        res.json({ views: req.session.views ?? null });
      });
      app.get('/login', (req, res, next) => {
        const views = req.session.views;
        req.session.regenerate((err) => {
          if (err) return next(err);
          req.session.userId = 'alice';
          req.session.views = views;
          res.json({ ok: true });
        });
      });
      app.get('/logout', (req, res, next) => {
        req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
      });
      server = await new Promise<Server>((r) => {
        const s = app.listen(0, '127.0.0.1', () => r(s));
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server?.close(r));
      await backing?.close();
    });

    async function get(path: string, cookie?: string) {
      const res = await fetch(url + path, { headers: cookie ? { cookie } : {} });
      const set = res.headers.getSetCookie()[0]?.split(';')[0];
      return { body: (await res.json()) as Record<string, unknown>, cookie: set ?? cookie };
    }

    it('keeps data across requests, regenerates and destroys', async () => {
      const first = await get('/view');
      assert.equal(first.body.views, 1);
      assert.ok(first.cookie?.startsWith('connect.sid='));
      const second = await get('/view', first.cookie);
      assert.equal(second.body.views, 2);
      const login = await get('/login', second.cookie);
      assert.notEqual(login.cookie, second.cookie, 'regenerate issues a new id');
      assert.equal((await get('/peek', second.cookie)).body.views, null, 'the old id is gone');
      const third = await get('/view', login.cookie);
      assert.deepEqual(third.body, { views: 3, userId: 'alice' });
      await get('/logout', login.cookie);
      assert.equal((await get('/peek', login.cookie)).body.views, null);
    });

    it('the backing store holds hashed ids and the user, never the express-session id', async () => {
      const a = await get('/view');
      const login = await get('/login', a.cookie);
      const sid = decodeURIComponent(login.cookie!.split('=')[1]!).slice(2).split('.')[0]!;
      const sessions = await backing.listUser('alice', Date.now());
      assert.ok(sessions.length >= 1);
      assert.ok(sessions.every((s) => /^[0-9a-f]{64}$/.test(s.id) && s.id !== sid));
      assert.ok(!JSON.stringify(sessions).includes(sid));
    });

    it('touch slides the expiry to the cookie’s; all, length and clear work', async () => {
      const a = await get('/view');
      const sid = decodeURIComponent(a.cookie!.split('=')[1]!).slice(2).split('.')[0]!;
      const data = await promisify<session.SessionData | null>((cb) => store.get(sid, cb))();
      assert.equal(data?.views, 1);
      const expires = new Date(Date.now() + 3_600_000);
      await new Promise<void>((r) =>
        store.touch(sid, { ...data!, cookie: { ...data!.cookie, expires } as session.Cookie }, () =>
          r(),
        ),
      );
      const found = await backing.get(sessionIdFor(sid), Date.now());
      assert.ok(found.record);
      assert.ok(
        Math.abs(found.record.idleExpiresAt - expires.getTime()) < 2000,
        'expiry slid to the cookie',
      );
      const count = await promisify<number>((cb) => store.length(cb))();
      assert.ok(count >= 1);
      const all = await promisify<session.SessionData[]>((cb) => store.all(cb as never))();
      assert.equal(all.length, count);
      await promisify<void>((cb) => store.clear(cb))();
      assert.equal(await promisify<number>((cb) => store.length(cb))(), 0);
      assert.equal((await get('/peek', a.cookie)).body.views, null);
    });
  });
}

afterAll(cleanUpBackends);
for (const backend of await backends()) suite(backend.name, backend.make, backend.enabled);
