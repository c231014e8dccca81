/**
 * express-session apps on TesseraStore, over memory, Redis, SQLite and PostgreSQL (issue 13):
 * a login without `regenerate` and "log out everywhere", `touch()`, `reload()` after the store was
 * cleared, a cookie that expired during the request, `regenerate`/`reload`/`save`, `rolling`,
 * `resave: false`, `saveUninitialized: false`, `cookie.maxAge` as the idle timeout, and Dates,
 * nested objects and unicode in the session.
 */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import type session from 'express-session';
import { afterAll, describe, it } from 'vitest';
import { sessionIdFor } from '../../../src/core/tokens.js';
import {
  type Backend,
  backends,
  browser,
  cleanUpBackends,
  startApp,
  tesseraStore,
} from './backends.js';

declare module 'express-session' {
  interface SessionData {
    note?: string;
    when?: Date | string;
    nested?: unknown;
  }
}

afterAll(cleanUpBackends);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The routes every test's app has. */
function routes(app: Express, s: Awaited<ReturnType<typeof tesseraStore>>) {
  app.get('/view', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views, userId: req.session.userId ?? null });
  });
  app.get('/peek', (req, res) =>
    res.json({ views: req.session.views ?? null, note: req.session.note ?? null }),
  );
  app.get('/login', (req, res) => {
    req.session.userId = String(req.query.user); // the usual login without regenerate
    res.json({ ok: true });
  });
  app.get('/logout', (req, res) => {
    delete req.session.userId;
    res.json({ ok: true });
  });
  app.get('/touch', (req, res) => {
    req.session.touch();
    res.json({ ok: true });
  });
  app.get('/reload-after-clear', (req, res) => {
    s.store.clear(() => {
      req.session.reload((err) => {
        if (err) res.status(500).send('failed to load session');
        else res.json({ views: req.session.views ?? null });
      });
    });
  });
  app.get('/expire-now', (req, res) => {
    req.session.views = 99;
    req.session.cookie.maxAge = -1000; // the cookie expired while the request ran
    res.json({ ok: true });
  });
  app.get('/regenerate', (req, res, next) => {
    const views = req.session.views;
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.views = views;
      res.json({ ok: true });
    });
  });
  app.get('/save', (req, res, next) => {
    req.session.note = 'saved';
    req.session.save(async (err) => {
      if (err) return next(err);
      // Saved before the response: the store holds it now.
      const stored = await new Promise<session.SessionData | null | undefined>((r) =>
        s.store.get(req.sessionID, (_e, v) => r(v)),
      );
      res.json({ stored: stored?.note ?? null });
    });
  });
  app.get('/reload', (req, res, next) => {
    const changed = { ...req.session, views: 42 } as unknown as session.SessionData;
    s.store.set(req.sessionID, changed, (err) => {
      if (err) return next(err);
      req.session.reload((e) => (e ? next(e) : res.json({ views: req.session.views })));
    });
  });
  app.get('/slow-read', async (req, res) => {
    await sleep(Number(req.query.ms));
    res.json({ views: req.session.views ?? null });
  });
  app.get('/write', (req, res) => {
    req.session.note = String(req.query.note);
    res.json({ ok: true });
  });
  app.get('/rich', (req, res) => {
    req.session.when = new Date('2024-02-29T12:34:56.789Z');
    req.session.nested = { list: [1, { deep: 'ä 😀 \u2028' }], empty: {} };
    res.json({ ok: true });
  });
  app.get('/rich-read', (req, res) => {
    res.json({ when: req.session.when, type: typeof req.session.when, nested: req.session.nested });
  });
}

/** Runs `fn` with an app over a fresh store on `backend`, with these express-session options. */
async function withApp(
  backend: Backend,
  options: Partial<session.SessionOptions>,
  fn: (
    client: ReturnType<typeof browser>,
    s: Awaited<ReturnType<typeof tesseraStore>>,
    errors: unknown[],
  ) => Promise<void>,
) {
  const s = await tesseraStore(backend);
  const app = await startApp(s.store, options, (a) => routes(a, s));
  try {
    await fn(browser(app.url), s, app.errors);
  } finally {
    await app.close();
    await s.close();
  }
}

const storedExpiry = async (s: Awaited<ReturnType<typeof tesseraStore>>, sid: string) =>
  (await s.backing.get(sessionIdFor(sid), Date.now())).record?.idleExpiresAt;

