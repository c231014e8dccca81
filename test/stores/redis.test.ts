import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { SessionStore } from '../../src/core/types.js';
import {
  createRedisRateLimitStore,
  createRedisStore,
  type RedisStoreOptions,
} from '../../src/stores/redis/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { redisCli, type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { freePort, requireCommand } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

const ok = await requireCommand('redis-server', 'apt-get install -y redis-server');
const HOUR = 3_600_000;

function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const noop = () => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (obj) => warnings.push(obj) };
}

describe.skipIf(!ok)('redis store (standalone)', () => {
  let redis: StandaloneRedis;
  const prefix = `t-${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const store = (extra: Partial<RedisStoreOptions> = {}) =>
    createRedisStore({ port: redis.port, prefix, connectTimeout: 1000, ...extra });
  const unreachable = async () =>
    createRedisStore({ port: await freePort(), prefix, connectTimeout: 500 });

  describe('contract, node-redis created from config', () => {
    const factory = () => store({ clientLibrary: 'node-redis' });
    testSessionStore(it, factory, {
      second: factory,
      unreachable: async () =>
        createRedisStore({
          port: await freePort(),
          clientLibrary: 'node-redis',
          connectTimeout: 500,
        }),
      unavailableWithinMs: 1000,
      prefix: 'node-redis',
    });
    testDestroyReturnsOwner(it, factory, 'node-redis');
  });

  describe('contract, ioredis created from config', () => {
    const factory = () => store({ clientLibrary: 'ioredis' });
    testSessionStore(it, factory, {
      second: factory,
      unreachable,
      unavailableWithinMs: 1000,
      prefix: 'ioredis',
    });
    testDestroyReturnsOwner(it, factory, 'ioredis');
  });

  describe("contract, the caller's node-redis client", () => {
    const factory = async () => {
      const client = createClient({ socket: { port: redis.port, host: '127.0.0.1' } });
      await client.connect();
      const s = createRedisStore({ client, prefix });
      // The store leaves a caller's client open; this test owns it.
      return { ...s, close: async () => client.destroy() } satisfies SessionStore;
    };
    testSessionStore(it, factory, { second: factory, prefix: 'caller node-redis' });
  });

  it("closing a store built on a caller's client leaves the client open", async () => {
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const s = createRedisStore({ client, prefix });
      const now = Date.now();
      const r = sampleRecord({}, now);
      await s.create(r, { maxSessionsPerUser: 5, now });
      await s.close();
      assert.equal(await client.ping(), 'PONG');
      assert.ok((await createRedisStore({ client, prefix }).get(r.id, now)).record);
    } finally {
      client.disconnect();
    }
  });

  it('each session operation is one command received by the server', async () => {
    // MONITOR shows what clients sent (script-internal calls are tagged "lua"); commandstats
    // confirms the scripts ran from cache (EVALSHA, no EVAL).
    const s = store({ clientLibrary: 'ioredis' });
    const now = Date.now();
    const warm = sampleRecord({}, now);
    // Warm-up: the connection is up and every script is cached.
    await s.create(warm, { maxSessionsPerUser: 5, now });
    await s.get(warm.id, now, { touchAfter: 0, idleTimeout: HOUR });
    await s.patch(warm.id, { set: { a: 1 } }, now);
    await s.destroy(warm.id, 'logout', now);

    const marker = `end-${randomBytes(4).toString('hex')}`;
    const monitor = spawn('redis-cli', ['-p', String(redis.port), 'monitor']);
    let seen = '';
    monitor.stdout.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    await new Promise((r) => setTimeout(r, 200));
    const stats = async () => {
      const info = await redisCli(['-p', String(redis.port), 'info', 'commandstats']);
      const calls = (cmd: string) =>
        Number(info.match(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`))?.[1] ?? 0);
      return { evalsha: calls('evalsha'), eval: calls('eval') };
    };
    const before = await stats();
    try {
      const r = sampleRecord({}, now);
      await s.create(r, { maxSessionsPerUser: 5, now });
      await s.get(r.id, now);
      await s.get(r.id, now + 120_000, { touchAfter: 60_000, idleTimeout: HOUR });
      await s.patch(r.id, { set: { b: 2 }, unset: ['theme'] }, now + 120_000);
      await s.destroy(r.id, 'logout', now + 120_000);
      const after = await stats();
      assert.equal(after.evalsha - before.evalsha, 5, 'five operations, five EVALSHA');
      assert.equal(after.eval - before.eval, 0, 'no script was re-sent');

      await redisCli(['-p', String(redis.port), 'echo', marker]);
      const deadline = Date.now() + 5000;
      while (!seen.includes(marker) && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      const fromClients = seen
        .split('\n')
        .filter((line) => line.includes('"') && !/\[\d+ lua\]/.test(line))
        .map((line) =>
          line.slice(line.indexOf('"')).split(' ')[0]!.replace(/"/g, '').toLowerCase(),
        );
      // Everything a client sent while the five operations ran, apart from this test's own INFO/ECHO.
      const storeCommands = fromClients.filter((c) => c !== 'info' && c !== 'echo');
      assert.deepEqual(storeCommands, ['evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha']);
    } finally {
      monitor.kill('SIGKILL');
      await s.close();
    }
  });

  it('scripts are reloaded after SCRIPT FLUSH (NOSCRIPT) on both clients', async () => {
    for (const clientLibrary of ['ioredis', 'node-redis'] as const) {
      const s = store({ clientLibrary });
      try {
        const now = Date.now();
        const r = sampleRecord({}, now);
        await s.create(r, { maxSessionsPerUser: 5, now });
        await redisCli(['-p', String(redis.port), 'script', 'flush']);
        assert.ok((await s.get(r.id, now)).record);
      } finally {
        await s.close();
      }
    }
  });

  it("native TTLs follow the caller's clock, not the server's", async () => {
    const s = store();
    try {
      const now = Date.now() + 365 * 24 * HOUR; // an injected clock a year ahead
      const r = sampleRecord({}, now);
      await s.create(r, { maxSessionsPerUser: 5, now });
      const pttl = Number(
        await redisCli(['-p', String(redis.port), 'pttl', `{${prefix}}s:${r.id}`]),
      );
      const expected = HOUR / 2 + 24 * HOUR; // idle timeout + ttlGrace
      assert.ok(pttl > expected - 5_000 && pttl <= expected, `pttl ${pttl}`);
      assert.ok((await s.get(r.id, now + HOUR / 4)).record);
    } finally {
      await s.close();
    }
  });

  it('a corrupted record is a miss reported through the logger, never a thrown parse error', async () => {
    const logger = recordingLogger();
    const s = store({ logger });
    try {
      const now = Date.now();
      const [a, b] = [sampleRecord({}, now), sampleRecord({}, now)];
      for (const r of [a, b]) await s.create(r, { maxSessionsPerUser: 5, now });
      // Another program overwrites one key with a non-JSON string, and one data field with bad JSON.
      await redisCli(['-p', String(redis.port), 'set', `{${prefix}}s:${a.id}`, 'not json {']);
      await redisCli(['-p', String(redis.port), 'hset', `{${prefix}}s:${b.id}`, 'd:theme', '{bad']);
      for (const r of [a, b]) {
        assert.deepEqual(await s.get(r.id, now), { record: null, reason: 'not_found' });
        assert.equal(await s.patch(r.id, { set: { x: 1 } }, now), null);
      }
      assert.deepEqual(await s.listUser(b.userId!, now), []);
      assert.ok(logger.warnings.length >= 5);
      assert.ok(logger.warnings.some((w) => w.sessionId === a.id));
      assert.ok(logger.warnings.some((w) => w.sessionId === b.id));
      assert.equal(await s.destroy(a.id, 'admin', now), null);
    } finally {
      await s.close();
    }
  });

  it('stats stay exact through touches, patches, evictions, destroys and cleanup', async () => {
    const ownPrefix = `stats-${randomBytes(4).toString('hex')}:`;
    const s = store({ prefix: ownPrefix });
    try {
      const now = Date.now();
      const user = `u{x}*?[${randomBytes(3).toString('hex')}]`;
      const rs = Array.from({ length: 4 }, (_, i) =>
        sampleRecord({ userId: user, lastSeenAt: now - 1000 + i }, now),
      );
      for (const r of rs) await s.create(r, { maxSessionsPerUser: 3, now }); // evicts rs[0]
      const anon = sampleRecord({ userId: null, idleExpiresAt: now + 1000 }, now);
      await s.create(anon, { maxSessionsPerUser: 3, now });
      await s.get(rs[1]!.id, now + 10, { touchAfter: 0, idleTimeout: HOUR });
      await s.patch(rs[2]!.id, { set: { z: 1 } }, now);
      let st = await s.stats!(now);
      assert.deepEqual(
        [st.activeSessions, st.distinctUsers, st.anonymousSessions, st.byBrowser.Safari],
        [4, 1, 1, 4],
      );
      st = await s.stats!(now + 2000); // anon expired, not cleaned up yet
      assert.deepEqual([st.activeSessions, st.anonymousSessions, st.byBrowser.Safari], [3, 0, 3]);
      assert.equal(await s.cleanup(now + 2000), 1);
      st = await s.stats!(now + 2000);
      assert.deepEqual([st.activeSessions, st.anonymousSessions, st.byBrowser.Safari], [3, 0, 3]);
      await s.destroy(rs[1]!.id, 'logout', now);
      await s.destroyUser(user, { reason: 'logout-all', now });
      st = await s.stats!(now + 2000);
      const { sessionAge, logins, server, ...counts } = st;
      assert.equal(sessionAge?.count, 0);
      assert.ok(logins && server);
      assert.deepEqual(counts, {
        activeSessions: 0,
        distinctUsers: 0,
        anonymousSessions: 0,
        byBrowser: {},
        byOs: {},
        byDeviceType: {},
      });
    } finally {
      await s.close();
    }
  });

  it('stats stay exact when a patch changes the owner or a create replaces a live id', async () => {
    const s = store({ prefix: `owners-${randomBytes(4).toString('hex')}:` });
    try {
      const now = Date.now();
      const counts = async () => {
        const st = await s.stats!(now);
        return [st.activeSessions, st.distinctUsers, st.anonymousSessions];
      };
      const r = sampleRecord({ userId: null }, now);
      await s.create(r, { maxSessionsPerUser: null, now });
      assert.deepEqual(await counts(), [1, 0, 1]);
      await s.patch(r.id, { userId: 'alice' }, now);
      assert.deepEqual(await counts(), [1, 1, 0], 'gained an owner');
      await s.patch(r.id, { userId: 'bob' }, now);
      assert.deepEqual(await counts(), [1, 1, 0], 'changed owner');
      await s.create(sampleRecord({ userId: 'bob' }, now), { maxSessionsPerUser: null, now });
      await s.patch(r.id, { userId: null }, now);
      assert.deepEqual(await counts(), [2, 1, 1], 'lost its owner; bob keeps his other one');
      await s.create(sampleRecord({ id: r.id, userId: 'carol' }, now), {
        maxSessionsPerUser: null,
        now,
      });
      assert.deepEqual(await counts(), [2, 2, 0], 're-created under another owner');
    } finally {
      await s.close();
    }
  });

  it('calls fail with StoreUnavailableError while Redis is down and work again once it is back', async () => {
    const own = await startRedis();
    const logger = recordingLogger();
    const stores = (['ioredis', 'node-redis'] as const).map((clientLibrary) =>
      createRedisStore({ port: own.port, prefix, clientLibrary, connectTimeout: 500, logger }),
    );
    try {
      const now = Date.now();
      for (const s of stores) await s.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now });
      await own.stop();
      for (const s of stores) {
        const started = Date.now();
        await assert.rejects(s.get(sampleRecord().id, now), (err: unknown) => {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.equal(err.address, `127.0.0.1:${own.port}`);
          return true;
        });
        assert.ok(Date.now() - started <= 1000);
        assert.equal((await s.health()).ok, false);
      }
      await own.start();
      for (const s of stores) {
        const deadline = Date.now() + 5000;
        let health = await s.health();
        while (!health.ok && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          health = await s.health();
        }
        assert.equal(health.ok, true, 'the store reconnected by itself');
        const r = sampleRecord({}, now);
        await s.create(r, { maxSessionsPerUser: 5, now });
        assert.ok((await s.get(r.id, now)).record);
      }
    } finally {
      for (const s of stores) await s.close();
      await own.stop();
    }
  });

  it('rejects an empty prefix and a bad timeout when built', () => {
    assert.throws(() => createRedisStore({ prefix: '' }), /redis\.prefix/);
    assert.throws(() => createRedisStore({ commandTimeout: 'soon' }), /redis\.commandTimeout/);
  });
});

