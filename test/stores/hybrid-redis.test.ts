import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { redisCli, type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { requireCommand, requireService } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { dropTables } from './sql-shared.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const table = `hr_${randomBytes(6).toString('hex')}`;
const prefix = `hyb-${randomBytes(4).toString('hex')}:`;
const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql'));
const HOUR = 3_600_000;

const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
const exec = async (text: string) => (await admin.query(text)).rows as Record<string, unknown>[];

// Our own Redis server: flushing and restarting it cannot disturb anyone else's keys.
let redis: StandaloneRedis;
beforeAll(async () => {
  if (ok) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  if (ok) await dropTables('postgres', exec, table);
  await admin.end();
});

const make = (timeout = 1000) =>
  createHybridStore({
    cache: createRedisStore({
      port: redis.port,
      prefix,
      connectTimeout: timeout,
      commandTimeout: 500,
    }),
    database: createSqlStore({ url: pgUrl, table, timeout: 5000, poolSize: 4 }),
  });

describe.skipIf(!ok)('hybrid store (Redis + PostgreSQL): contract', () => {
  testSessionStore(it, () => make(), { second: () => make(), prefix: 'hybrid redis+postgres' });
  testDestroyReturnsOwner(it, () => make(), 'hybrid redis+postgres');
});

describe.skipIf(!ok)('hybrid store (Redis + PostgreSQL): cache loss', () => {
  const policy = { touchAfter: 0, idleTimeout: HOUR };

  async function validateAll(store: ReturnType<typeof make>, ids: string[], now: number) {
    const results = await Promise.all(ids.map((id) => store.get(id, now, policy)));
    return results.filter((r) => r.record !== null).length;
  }

  it('FLUSHALL in the middle of a run of validations: every session still validates', async () => {
    const store = make();
    try {
      const now = Date.now();
      const records = Array.from({ length: 60 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      const ids = records.map((r) => r.id);
      for (let round = 0; round < 10; round++) {
        const validating = validateAll(store, ids, now + round * 1000);
        if (round === 4 || round === 7) await redisCli(['-p', String(redis.port), 'FLUSHALL']);
        assert.equal(await validating, ids.length, `round ${round}: somebody was logged out`);
      }
      const keys = Number(await redisCli(['-p', String(redis.port), 'DBSIZE']));
      assert.ok(keys >= ids.length, `the cache was refilled (${keys} keys)`);
    } finally {
      await store.close();
    }
  });

  it('Redis restarted (down, then back empty): validations keep working throughout', async () => {
    const store = make(300);
    try {
      const now = Date.now();
      const records = Array.from({ length: 20 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      const ids = records.map((r) => r.id);
      assert.equal(await validateAll(store, ids, now), ids.length);
      await redis.stop();
      assert.equal(await validateAll(store, ids, now + 1000), ids.length, 'while Redis is down');
      const ended = records[0]!;
      assert.deepEqual(await store.destroy(ended.id, 'logout', now + 1000), {
        userId: ended.userId,
      });
      await redis.start();
      let live = 0;
      for (let i = 0; i < 20 && live !== ids.length - 1; i++) {
        live = await validateAll(store, ids, now + 2000);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(live, ids.length - 1, 'back up: all but the destroyed one validate');
      assert.equal((await store.get(ended.id, now + 2000)).record, null);
    } finally {
      await store.close();
    }
  });

  it('while Redis is down, calls skip it after one failure and try it again after cacheRetryDelay', async () => {
    const redisStore = createRedisStore({
      port: redis.port,
      prefix,
      connectTimeout: 300,
      commandTimeout: 300,
    });
    let cacheCalls = 0;
    const counted =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      (...args: A) => {
        cacheCalls++;
        return fn(...args);
      };
    const cache = {
      ...redisStore,
      get: counted(redisStore.get.bind(redisStore)),
      create: counted(redisStore.create.bind(redisStore)),
      destroy: counted(redisStore.destroy.bind(redisStore)),
    };
    const store = createHybridStore({
      cache,
      database: createSqlStore({ url: pgUrl, table, timeout: 5000, poolSize: 2 }),
      cacheRetryDelay: 400,
    });
    try {
      const now = Date.now();
      const records = Array.from({ length: 10 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      const ids = records.map((r) => r.id);
      await redis.stop();
      cacheCalls = 0;
      for (const id of ids) assert.ok((await store.get(id, now + 1000, policy)).record);
      assert.deepEqual(await store.destroy(ids[0]!, 'logout', now + 1000), {
        userId: records[0]!.userId,
      });
      assert.equal(cacheCalls, 1, 'one call found the cache down; the others went to the database');
      await new Promise((r) => setTimeout(r, 500));
      await store.get(ids[1]!, now + 1000, policy);
      assert.equal(cacheCalls, 2, 'after cacheRetryDelay one call tries the cache again');
      await redis.start();
      await new Promise((r) => setTimeout(r, 500));
      let live = 0;
      for (let i = 0; i < 20 && live !== ids.length - 1; i++) {
        live = await validateAll(store, ids, now + 2000);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(live, ids.length - 1, 'back up: all but the destroyed one validate');
      assert.equal((await store.get(ids[0]!, now + 2000)).record, null, 'the logout is not undone');
      assert.ok(cacheCalls > 2 + ids.length, 'the cache serves again once it answers');
    } finally {
      await store.close();
    }
  });
});
