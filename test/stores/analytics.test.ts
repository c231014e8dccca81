/**
 * Session analytics in `stats()`: the age of live sessions (median and p95, nearest rank) and
 * logins per hour, through the manager as an app drives it (a login is `create` with a user or
 * `regenerate` to a new user; a rotation and a logout change nothing), on every store that counts
 * them, against the real backends. Redis also reports its server's memory and hit ratio, and its
 * age figures become a sample past `AGE_SAMPLE` sessions; on a Cluster (16 buckets over 3 masters)
 * the logins are summed over the buckets' hourly hashes, the sample is shared out over the buckets
 * and INFO is summed over every master.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ageStats, HOUR_MS, LoginTally } from '../../src/core/analytics.js';
import type { SessionStore, StoreStats } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createFallbackStore } from '../../src/stores/fallback.js';
import { createFileStore } from '../../src/stores/file.js';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { AGE_SAMPLE } from '../../src/stores/redis/analytics.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import {
  type RedisClusterSet,
  type StandaloneRedis,
  startRedis,
  startRedisCluster,
} from '../support/redis-servers.js';
import { requireCommand, requireService } from '../support/services.js';
import { dropTables } from './sql-shared.js';

const MIN = 60_000;
/** 50 minutes into an hour: the last 60 minutes reach into the hour before. */
const T = Date.UTC(2026, 0, 15, 12, 50);
const HOUR_START = Date.UTC(2026, 0, 15, 12, 0);

/**
 * Drives a manager on `store` with a settable clock, then reads `stats()` at T:
 * - T-2h45: user a logs in (the hour two before T's);
 * - T-40: user b logs in; an anonymous visitor arrives;
 * - T-30: another anonymous visitor logs in as c (regenerate to a new user: a login);
 * - T-20: c's session is rotated (no new login, creation time carried over);
 * - T-10: user d logs in and logs out (still a login).
 * Live at T: a (165 min), b (40), the anonymous one (40), c (30).
 */
async function scenario(store: SessionStore): Promise<StoreStats> {
  let now = T - 165 * MIN;
  const manager = createSessionManager({
    store,
    clock: () => now,
    idleTimeout: '4h',
    cleanupInterval: false,
    rateLimit: false,
  });
  try {
    await manager.create({ userId: 'a' });
    now = T - 40 * MIN;
    await manager.create({ userId: 'b' });
    await manager.create({});
    now = T - 30 * MIN;
    const visitor = await manager.create({});
    const c = await manager.regenerate(visitor.token, { userId: 'c' });
    assert.ok(c);
    now = T - 20 * MIN;
    assert.ok(await manager.regenerate(c.token));
    now = T - 10 * MIN;
    const d = await manager.create({ userId: 'd' });
    assert.ok(await manager.terminate(d.session.id));
    now = T;
    const stats = await manager.stats();
    assert.ok(stats.sessions);
    return stats.sessions;
  } finally {
    await manager.close();
  }
}

function expectScenario(stats: StoreStats, options: { logins: boolean }): void {
  assert.equal(stats.activeSessions, 4);
  assert.deepEqual(stats.sessionAge, {
    medianMs: 40 * MIN,
    p95Ms: 165 * MIN,
    count: 4,
    sampled: false,
  });
  if (!options.logins) {
    assert.equal(stats.logins, undefined);
    return;
  }
  assert.ok(stats.logins);
  assert.equal(stats.logins.lastHour, 3);
  assert.equal(stats.logins.perHour.length, 24);
  assert.equal(stats.logins.perHour[23]!.start, HOUR_START);
  assert.equal(stats.logins.perHour[0]!.start, HOUR_START - 23 * HOUR_MS);
  const counts = stats.logins.perHour.map((h) => h.count);
  const expected = Array<number>(24).fill(0);
  expected[23] = 3;
  expected[21] = 1;
  assert.deepEqual(counts, expected);
}