for (const backend of await backends()) {
  describe.skipIf(!backend.enabled)(
    `express-session apps on TesseraStore over ${backend.name}`,
    () => {
      it('a login without regenerate is listed under the user; log out everywhere ends it', () =>
        withApp(backend, { cookie: { maxAge: 60_000 } }, async (client, s) => {
          await client.get('/view');
          await client.get('/login?user=alice');
          const id = sessionIdFor(client.sid!);
          const listed = async (u: string) =>
            (await s.backing.listUser(u, Date.now())).map((r) => r.id);
          assert.deepEqual(await listed('alice'), [id]);
          await client.get('/logout');
          assert.deepEqual(await listed('alice'), [], 'a logout leaves the list');
          await client.get('/login?user=alice');
          assert.deepEqual(
            await s.backing.destroyUser('alice', { reason: 'logout-all', now: Date.now() }),
            [id],
          );
          assert.deepEqual(
            (await client.get('/view')).body,
            { views: 1, userId: null },
            'logged out',
          );
        }));

      it("touch() writes the new expiry: the store's get returns it", () =>
        withApp(backend, { cookie: { maxAge: 60_000 } }, async (client, s) => {
          await client.get('/view');
          const first = await s.get(client.sid!);
          await sleep(30);
          await client.get('/touch');
          const second = await s.get(client.sid!);
          assert.ok(
            new Date(second!.cookie.expires!).getTime() >
              new Date(first!.cookie.expires!).getTime(),
            'the stored cookie expiry moved',
          );
          assert.equal(
            await storedExpiry(s, client.sid!),
            new Date(second!.cookie.expires!).getTime(),
          );
        }));

      it('reload() after the store was cleared answers the app, and the save after it succeeds', () =>
        withApp(backend, { resave: true }, async (client, s, errors) => {
          await client.get('/view');
          const res = await client.get('/reload-after-clear');
          assert.equal(res.status, 500);
          assert.equal(res.body, 'failed to load session');
          await sleep(50); // express-session saves (resave) after the response
          assert.deepEqual(errors, [], 'the save of a cleared id did not fail');
          assert.equal((await s.get(client.sid!))?.views, 1, 'stored again, as MemoryStore does');
        }));

      it('a cookie that expired during the request is not stored: replaying it finds no session', () =>
        withApp(backend, { cookie: { maxAge: 60_000 } }, async (client, s) => {
          await client.get('/view');
          const [sid, cookie] = [client.sid!, client.cookie];
          await client.get('/expire-now');
          assert.equal(await s.get(sid), null);
          assert.equal(await s.length(), 0);
          client.cookie = cookie; // a client that keeps sending the expired cookie
          assert.equal((await client.get('/peek')).body.views, null);
        }));

      it('regenerate, save and reload', () =>
        withApp(backend, { cookie: { maxAge: 60_000 } }, async (client, s) => {
          await client.get('/view');
          const before = client.sid!;
          await client.get('/regenerate');
          assert.notEqual(client.sid, before, 'a new id');
          assert.equal(await s.get(before), null, 'the old id is gone');
          assert.equal((await client.get('/view')).body.views, 2, 'the data carried over');
          assert.deepEqual((await client.get('/save')).body, { stored: 'saved' });
          assert.deepEqual((await client.get('/reload')).body, { views: 42 });
        }));

      it('rolling: true sends the cookie on every response and slides the stored expiry', () =>
        withApp(backend, { rolling: true, cookie: { maxAge: 60_000 } }, async (client, s) => {
          await client.get('/view');
          const first = await storedExpiry(s, client.sid!);
          await sleep(30);
          const res = await client.get('/peek');
          assert.ok(res.setCookie, 'the cookie is sent again');
          const second = await storedExpiry(s, client.sid!);
          assert.ok(first && second && second > first, `expiry slid from ${first} to ${second}`);
        }));

      it('resave: false never writes an unmodified session over a concurrent change', () =>
        withApp(backend, { resave: false, cookie: { maxAge: 60_000 } }, async (client) => {
          await client.get('/view');
          const slow = client.get('/slow-read?ms=300'); // loaded before the write, unmodified
          await sleep(50);
          await client.get('/write?note=kept');
          await slow;
          assert.deepEqual((await client.get('/peek')).body, { views: 1, note: 'kept' });
        }));

      it('saveUninitialized: false stores nothing for a visit that does not use the session', () =>
        withApp(backend, { saveUninitialized: false }, async (client, s) => {
          const res = await client.get('/peek');
          assert.equal(res.setCookie, undefined);
          assert.equal(await s.length(), 0);
          await client.get('/view');
          assert.equal(await s.length(), 1);
        }));

      it('cookie.maxAge is the idle timeout: activity slides it, inactivity ends it before any cleanup', () =>
        withApp(backend, { rolling: true, cookie: { maxAge: 700 } }, async (client, s) => {
          const started = Date.now();
          await client.get('/view');
          const expiry = (await storedExpiry(s, client.sid!))!;
          assert.ok(Math.abs(expiry - (started + 700)) < 300, 'the record expires with the cookie');
          await sleep(400);
          await client.get('/view');
          await sleep(400); // 800 ms after the first request, 400 after the last
          assert.equal((await client.get('/view')).body.views, 3, 'activity kept it alive');
          const sid = client.sid!;
          await sleep(900);
          assert.equal(await s.get(sid), null, 'idle past maxAge: gone');
          assert.equal((await client.get('/peek')).body.views, null);
        }));

      it('Dates, nested objects and unicode come back as express-session serialises them', () =>
        withApp(backend, { cookie: { maxAge: 60_000 } }, async (client) => {
          await client.get('/rich');
          assert.deepEqual((await client.get('/rich-read')).body, {
            when: '2024-02-29T12:34:56.789Z',
            type: 'string',
            nested: { list: [1, { deep: 'ä 😀 \u2028' }], empty: {} },
          });
        }));
    },
  );
}
