import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { configFromEnv } from '../../src/core/env-config.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createFallbackStore, type FallbackStore } from '../../src/stores/fallback.js';
import {
  createRateLimitStoreFromConfig,
  createStoreFromConfig,
} from '../../src/stores/from-config.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { randomUserId, sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { freePort, requireCommand, requireService } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { dropTables } from './sql-shared.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql'));
const HOUR = 3_600_000;
const folder = mkdtempSync(join(tmpdir(), 'tessera-fallback-'));
const sqliteUrl = `sqlite:${join(folder, 'sessions.db')}`;
const table = `fb_${randomBytes(6).toString('hex')}`;
const prefix = `fb-${randomBytes(4).toString('hex')}:`;
const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
const exec = async (text: string) => (await admin.query(text)).rows as Record<string, unknown>[];

let contractRedis: StandaloneRedis;
beforeAll(async () => {
  if (ok) contractRedis = await startRedis();
});
afterAll(async () => {
  await contractRedis?.stop();
  if (ok) await dropTables('postgres', exec, table);
  await admin.end();
  rmSync(folder, { recursive: true, force: true });
});

const redisOn = (port: number, timeout = 300) =>
  createRedisStore({ port, prefix, connectTimeout: timeout, commandTimeout: timeout });
const sqlite = () => createSqlStore({ url: sqliteUrl, table, timeout: 5000 });
const postgres = () => createSqlStore({ url: pgUrl, table, timeout: 3000, poolSize: 4 });

describe.skipIf(!ok)('fallback store (Redis → SQLite): contract', () => {
  const make = () =>
    createFallbackStore({ primary: redisOn(contractRedis.port, 1000), secondary: sqlite() });
  testSessionStore(it, make, {
    second: make,
    prefix: 'fallback redis→sqlite',
    unreachable: async () =>
      createFallbackStore({
        primary: redisOn(await freePort()),
        secondary: createSqlStore({ url: `sqlite:${join(folder, 'no', 'such', 'dir.db')}`, table }),
      }),
    unavailableWithinMs: 1000,
  });
  testDestroyReturnsOwner(it, make, 'fallback redis→sqlite');
});

describe.skipIf(!ok)('fallback store (Redis down from the start → PostgreSQL): contract', () => {
  // Every test's first operation fails over after one 200 ms failure; the contract then holds on
  // the secondary alone.
  let deadPort = 0;
  beforeAll(async () => {
    deadPort = await freePort();
  });
  testSessionStore(
    it,
    () => createFallbackStore({ primary: redisOn(deadPort, 200), secondary: postgres() }),
    { prefix: 'fallback (primary down)' },
  );
});