const folder = mkdtempSync(join(tmpdir(), 'tessera-analytics-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const table = () => `t_${randomBytes(6).toString('hex')}`;

describe('analytics helpers', () => {
  it('percentiles are nearest-rank over the ages given', () => {
    assert.deepEqual(ageStats([]), { medianMs: null, p95Ms: null, count: 0, sampled: false });
    assert.deepEqual(ageStats([5]), { medianMs: 5, p95Ms: 5, count: 1, sampled: false });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.deepEqual(ageStats(hundred, true), {
      medianMs: 50,
      p95Ms: 95,
      count: 100,
      sampled: true,
    });
  });
  it('the per-minute tally counts the last 60 minutes and the 24 clock hours', () => {
    const tally = new LoginTally();
    for (const at of [T - 25 * HOUR_MS, T - 3 * HOUR_MS, T - 61 * MIN, T - 59 * MIN, T]) {
      tally.record(at);
    }
    const stats = tally.stats(T);
    assert.equal(stats.lastHour, 2);
    assert.equal(
      stats.perHour.reduce((sum, h) => sum + h.count, 0),
      4,
    );
    assert.equal(stats.perHour[23]!.count, 1);
    assert.equal(stats.perHour[22]!.count, 2);
  });
});

describe('analytics: memory, file, hybrid and fallback stores', () => {
  it('memory: exact ages, logins counted by the store', async () => {
    expectScenario(await scenario(createMemoryStore()), { logins: true });
  });
  it('file: exact ages; no login counter (nothing outlives a logout to count)', async () => {
    expectScenario(await scenario(createFileStore({ path: folder })), { logins: false });
  });
  it('hybrid: the database figures', async () => {
    const store = createHybridStore({
      cache: createMemoryStore(),
      database: createSqlStore({ url: 'sqlite::memory:' }),
    });
    expectScenario(await scenario(store), { logins: true });
    await store.close();
  });
  it('sqlite: ages and logins from the rows, terminated ones included', async () => {
    const store = createSqlStore({ url: 'sqlite::memory:' });
    expectScenario(await scenario(store), { logins: true });
    await store.close();
  });
  it('fallback: logins summed hour by hour, ages of the store holding the sessions', async () => {
    const store = createFallbackStore({
      primary: createMemoryStore(),
      secondary: createMemoryStore(),
    });
    expectScenario(await scenario(store), { logins: true });
    await store.close();
  });
});

const pgOk = await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql');
describe.skipIf(!pgOk)('analytics: PostgreSQL', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/test';
  const name = table();
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  afterAll(async () => {
    await dropTables('postgres', async (q) => (await admin.query(q)).rows, name);
    await admin.end();
  });
  it('ages by two ordered reads, logins from the rows', async () => {
    const store = createSqlStore({ url, table: name });
    expectScenario(await scenario(store), { logins: true });
    await store.close();
  });
});

const myOk = await requireService(
  'MariaDB',
  '127.0.0.1',
  3306,
  'apt-get install -y mariadb-server',
);
describe.skipIf(!myOk)('analytics: MariaDB', () => {
  const url = 'mysql://root@127.0.0.1:3306/test';
  const name = table();
  const admin = mysql.createPool({ uri: url, connectionLimit: 1 });
  afterAll(async () => {
    await dropTables(
      'mysql',
      async (q) => {
        const [rows] = await admin.query(q);
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      },
      name,
    );
    await admin.end();
  });
  it('ages by two ordered reads, logins from the rows', async () => {
    const store = createSqlStore({ url, table: name });
    expectScenario(await scenario(store), { logins: true });
    await store.close();
  });
});

const redisOk = await requireCommand('redis-server', 'apt-get install -y redis-server');
describe.skipIf(!redisOk)('analytics: Redis', () => {
  let redis: StandaloneRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const store = () =>
    createRedisStore({ port: redis.port, prefix: `a-${randomBytes(4).toString('hex')}:` });

  it('exact ages under the sample size, logins in per-hour hashes, the server figures', async () => {
    const s = store();
    const stats = await scenario(s);
    expectScenario(stats, { logins: true });
    assert.ok(stats.server);
    assert.ok(
      stats.server.usedMemoryBytes > 100_000,
      `used_memory ${stats.server.usedMemoryBytes}`,
    );
    const { keyspaceHits: hits, keyspaceMisses: misses } = stats.server;
    assert.ok(hits > 0, 'the scripts read keys that exist');
    assert.equal(stats.server.hitRatio, hits / (hits + misses));
    await s.close();
  });

  it('a server without ZRANDMEMBER (before 6.2): exact ages and logins; past the sample size no ages, said once', async () => {
    const old = await startRedis(['--rename-command', 'ZRANDMEMBER', '""']);
    const warnings: string[] = [];
    const noop = () => {};
    const s = createRedisStore({
      port: old.port,
      logger: { debug: noop, info: noop, error: noop, warn: (_o, msg) => warnings.push(`${msg}`) },
    });
    try {
      // Under the sample size nothing needs ZRANDMEMBER.
      const stats = await scenario(s);
      expectScenario(stats, { logins: true });
      assert.equal(warnings.length, 0);
      const now = Date.now();
      for (let i = 0; i < AGE_SAMPLE + 1; i += 100)
        await Promise.all(
          Array.from({ length: Math.min(100, AGE_SAMPLE + 1 - i) }, () =>
            s.create(sampleRecord({ userId: null }, now), { maxSessionsPerUser: null, now }),
          ),
        );
      for (let round = 0; round < 2; round++) {
        const past = await s.stats!(now);
        assert.ok(past.activeSessions > AGE_SAMPLE);
        assert.equal(past.sessionAge, undefined);
        assert.ok(past.logins, 'the logins do not need a sample');
        assert.ok(past.server);
      }
      assert.equal(warnings.length, 1, 'warned once per store, not per call');
      assert.match(warnings[0]!, /sessionAge out: .*no ZRANDMEMBER/);
    } finally {
      await s.close();
      await old.stop();
    }
  });

  it('past the sample size the ages are a random sample, said so', async () => {
    const s = store();
    const now = Date.now();
    const total = AGE_SAMPLE + 200;
    // Ages 0..total-1 minutes, all live.
    const records = Array.from({ length: total }, (_, i) =>
      sampleRecord({ userId: null, createdAt: now - i * MIN, lastSeenAt: now }, now),
    );
    for (let i = 0; i < records.length; i += 100) {
      await Promise.all(
        records.slice(i, i + 100).map((r) => s.create(r, { maxSessionsPerUser: null, now })),
      );
    }
    const stats = await s.stats!(now);
    assert.equal(stats.activeSessions, total);
    assert.ok(stats.sessionAge);
    assert.equal(stats.sessionAge.sampled, true);
    assert.equal(stats.sessionAge.count, AGE_SAMPLE);
    // A sample of 1000 out of 1200 uniform ages: the median lands near the true one (600 min).
    const median = stats.sessionAge.medianMs! / MIN;
    assert.ok(median > 500 && median < 700, `median ${median} min`);
    // None of them is a login: anonymous sessions.
    assert.equal(stats.logins?.lastHour, 0);
    await s.close();
  });
});

const clusterOk = redisOk && (await requireCommand('redis-cli', 'apt-get install -y redis-tools'));
describe.skipIf(!clusterOk)('analytics: Redis Cluster (16 buckets over 3 masters)', () => {
  let cluster: RedisClusterSet;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const prefix = () => `ac-${randomBytes(4).toString('hex')}:`;
  const stores: { name: string; make(prefix: string): Promise<[SessionStore, () => void]> }[] = [
    {
      name: 'node-redis',
      async make(prefix) {
        const client = createCluster({
          rootNodes: cluster.ports.map((port) => ({ socket: { host: '127.0.0.1', port } })),
        });
        client.on('error', () => {});
        await client.connect();
        return [createRedisStore({ client, prefix }), () => client.destroy()];
      },
    },
    {
      name: 'ioredis',
      async make(prefix) {
        const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
        client.on('error', () => {});
        return [createRedisStore({ client, prefix }), () => client.disconnect()];
      },
    },
  ];
  /** keyspace_hits of each master, as it says itself (through a client: redis-cli's output may be cut). */
  const hitsPerMaster = () =>
    Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis({ port, host: '127.0.0.1' });
        try {
          const info = await node.info('stats');
          const hits = /^keyspace_hits:(\d+)/m.exec(info);
          assert.ok(hits, `INFO stats of ${port}: ${info}`);
          return Number(hits[1]);
        } finally {
          node.disconnect();
        }
      }),
    );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  for (const { name, make } of stores) {
    it(`${name}: logins counted in each bucket and summed, exact ages, INFO summed over every master`, async () => {
      const p = prefix();
      const [s, disconnect] = await make(p);
      try {
        expectScenario(await scenario(s), { logins: true });
        // The logins went to the hashes of the users' own buckets, on more than one master.
        const holders = await Promise.all(
          cluster.ports.map(async (port) => {
            const node = new Redis({ port, host: '127.0.0.1' });
            try {
              return await node.keys(`{${p}*}lg:*`);
            } finally {
              node.disconnect();
            }
          }),
        );
        const tagsOf = (keys: string[]) => new Set(keys.map((k) => k.slice(0, k.indexOf('}') + 1)));
        assert.ok(tagsOf(holders.flat()).size > 1, JSON.stringify(holders));
        assert.ok(holders.filter((keys) => keys.length > 0).length > 1, JSON.stringify(holders));
      } finally {
        await s.close();
        disconnect();
      }
      const [t, close] = await make(p);
      try {
        // A lookup that hits on every master (30 sessions over 16 buckets), so that the sum of
        // the masters' hits and any one master's differ.
        const now = Date.now();
        const records = Array.from({ length: 30 }, () => sampleRecord({ userId: null }, now));
        for (const r of records) await t.create(r, { maxSessionsPerUser: null, now });
        for (const r of records) assert.ok((await t.get(r.id, now)).record);
        const before = await hitsPerMaster();
        const stats = await t.stats!(Date.now());
        const after = await hitsPerMaster();
        assert.ok(stats.server);
        const { keyspaceHits } = stats.server;
        assert.ok(
          keyspaceHits >= sum(before) && keyspaceHits <= sum(after),
          `${keyspaceHits} is the masters' sum (${before} before, ${after} after)`,
        );
        // More than any one master had: a sum. (Not `after`: the stats call's own reads, run beside
        // its INFO, can raise one master's hits past the figure INFO gave.)
        assert.ok(
          before.every((h) => h > 0) && keyspaceHits > Math.max(...before),
          `${keyspaceHits} against ${before} before`,
        );
      } finally {
        await t.close();
        close();
      }
    });
  }

  it('past the sample size: a sample of exactly AGE_SAMPLE shared out over the buckets', async () => {
    const [s, disconnect] = await stores[1]!.make(prefix());
    try {
      const now = Date.now();
      const total = AGE_SAMPLE + 500;
      const records = Array.from({ length: total }, (_, i) =>
        sampleRecord({ userId: null, createdAt: now - i * MIN, lastSeenAt: now }, now),
      );
      for (let i = 0; i < records.length; i += 100)
        await Promise.all(
          records.slice(i, i + 100).map((r) => s.create(r, { maxSessionsPerUser: null, now })),
        );
      const stats = await s.stats!(now);
      assert.equal(stats.activeSessions, total);
      assert.ok(stats.sessionAge);
      assert.equal(stats.sessionAge.sampled, true);
      assert.equal(stats.sessionAge.count, AGE_SAMPLE);
      // Uniform ages 0..1499 minutes: the sample's median lands near the true one (750).
      const median = stats.sessionAge.medianMs! / MIN;
      assert.ok(median > 650 && median < 850, `median ${median} min`);
      assert.equal(stats.logins?.lastHour, 0);
    } finally {
      await s.close();
      disconnect();
    }
  });
});
