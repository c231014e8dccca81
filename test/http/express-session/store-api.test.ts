/**
 * TesseraStore's Store methods called as express-session calls them, on memory, Redis, SQLite and
 * PostgreSQL (issue 13): touch persists the cookie, set stores again after destroy / clear /
 * expiry and never fails under concurrency, an expiry at or before now destroys, the owner follows
 * every set, all() answers ids, and what express-session puts in a session (nested objects,
 * unicode, 5 MB values, Dates) comes back as MemoryStore returns it.
 */
import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { sessionIdFor } from '../../../src/core/tokens.js';
import { backends, cleanUpBackends, sessionFor, tesseraStore } from './backends.js';

declare module 'express-session' {
  interface SessionData {
    n?: number;
  }
}

afterAll(cleanUpBackends);

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

for (const backend of await backends()) {
  describe.skipIf(!backend.enabled)(`TesseraStore over ${backend.name}: Store API`, () => {
    it('touch writes the new cookie: get returns the touched expiry, and the record slides to it', async () => {
      const s = await tesseraStore(backend);
      try {
        const now = Date.now();
        await s.set('sid-touch', sessionFor({ views: 1 }, MIN, now));
        const later = new Date(now + 30 * MIN);
        await s.touch('sid-touch', {
          cookie: { originalMaxAge: 30 * MIN, expires: later, httpOnly: true, path: '/' },
          views: 1,
        });
        const got = await s.get('sid-touch');
        assert.equal(new Date(got!.cookie.expires as unknown as string).getTime(), later.getTime());
        assert.equal(got!.cookie.originalMaxAge, 30 * MIN);
        const record = (await s.backing.get(sessionIdFor('sid-touch'), Date.now())).record;
        assert.equal(record?.idleExpiresAt, later.getTime());
        // A touch never brings back a session that is gone (MemoryStore's touch does not either).
        await s.destroy('sid-touch');
        await s.touch('sid-touch', sessionFor({ views: 1 }));
        assert.equal(await s.get('sid-touch'), null);
      } finally {
        await s.close();
      }
    });

    it('a cookie whose lifetime grew ("remember me") is followed by set and by touch', async () => {
      let time = Date.now();
      const s = await tesseraStore(backend, { clock: () => time });
      const idOf = (sid: string) => sessionIdFor(sid);
      try {
        // Saved with a one-minute cookie, then the app sets cookie.maxAge to 30 days and saves.
        await s.set('sid-grow', sessionFor({ n: 1 }, MIN, time));
        await s.set('sid-grow', sessionFor({ n: 2 }, 30 * DAY, time));
        const saved = (await s.backing.get(idOf('sid-grow'), time)).record;
        assert.equal(saved?.idleExpiresAt, time + 30 * DAY);
        time += 2 * MIN; // past the first one-minute window
        await s.touch('sid-grow', sessionFor({ n: 2 }, 30 * DAY, time));
        const touched = (await s.backing.get(idOf('sid-grow'), time)).record;
        assert.equal(touched?.idleExpiresAt, time + 30 * DAY, 'each touch slides 30 days');
        time += 20 * DAY;
        assert.equal((await s.get('sid-grow'))?.n, 2);

        // Grown by a touch alone (a cookie change does not modify the session for express-session).
        await s.set('sid-grow-touch', sessionFor({ n: 3 }, MIN, time));
        time += 30_000;
        await s.touch('sid-grow-touch', sessionFor({ n: 3 }, 7 * DAY, time));
        time += 2 * DAY;
        assert.equal((await s.get('sid-grow-touch'))?.n, 3, 'the seven-day cookie is followed');
      } finally {
        await s.close();
      }
    });

    it('the record expires with the cookie however long a request took to reach the store', async () => {
      let time = Date.now();
      const s = await tesseraStore(backend, { clock: () => time });
      try {
        // express-session reset the cookie 800 ms before this slow request's set reached the store.
        await s.set('sid-slow', sessionFor({ n: 1 }, MIN, time - 800));
        time += 5_000;
        await s.touch('sid-slow', sessionFor({ n: 1 }, MIN, time)); // a fast one
        const record = (await s.backing.get(sessionIdFor('sid-slow'), time)).record;
        assert.equal(record?.idleExpiresAt, time + MIN);
        assert.equal(record?.lastSeenAt, time);
      } finally {
        await s.close();
      }
    });

    it('set stores the session again after destroy, after clear and after it expired', async () => {
      let time = Date.now();
      const s = await tesseraStore(backend, { clock: () => time });
      try {
        await s.set('sid-again', sessionFor({ n: 1 }, MIN, time));
        await s.destroy('sid-again');
        assert.equal(await s.get('sid-again'), null);
        await s.set('sid-again', sessionFor({ n: 2 }, MIN, time));
        assert.equal((await s.get('sid-again'))?.n, 2, 'stored again after destroy');

        await s.clear();
        await s.set('sid-again', sessionFor({ n: 3 }, MIN, time));
        assert.equal((await s.get('sid-again'))?.n, 3, 'stored again after clear');

        time += 2 * MIN; // expired, no cleanup run
        assert.equal(await s.get('sid-again'), null);
        await s.set('sid-again', sessionFor({ n: 4 }, MIN, time));
        assert.equal((await s.get('sid-again'))?.n, 4, 'stored again after it expired');
        assert.equal(await s.length(), 1);
      } finally {
        await s.close();
      }
    });

    it('concurrent sets of one new id all succeed and one of them is stored whole', async () => {
      const s = await tesseraStore(backend);
      try {
        const sessions = Array.from({ length: 12 }, (_, i) =>
          sessionFor({ n: i, [`only${i}`]: true, userId: i % 2 ? 'alice' : 'bob' }),
        );
        await Promise.all(sessions.map((sess) => s.set('sid-race', sess)));
        const got = await s.get('sid-race');
        const n = got?.n as number;
        assert.ok(Number.isInteger(n), 'one of the sessions is stored');
        assert.equal(got?.[`only${n}` as never], true);
        assert.equal(Object.keys(got!).filter((k) => k.startsWith('only')).length, 1);
        const owner = n % 2 ? 'alice' : 'bob';
        const other = n % 2 ? 'bob' : 'alice';
        assert.equal((await s.backing.listUser(owner, Date.now())).length, 1);
        assert.deepEqual(await s.backing.listUser(other, Date.now()), []);
      } finally {
        await s.close();
      }
    });

    it('a set or touch whose cookie expiry is at or before now destroys the session', async () => {
      const now = Date.now();
      const s = await tesseraStore(backend, { clock: () => now });
      try {
        await s.set('sid-past', sessionFor({ a: 1 }, -1000, now));
        assert.equal(await s.get('sid-past'), null, 'an expired cookie is not stored');
        assert.equal(await s.length(), 0);

        await s.set('sid-past', sessionFor({ a: 2 }, MIN, now));
        await s.set('sid-past', sessionFor({ a: 3 }, 0, now));
        assert.equal(await s.get('sid-past'), null, 'a set expiring now destroys it');

        await s.set('sid-past', sessionFor({ a: 4 }, MIN, now));
        await s.touch('sid-past', sessionFor({ a: 4 }, -1, now));
        assert.equal(await s.get('sid-past'), null, 'a touch past its expiry destroys it');
        assert.equal(await s.length(), 0);
      } finally {
        await s.close();
      }
    });

    it("the owner is read on every set: the session moves between users' lists", async () => {
      const s = await tesseraStore(backend);
      try {
        const id = sessionIdFor('sid-owner');
        const listed = async (user: string) =>
          (await s.backing.listUser(user, Date.now())).map((r) => r.id);
        await s.set('sid-owner', sessionFor({ views: 1 }));
        assert.equal((await s.backing.get(id, Date.now())).record?.userId, null);
        await s.set('sid-owner', sessionFor({ views: 2, userId: 'alice' }));
        assert.deepEqual(await listed('alice'), [id], 'a login without regenerate is listed');
        await s.set('sid-owner', sessionFor({ views: 3, userId: 'bob' }));
        assert.deepEqual(await listed('alice'), [], 'no longer listed under the former user');
        assert.deepEqual(await listed('bob'), [id]);
        await s.set('sid-owner', sessionFor({ views: 4 }));
        assert.deepEqual(await listed('bob'), [], 'a logout leaves the list');
        await s.set('sid-owner', sessionFor({ views: 5, userId: 'bob' }));
        assert.deepEqual(
          await s.backing.destroyUser('bob', { reason: 'logout-all', now: Date.now() }),
          [id],
          '"log out everywhere" ends it',
        );
        assert.equal(await s.get('sid-owner'), null);
      } finally {
        await s.close();
      }
    });

    it('userIdOf decides the owner (here: passport.user)', async () => {
      const s = await tesseraStore(backend, {
        userIdOf: (sess) => (sess as { passport?: { user?: string } }).passport?.user ?? null,
      });
      try {
        await s.set('sid-passport', sessionFor({ passport: { user: 'carol' } }));
        const mine = await s.backing.listUser('carol', Date.now());
        assert.deepEqual(
          mine.map((r) => r.id),
          [sessionIdFor('sid-passport')],
        );
      } finally {
        await s.close();
      }
    });

    it('all() answers every session with its id over many pages; length and clear agree', async () => {
      const s = await tesseraStore(backend);
      try {
        const count = 1_050; // past two pages of 500
        for (let i = 0; i < count; i += 50)
          await Promise.all(
            Array.from({ length: Math.min(50, count - i) }, (_, j) =>
              s.set(`sid-many-${i + j}`, sessionFor({ n: i + j })),
            ),
          );
        const all = await s.all();
        assert.ok(Array.isArray(all), 'an array, as express-session documents all()');
        assert.equal(all.length, count);
        assert.equal(await s.length(), count);
        const byId = new Map(all.map((sess) => [sess.id, sess]));
        assert.equal(byId.size, count, 'every id once');
        for (const i of [0, 499, 500, 1_049])
          assert.equal(byId.get(sessionIdFor(`sid-many-${i}`))?.n, i, `session ${i} under its id`);
        await s.clear();
        assert.equal(await s.length(), 0);
        assert.deepEqual(await s.all(), []);
      } finally {
        await s.close();
      }
    }, 60_000);

    it('nested objects, unicode, Dates and a 5 MB value come back as MemoryStore returns them', async () => {
      const s = await tesseraStore(backend);
      try {
        const when = new Date('2024-02-29T12:34:56.789Z');
        const big = `${'x'.repeat(5 * 1024 * 1024)}✓`;
        const sess = sessionFor({
          nested: { a: { b: [1, { c: null, d: true }] } },
          'ключ 🔑': 'значение 😀 \u2028 "quoted" \\ back',
          when,
          big,
        });
        await s.set('sid-values', sess);
        const got = (await s.get('sid-values')) as unknown as Record<string, unknown>;
        // express-session stores JSON: a Date comes back as its ISO string, as from MemoryStore.
        assert.deepEqual(got, JSON.parse(JSON.stringify(sess)));
        assert.equal(got.when, when.toISOString());
        assert.equal((got.big as string).length, big.length);
      } finally {
        await s.close();
      }
    }, 60_000);
  });
}