describe.skipIf(!ok)('fallback store (Redis → PostgreSQL): failover and failback', () => {
  let redis: StandaloneRedis;
  beforeAll(async () => {
    // Persistent, so a killed and restarted Redis comes back with its sessions (like production
    // Redis with AOF): that is what lets terminations made during the outage be checked.
    redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const make = (): FallbackStore =>
    createFallbackStore({
      primary: redisOn(redis.port),
      secondary: postgres(),
      probeInterval: 100,
    });
  const live = async (store: SessionStore, id: string, now: number) =>
    (await store.get(id, now)).record !== null;

  async function waitForPrimary(store: FallbackStore, within: number): Promise<number> {
    const started = Date.now();
    while (store.active !== 'primary') {
      assert.ok(Date.now() - started < within, `not back on the primary after ${within} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return Date.now() - started;
  }

  it('fails over after one fast failure, fails back by the probe, and nothing ended comes back', async () => {
    const store = make();
    try {
      const now = Date.now();
      const user = randomUserId();
      // Before the outage: sessions on Redis only.
      const kept = sampleRecord({ userId: randomUserId() }, now);
      const ended = sampleRecord({ userId: randomUserId() }, now);
      const userSessions = [1, 2, 3].map(() => sampleRecord({ userId: user }, now));
      for (const r of [kept, ended, ...userSessions])
        await store.create(r, { maxSessionsPerUser: 5, now });
      assert.equal(store.active, 'primary');
      assert.equal((await store.secondary.get(kept.id, now)).record, null, 'not copied');

      await redis.stop();
      // One failure, bounded by the Redis command timeout (300 ms), then the secondary answers.
      const during = sampleRecord({ userId: randomUserId() }, now);
      let started = Date.now();
      await store.create(during, { maxSessionsPerUser: 5, now });
      const firstCall = Date.now() - started;
      assert.ok(firstCall < 1000, `first call after the kill took ${firstCall} ms`);
      assert.equal(store.active, 'secondary');
      // Later calls go straight to the secondary: no timeout each.
      started = Date.now();
      for (let i = 0; i < 20; i++) assert.ok(await live(store, during.id, now));
      const twenty = Date.now() - started;
      assert.ok(twenty < 1000, `20 lookups during the outage took ${twenty} ms`);
      // Sessions only Redis holds are unreachable during the outage (documented).
      assert.equal(await live(store, kept.id, now), false);
      // Terminations during the outage: one session, and a user's sessions everywhere.
      await store.destroy(ended.id, 'logout', now);
      await store.destroyUser(user, { reason: 'logout-all', now });
      const patched = await store.patch(during.id, { set: { k: 'v' } }, now);
      assert.equal(patched?.data.k, 'v');
      assert.equal((await store.health()).ok, true, 'the secondary serves');

      await redis.start();
      const back = await waitForPrimary(store, 3000);
      assert.ok(back < 3000, `failback took ${back} ms`);
      // Redis came back with its data: the kept session is there again, the ended ones are not.
      assert.equal(await live(store, kept.id, now), true, 'kept session back from Redis');
      assert.equal(await live(store, ended.id, now), false, 'destroyed during the outage');
      for (const r of userSessions)
        assert.equal(await live(store, r.id, now), false, 'logged out everywhere during outage');
      assert.deepEqual(await store.listUser(user, now), []);
      // The session created during the outage is still reachable (read through to the database).
      const found = await store.get(during.id, now, { touchAfter: 0, idleTimeout: HOUR });
      assert.equal(found.record?.data.k, 'v');
      assert.equal((await store.primary.get(ended.id, now)).record, null);
      // And it can be ended after the failback, for good.
      assert.deepEqual(await store.destroy(during.id, 'logout', now), {
        userId: during.userId,
      });
      assert.equal(await live(store, during.id, now), false);
      assert.equal(await live(store.secondary, during.id, now), false);
    } finally {
      await store.close();
    }
  });

  it('terminations still in flight when the probe succeeds are not lost', async () => {
    const store = make();
    try {
      const now = Date.now();
      const records = Array.from({ length: 60 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      await redis.stop();
      await store.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now }); // fails over
      assert.equal(store.active, 'secondary');
      await redis.start();
      // Destroys race the failback: some are remembered before it, some replayed in it, some
      // land after it. Every one must be ended on Redis.
      const destroys = records.map(async (r, i) => {
        await new Promise((res) => setTimeout(res, i % 10));
        return store.destroy(r.id, 'logout', now);
      });
      await Promise.all([...destroys, store.probe()]);
      await waitForPrimary(store, 3000);
      for (const r of records)
        assert.equal((await store.primary.get(r.id, now)).record, null, `${r.id} came back`);
    } finally {
      await store.close();
    }
  });

  it('a Redis restarted empty: sessions of the outage survive, earlier ones are lost', async () => {
    const empty = await startRedis();
    const store = createFallbackStore({
      primary: redisOn(empty.port),
      secondary: postgres(),
      probeInterval: 100,
    });
    try {
      const now = Date.now();
      const before = sampleRecord({}, now);
      await store.create(before, { maxSessionsPerUser: 5, now });
      await empty.stop();
      const during = sampleRecord({}, now);
      await store.create(during, { maxSessionsPerUser: 5, now });
      await empty.start();
      await waitForPrimary(store, 3000);
      assert.equal(await live(store, during.id, now), true, 'created on the database: kept');
      assert.equal(await live(store, before.id, now), false, 'only Redis held it: lost');
    } finally {
      await store.close();
      await empty.stop();
    }
  });

  it('createStoreFromConfig with SESSION_FALLBACK=database builds Redis → database', async () => {
    const own = await startRedis();
    const config = configFromEnv({
      SESSION_STORAGE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${own.port}`,
      SESSION_FALLBACK: 'database',
      DATABASE_URL: `sqlite:${join(folder, 'from-config.db')}`,
    });
    assert.equal(config.fallback, 'sql');
    const store = (await createStoreFromConfig(config, { prefix })) as FallbackStore;
    try {
      assert.equal(store.name, 'fallback');
      assert.equal(store.primary.name, 'redis');
      assert.equal(store.secondary.name, 'sql');
      const now = Date.now();
      const r = sampleRecord({}, now);
      await store.create(r, { maxSessionsPerUser: 5, now });
      assert.equal(store.active, 'primary');
      await own.stop();
      const during = sampleRecord({}, now);
      const started = Date.now();
      await store.create(during, { maxSessionsPerUser: 5, now });
      // The default Redis timeout is connectTimeout, 2000 ms.
      assert.ok(Date.now() - started < 3000);
      assert.equal(store.active, 'secondary');
      assert.ok(await live(store, during.id, now));
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('with SESSION_FALLBACK, login rate limiting keeps counting while Redis is down', async () => {
    const own = await startRedis();
    const config = configFromEnv({
      SESSION_STORAGE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${own.port}`,
      SESSION_FALLBACK: 'database',
      DATABASE_URL: `sqlite:${join(folder, 'rate-limit.db')}`,
    });
    const options = { prefix: `${prefix}rl-` };
    const limiter = await createRateLimitStoreFromConfig(config, options);
    assert.ok(limiter);
    const manager = createSessionManager({
      store: await createStoreFromConfig(config, options),
      rateLimit: { maxAttempts: 3, window: 60_000, store: limiter },
      cleanupInterval: false,
    });
    try {
      const attempt = { ip: '203.0.113.9', username: 'alice' };
      await manager.trackLoginAttempt({ ...attempt, success: false }); // counted in Redis
      await own.stop();
      // One failure of the Redis timeout (2 s), then in-process counters: still a verdict, no 503.
      const started = Date.now();
      const verdicts = [];
      for (let i = 0; i < 4; i++)
        verdicts.push(await manager.trackLoginAttempt({ ...attempt, success: false }));
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      assert.equal(verdicts.at(-1)!.allowed, false, 'the limit still holds during the outage');
      const login = await manager.create({ userId: 'alice' });
      assert.ok((await manager.validate(login.token)).session, 'sessions fall back too');
    } finally {
      await manager.close();
      await limiter.close();
      await own.stop();
    }
  });
});
