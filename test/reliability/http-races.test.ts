/**
 * The contract suite's concurrency guarantees, checked again through HTTP (Hono adapter on a real
 * server) for every store that keeps them: memory, Redis, SQL (PostgreSQL), hybrid and fallback.
 * - 200 concurrent logins of one user with a limit of 5 leave exactly 5 live sessions.
 * - A logout racing in-flight requests is never undone.
 * - 100 concurrent delta writes on one session keep every key.
 * - A regenerate racing requests with the old token (another regenerate included) leaves exactly
 *   one live session.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SessionStore } from '../../src/core/types.js';
import { createFallbackStore } from '../../src/stores/fallback.js';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { dropTables } from '../stores/sql-shared.js';
import { requireService } from '../support/services.js';
import { type Answer, login, send, startApp, type TestApp, watchUnhandled } from './support.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const redisOk = await requireService(
  'Redis',
  '127.0.0.1',
  6379,
  'apt-get install -y redis-server && redis-server --daemonize yes',
);
const pgOk = await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql');
const table = `hr_${randomBytes(6).toString('hex')}`;
const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
afterAll(async () => {
  if (pgOk) await dropTables('postgres', async (q) => (await admin.query(q)).rows, table);
  await admin.end();
});

// The shared Redis on 6379: every store gets its own key prefix and nothing is flushed. The local
// cache is on by default; the races run with it off too.
const redis = (localCache = true) =>
  createRedisStore({
    port: 6379,
    prefix: `races-${randomBytes(4).toString('hex')}:`,
    commandTimeout: 5000,
    localCache,
  });
// 200 logins of one user serialise on the user's lock row: generous timeout, the test is about atomicity.
const sql = () => createSqlStore({ url: pgUrl, table, timeout: 15_000, poolSize: 6 });

const stores: { name: string; needs: boolean; make: () => SessionStore }[] = [
  { name: 'memory', needs: true, make: () => createMemoryStore() },
  { name: 'redis (local cache on)', needs: redisOk, make: () => redis(true) },
  { name: 'redis (local cache off)', needs: redisOk, make: () => redis(false) },
  { name: 'sql (PostgreSQL)', needs: pgOk, make: sql },
  {
    name: 'hybrid (Redis + PostgreSQL)',
    needs: redisOk && pgOk,
    make: () => createHybridStore({ cache: redis(), database: sql() }),
  },
  {
    name: 'fallback (Redis → PostgreSQL)',
    needs: redisOk && pgOk,
    make: () => createFallbackStore({ primary: redis(), secondary: sql() }),
  },
];

const user = () => `u-${randomBytes(6).toString('hex')}`;
const allOk = (answers: Answer[]) =>
  assert.deepEqual(
    answers.filter((a) => a.outcome !== 'ok').map((a) => a.problem),
    [],
    'every request answered 200',
  );

for (const { name, needs, make } of stores) {
  describe.skipIf(!needs)(`HTTP races: ${name}`, () => {
    let app: TestApp;
    let unhandled: ReturnType<typeof watchUnhandled>;
    beforeAll(async () => {
      app = await startApp(make(), { maxSessionsPerUser: 5 });
      unhandled = watchUnhandled();
    });
    afterAll(async () => {
      unhandled.stop();
      await app?.close();
      assert.deepEqual(unhandled.errors, [], 'no unhandled rejection');
    });

    it('200 concurrent logins of one user with a limit of 5 leave exactly 5', async () => {
      const u = user();
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => send(app.url, 'POST', `/login?user=${u}`, null, 20_000)),
      );
      allOk(answers);
      assert.equal((await app.manager.listUserSessions(u)).length, 5);
      // Exactly 5 of the 200 tokens still open a session.
      const who = await Promise.all(
        answers.map((a) => send(app.url, 'GET', '/whoami', a.body.token as string)),
      );
      allOk(who);
      assert.equal(who.filter((w) => w.body.userId === u).length, 5);
    });

    it('a logout racing in-flight requests is never undone', async () => {
      for (let round = 0; round < 3; round++) {
        const u = user();
        const token = await login(app.url, u);
        const id = (await send(app.url, 'GET', '/whoami', token)).body.id as string;
        let loggedOutAt = Number.POSITIVE_INFINITY;
        const requests = Array.from({ length: 30 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i % 6));
          const started = performance.now();
          const a =
            i % 2 === 0
              ? await send(app.url, 'GET', '/whoami', token)
              : await send(app.url, 'POST', `/set?key=k${i}&value=${i}`, token);
          return { a, started };
        });
        const logout = (async () => {
          await new Promise((r) => setTimeout(r, 3));
          const a = await send(app.url, 'POST', '/logout', token);
          loggedOutAt = performance.now();
          return a;
        })();
        const [results, out] = await Promise.all([Promise.all(requests), logout]);
        assert.equal(out.outcome, 'ok');
        allOk(results.map((r) => r.a));
        for (const { a, started } of results)
          if (started > loggedOutAt) assert.notEqual(a.body.id, id, 'found after the logout');
        assert.equal((await send(app.url, 'GET', '/whoami', token)).body.id, null);
        assert.equal((await app.manager.store.get(id, Date.now())).record, null, `round ${round}`);
        assert.deepEqual(await app.manager.listUserSessions(u), []);
      }
    });

    it('100 concurrent delta writes on one session keep every key', async () => {
      const token = await login(app.url, user());
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          send(app.url, 'POST', `/set?key=k${i}&value=v${i}`, token, 20_000),
        ),
      );
      allOk(answers);
      const data = (await send(app.url, 'GET', '/whoami', token)).body.data as Record<
        string,
        string
      >;
      const missing = Array.from({ length: 100 }, (_, i) => `k${i}`).filter(
        (k) => data[k] !== `v${k.slice(1)}`,
      );
      assert.deepEqual(missing, []);
    });

    it('a regenerate racing requests with the old token leaves exactly one live session', async () => {
      for (let round = 0; round < 3; round++) {
        const u = user();
        const old = await login(app.url, u);
        const racing = Array.from({ length: 20 }, (_, i) =>
          i % 5 === 0
            ? send(app.url, 'POST', '/regenerate', old)
            : i % 2 === 0
              ? send(app.url, 'GET', '/whoami', old)
              : send(app.url, 'POST', `/set?key=k${i}&value=${i}`, old),
        );
        const answers = await Promise.all(racing);
        allOk(answers);
        const live = await app.manager.listUserSessions(u);
        assert.equal(live.length, 1, `round ${round}: ${live.length} live sessions`);
        assert.equal((await send(app.url, 'GET', '/whoami', old)).body.id, null, 'old token dead');
        const issued = answers.flatMap((a) =>
          typeof a.body.token === 'string' ? [a.body.token] : [],
        );
        const valid = await Promise.all(issued.map((t) => send(app.url, 'GET', '/whoami', t)));
        assert.equal(valid.filter((v) => v.body.userId === u).length, 1, 'one new token works');
      }
    });

    it('a logout racing a regenerate never leaves a live session', async () => {
      for (let round = 0; round < 6; round++) {
        const u = user();
        const token = await login(app.url, u);
        const [before] = await app.manager.listUserSessions(u);
        await new Promise((r) => setTimeout(r, 2)); // a session created now has a later createdAt
        const answers = await Promise.all([
          send(app.url, 'POST', '/regenerate', token),
          send(app.url, 'POST', '/logout', token),
        ]);
        allOk(answers);
        // Either the logout ended the old session before the regenerate (nothing to move) or the
        // regenerate won and the logout found the old token dead: then the new session is the
        // user's one live session, reached only through the token the regenerate answered.
        const live = await app.manager.listUserSessions(u);
        const regenerated = answers[0]!.body;
        if (live.length > 0) {
          assert.equal(live.length, 1);
          assert.equal(regenerated.exists, true);
          const who = await send(app.url, 'GET', '/whoami', regenerated.token as string);
          assert.equal(who.body.id, live[0]!.id);
          // A moved session keeps its creation time; a fresh one minted after the logout would not.
          assert.equal(live[0]!.createdAt, before!.createdAt, 'a session was created after logout');
        }
      }
    });
  });
}