describe.skipIf(!ok)('redis rate-limit store', () => {
  let redis: StandaloneRedis;
  const prefix = `rl-${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  for (const clientLibrary of ['ioredis', 'node-redis'] as const) {
    it(`counts within a window and resets after it (${clientLibrary})`, async () => {
      const store = createRedisRateLimitStore({ port: redis.port, prefix, clientLibrary });
      try {
        const key = `ip:203.0.113.7:{x}*${randomBytes(3).toString('hex')}`;
        const now = Date.now();
        assert.deepEqual(await store.hit(key, 1000, now), { count: 1, resetAt: now + 1000 });
        assert.deepEqual(await store.hit(key, 1000, now + 500), { count: 2, resetAt: now + 1000 });
        assert.deepEqual(await store.peek(key, now + 999), { count: 2, resetAt: now + 1000 });
        assert.equal(await store.peek(key, now + 1000), null);
        assert.deepEqual(await store.hit(key, 1000, now + 1000), { count: 1, resetAt: now + 2000 });
        await store.reset(key);
        assert.equal(await store.peek(key, now + 1000), null);
        const pttl = Number(
          await redisCli(['-p', String(redis.port), 'pttl', `${prefix}rl:${key}`]),
        );
        assert.equal(pttl, -2, 'reset removed the key');
      } finally {
        await store.close();
      }
    });
  }

  it('concurrent hits from two clients are all counted, and the key expires with the window', async () => {
    const a = createRedisRateLimitStore({ port: redis.port, prefix, clientLibrary: 'ioredis' });
    const b = createRedisRateLimitStore({ port: redis.port, prefix, clientLibrary: 'node-redis' });
    try {
      const key = `user:${randomBytes(3).toString('hex')}`;
      const now = Date.now();
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit(key, 60_000, now)),
      );
      assert.equal((await a.peek(key, now + 1))?.count, 100);
      const pttl = Number(await redisCli(['-p', String(redis.port), 'pttl', `${prefix}rl:${key}`]));
      assert.ok(pttl > 55_000 && pttl <= 60_000, `pttl ${pttl}`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an unreachable Redis fails with StoreUnavailableError', async () => {
    const store = createRedisRateLimitStore({ port: await freePort(), connectTimeout: 300 });
    try {
      await assert.rejects(store.hit('k', 1000, Date.now()), StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
