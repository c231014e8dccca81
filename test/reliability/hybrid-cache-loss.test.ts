/**
 * The hybrid store under HTTP load while its Redis cache is flushed, killed, restarted empty and
 * flushed again: zero sessions lost, zero acknowledged writes lost, and sessions logged out during
 * the run (cache up or down) never answer again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { dropTables } from '../stores/sql-shared.js';
import { redisCli, startRedis } from '../support/redis-servers.js';
import { requireCommand, requireService } from '../support/services.js';
import { login, runLoad, send, startApp, tally, watchUnhandled } from './support.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql'));
const table = `hl_${randomBytes(6).toString('hex')}`;
const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
const exec = async (text: string) => (await admin.query(text)).rows as Record<string, unknown>[];
afterAll(async () => {
  if (ok) await dropTables('postgres', exec, table);
  await admin.end();
});

describe.skipIf(!ok)('fault injection: hybrid store, cache flushed and restarted mid-run', () => {
  it('zero sessions lost, zero acknowledged writes lost, no logout undone', async () => {
    const redis = await startRedis();
    const flush = () => redisCli(['-p', String(redis.port), 'FLUSHALL']).then(() => {});
    const store = createHybridStore({
      cache: createRedisStore({
        port: redis.port,
        prefix: `hl-${randomBytes(4).toString('hex')}:`,
        connectTimeout: 400,
        commandTimeout: 400,
      }),
      database: createSqlStore({ url: pgUrl, table, timeout: 5000, poolSize: 6 }),
    });
    const app = await startApp(store);
    const unhandled = watchUnhandled();
    try {
      const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
      const tokens = await Promise.all(users.map((u) => login(app.url, u)));
      // Four of them log out during the run: two while the cache is up, two while it is down.
      const leaving = tokens.slice(0, 4);
      const leavingIds = await Promise.all(
        leaving.map(async (t) => (await send(app.url, 'GET', '/whoami', t)).body.id as string),
      );
      const loggedOutAt = new Map<string, number>();
      const logout = (i: number) => async () => {
        const a = await send(app.url, 'POST', '/logout', leaving[i]);
        assert.equal(a.outcome, 'ok', `logout ${a.problem ?? ''}`);
        loggedOutAt.set(leaving[i]!, performance.now());
      };
      const start = performance.now();
      const { records } = await runLoad({
        url: app.url,
        tokens,
        workers: 16,
        durationMs: 3400,
        deadlineMs: 8000,
        events: [
          [500, flush],
          [700, logout(0)],
          [900, logout(1)],
          [1200, () => redis.stop()],
          [1500, logout(2)],
          [1700, logout(3)],
          [2100, () => redis.start()],
          [2700, flush],
        ],
      });
      const t = tally(records);
      assert.deepEqual(t.problems, []);
      assert.equal(t.unavailable, 0, 'the database answered throughout');

      // No logout undone: a read that started after the logout never found that session.
      let resurrected = 0;
      for (const r of records) {
        const ended = loggedOutAt.get(r.token);
        if (ended === undefined || r.kind !== 'read') continue;
        if (start + r.at > ended && r.answer.body.id === leavingIds[leaving.indexOf(r.token)])
          resurrected++;
      }
      assert.equal(resurrected, 0, 'reads after a logout found the session');

      let sessionsLost = 0;
      const dataOf = new Map<string, Record<string, unknown>>();
      for (const [i, token] of tokens.entries()) {
        const who = await send(app.url, 'GET', '/whoami', token);
        if (leaving.includes(token)) {
          assert.equal(who.body.id, null, 'a logged-out session stays logged out');
          continue;
        }
        if (who.body.userId !== users[i]) sessionsLost++;
        dataOf.set(token, who.body.data as Record<string, unknown>);
      }
      let acknowledged = 0;
      let writesLost = 0;
      for (const r of records) {
        if (r.kind !== 'write' || r.answer.outcome !== 'ok' || leaving.includes(r.token)) continue;
        assert.notEqual(r.answer.body.id, null, 'a live session was never missed');
        acknowledged++;
        if (dataOf.get(r.token)?.[r.key!] !== r.value) writesLost++;
      }
      assert.equal(sessionsLost, 0, 'sessions lost');
      assert.equal(writesLost, 0, `acknowledged writes lost (of ${acknowledged})`);
      assert.deepEqual(unhandled.errors, []);
      console.info(
        `[reliability] hybrid cache flushed ×2, killed, restarted empty: ${t.requests} requests, ${t.status500} × 500, ${t.unavailable} × 503, sessions lost ${sessionsLost}, acknowledged writes ${acknowledged}, lost ${writesLost}, logouts undone ${resurrected}`,
      );
    } finally {
      unhandled.stop();
      await app.close();
      await redis.stop();
    }
  });
});
