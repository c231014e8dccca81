/**
 * A slow backend: a TCP proxy written here holds the server's replies back beyond the store's
 * timeout. Callers get `StoreUnavailableError` within the configured timeout (Redis and
 * PostgreSQL), the HTTP layer answers a clear 503 in time, and once replies are prompt again the
 * same store works without being rebuilt. Also: a call that gave up while Redis was down never
 * runs later, when Redis returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/core/types.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import { dropTables } from '../stores/sql-shared.js';
import { type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { requireCommand, requireService } from '../support/services.js';
import { type DelayProxy, login, send, startApp, startDelayProxy } from './support.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql'));
const table = `sb_${randomBytes(6).toString('hex')}`;
const HOUR = 3_600_000;
const SLACK = 250;

let redis: StandaloneRedis;
const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
beforeAll(async () => {
  if (ok) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  if (ok) await dropTables('postgres', async (q) => (await admin.query(q)).rows, table);
  await admin.end();
});

/** Every operation rejects with StoreUnavailableError within `timeout` + slack. */
async function assertUnavailableInTime(store: SessionStore, timeout: number): Promise<void> {
  const now = Date.now();
  const r = sampleRecord({}, now);
  const ops: [string, () => Promise<unknown>][] = [
    ['create', () => store.create(r, { maxSessionsPerUser: 5, now })],
    ['get', () => store.get(r.id, now, { touchAfter: 0, idleTimeout: HOUR })],
    ['patch', () => store.patch(r.id, { set: { a: 1 } }, now)],
    ['destroy', () => store.destroy(r.id, 'logout', now)],
    ['listUser', () => store.listUser('u', now)],
  ];
  for (const [name, op] of ops) {
    const started = performance.now();
    await assert.rejects(op(), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError, `${name}: ${String(err)}`);
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took <= timeout + SLACK, `${name} took ${Math.round(took)} ms, timeout ${timeout}`);
  }
  const started = performance.now();
  assert.equal((await store.health()).ok, false);
  assert.ok(performance.now() - started <= timeout + SLACK, 'health in time');
}

/** The store answers again once replies are prompt (within `within` ms). */
async function assertRecovers(store: SessionStore, within: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const now = Date.now();
    const r = sampleRecord({}, now);
    try {
      await store.create(r, { maxSessionsPerUser: 5, now });
      if ((await store.get(r.id, now)).record) return Math.round(performance.now() - started);
    } catch (err) {
      assert.ok(err instanceof StoreUnavailableError, String(err));
    }
    assert.ok(performance.now() - started < within, `not recovered after ${within} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * A session written while the backend is prompt; then replies delayed past the timeout must give
 * StoreUnavailableError in time; then, prompt again, the store recovers with that session intact.
 * `prepare` runs first (a migration); the store and the proxy are closed whatever happens.
 */
async function slowThenPrompt(
  name: string,
  store: SessionStore,
  proxy: DelayProxy,
  timeout: number,
  recoverWithinMs: number,
  prepare?: () => Promise<void>,
): Promise<void> {
  try {
    await prepare?.();
    const now = Date.now();
    const before = sampleRecord({}, now);
    await store.create(before, { maxSessionsPerUser: 5, now });
    proxy.delayMs = 1000;
    await assertUnavailableInTime(store, timeout);
    proxy.delayMs = 0;
    const recovery = await assertRecovers(store, recoverWithinMs);
    assert.ok((await store.get(before.id, now)).record, 'data written before is intact');
    console.info(
      `[reliability] slow ${name}: typed errors within ${timeout} ms; recovered in ${recovery} ms`,
    );
  } finally {
    await store.close();
    await proxy.close();
  }
}

describe.skipIf(!ok)('fault injection: slow backend behind a delaying proxy', () => {
  let proxy: DelayProxy;
  afterAll(async () => {
    await proxy?.close();
  });

  it('Redis: StoreUnavailableError within the command timeout; recovers when prompt again', async () => {
    proxy = await startDelayProxy(redis.port);
    const timeout = 300;
    const store = createRedisStore({
      port: proxy.port,
      prefix: `sb-${randomBytes(4).toString('hex')}:`,
      connectTimeout: timeout,
      commandTimeout: timeout,
    });
    await slowThenPrompt('Redis', store, proxy, timeout, 3000);
  });

  it('PostgreSQL: StoreUnavailableError within the timeout; recovers when prompt again', async () => {
    proxy = await startDelayProxy(5432);
    const timeout = 400;
    const store = createSqlStore({
      url: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
      table,
      timeout,
      poolSize: 2,
    });
    await slowThenPrompt('PostgreSQL', store, proxy, timeout, 5000, () => store.migrate());
  });

  it('HTTP over a slow Redis: a clear 503 within the timeout, never a hang', async () => {
    proxy = await startDelayProxy(redis.port);
    const timeout = 300;
    const app = await startApp(
      createRedisStore({
        port: proxy.port,
        prefix: `sb-${randomBytes(4).toString('hex')}:`,
        connectTimeout: timeout,
        commandTimeout: timeout,
      }),
    );
    try {
      const token = await login(app.url, 'slow-user');
      proxy.delayMs = 800;
      for (const [method, path] of [
        ['GET', '/whoami'],
        ['POST', '/set?key=a&value=b'],
        ['POST', '/login?user=other'],
      ] as const) {
        const answer = await send(app.url, method, path, token, 3000);
        assert.equal(answer.outcome, 'unavailable', `${method} ${path}: ${answer.problem}`);
        assert.ok(answer.ms <= 2 * timeout + SLACK, `${method} ${path} took ${answer.ms} ms`);
      }
      proxy.delayMs = 0;
      await new Promise((r) => setTimeout(r, 900)); // the late replies drain
      const who = await send(app.url, 'GET', '/whoami', token);
      assert.equal(who.outcome, 'ok');
      assert.equal(who.body.userId, 'slow-user');
    } finally {
      await app.close();
      await proxy.close();
    }
  });

  it('a Redis call that timed out while the server was down never runs when it returns', async () => {
    const own = await startRedis();
    const prefix = `sb-${randomBytes(4).toString('hex')}:`;
    const store = createRedisStore({ port: own.port, prefix, connectTimeout: 300 });
    try {
      const now = Date.now();
      await store.get(sampleRecord().id, now); // connected
      await own.stop();
      await new Promise((r) => setTimeout(r, 100)); // the client has seen the connection drop
      const ghost = sampleRecord({}, now);
      await assert.rejects(
        store.create(ghost, { maxSessionsPerUser: 5, now }),
        StoreUnavailableError,
      );
      await own.start();
      await assertRecovers(store, 3000);
      assert.equal((await store.get(ghost.id, now)).record, null, 'the failed create ran later');
    } finally {
      await store.close();
      await own.stop();
    }
  });
});
