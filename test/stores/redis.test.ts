import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ConfigError, StoreUnavailableError } from '../../src/core/errors.js';
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

/** The key of a session (one bucket): its id as base64url of its bytes. */
const sessionKey = (prefix: string, id: string) =>
  `{${prefix}}s:${Buffer.from(id, 'hex').toString('base64url')}`;

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

  describe('contract, node-redis created from config, local cache off', () => {
    // The runs above and below with node-redis have the local cache on (the default).
    const factory = () => store({ clientLibrary: 'node-redis', localCache: false });
    testSessionStore(it, factory, { second: factory, prefix: 'node-redis no cache' });
    testDestroyReturnsOwner(it, factory, 'node-redis no cache');
  });

  describe('contract, node-redis with a local cache of 2 entries and 1 s max age', () => {
    // Bounds small enough that the contract's reads keep evicting and expiring entries.
    const factory = () => store({ localCache: { maxEntries: 2, maxAge: 1000 } });
    testSessionStore(it, factory, { second: factory, prefix: 'node-redis small cache' });
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

  describe('contract, 4 buckets (the Cluster layout on one server)', () => {
    const bucketPrefix = `b4-${randomBytes(4).toString('hex')}:`;
    const factory = () => store({ prefix: bucketPrefix, buckets: 4 });
    testSessionStore(it, factory, { second: factory, prefix: '4 buckets' });
  });

  describe("contract, the caller's node-redis client", () => {
    const factory = async () => {
      const client = createClient({ socket: { port: redis.port, host: '127.0.0.1' } });
      await client.connect();
      const s = createRedisStore({ client, prefix });
      // The store leaves a caller's client open (it closes only its own tracking connection).
      const close = async () => {
        await s.close();
        client.destroy();
      };
      return { ...s, close } satisfies SessionStore;
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

  it('a read is one plain GET; a touch, a patch, a create and a destroy one script each', async () => {
    // MONITOR shows what clients sent (script-internal calls are tagged "lua"); commandstats
    // counts every command the server executed, scripts' inner calls included.
    const s = store({ clientLibrary: 'ioredis' });
    const now = Date.now();
    const warm = sampleRecord({}, now);
    // Warm-up: the connection is up, the layout checked and every script is cached.
    await s.create(warm, { maxSessionsPerUser: 5, now });
    await s.get(warm.id, now + 1000, { touchAfter: 0, idleTimeout: HOUR });
    await s.patch(warm.id, { set: { a: 1 } }, now);
    await s.destroy(warm.id, 'logout', now);

    const marker = `end-${randomBytes(4).toString('hex')}`;
    const monitor = spawn('redis-cli', ['-p', String(redis.port), 'monitor']);
    let seen = '';
    monitor.stdout.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    await new Promise((r) => setTimeout(r, 200));
    const executed = async () => {
      const info = await redisCli(['-p', String(redis.port), 'info', 'commandstats']);
      const calls = new Map<string, number>();
      for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
        calls.set(m[1]!, Number(m[2]));
      return calls;
    };
    // Commands executed by one operation (the harness's INFO excluded).
    const measure = async (op: () => Promise<unknown>) => {
      const before = await executed();
      await op();
      const after = await executed();
      let n = 0;
      for (const [name, calls] of after) if (name !== 'info') n += calls - (before.get(name) ?? 0);
      return n;
    };
    try {
      const r = sampleRecord({}, now);
      const policy = { touchAfter: 60_000, idleTimeout: HOUR };
      const counts = {
        create: await measure(() => s.create(r, { maxSessionsPerUser: 5, now })),
        read: await measure(() => s.get(r.id, now + 1000, policy)),
        touch: await measure(() => s.get(r.id, now + 120_000, policy)),
        patch: await measure(() =>
          s.patch(r.id, { set: { b: 2 }, unset: ['theme'] }, now + 120_000),
        ),
        destroy: await measure(() => s.destroy(r.id, 'logout', now + 120_000)),
      };
      assert.equal(counts.read, 1, 'a read-only validation executes one command');
      assert.equal(counts.patch, 3, 'a data write: EVALSHA, GET, SET');
      assert.equal(counts.touch, 6, 'a touching validation: GET, then EVALSHA, GET, SET, ZADD × 2');
      assert.ok(counts.create <= 14 && counts.destroy <= 12, JSON.stringify(counts));

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
      // Everything a client sent while the operations ran, apart from this test's own INFO/ECHO.
      const storeCommands = fromClients.filter((c) => c !== 'info' && c !== 'echo');
      assert.deepEqual(storeCommands, ['evalsha', 'get', 'get', 'evalsha', 'evalsha', 'evalsha']);
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
        await redisCli(['-p', String(redis.port), 'pttl', sessionKey(prefix, r.id)]),
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
      const [a, b, c] = [sampleRecord({}, now), sampleRecord({}, now), sampleRecord({}, now)];
      for (const r of [a, b, c]) await s.create(r, { maxSessionsPerUser: 5, now });
      const cli = (...args: string[]) => redisCli(['-p', String(redis.port), ...args]);
      // Another program overwrites one value with garbage, one key with a hash, and one value's
      // data with bad JSON.
      await cli('set', sessionKey(prefix, a.id), 'not json {');
      await cli('del', sessionKey(prefix, b.id));
      await cli('hset', sessionKey(prefix, b.id), 'theme', 'dark');
      const value = (await cli('--raw', 'get', sessionKey(prefix, c.id))).replace(/\n$/, '');
      const bad = `${value.slice(0, value.indexOf('\x1e'))}\x1e"theme"\x1d{bad`;
      await cli('set', sessionKey(prefix, c.id), bad);
      for (const r of [a, b, c]) {
        assert.deepEqual(await s.get(r.id, now), { record: null, reason: 'not_found' });
        assert.equal(await s.patch(r.id, { set: { x: 1 } }, now), null);
        assert.equal(
          (await s.get(r.id, now + 61_000, { touchAfter: 0, idleTimeout: HOUR })).record,
          null,
        );
      }
      assert.deepEqual(await s.listUser(c.userId!, now), []);
      for (const r of [a, b, c]) assert.ok(logger.warnings.some((w) => w.sessionId === r.id));
      assert.equal(await s.destroy(a.id, 'admin', now), null);
      assert.equal(await s.destroy(b.id, 'admin', now), null);
      assert.equal(
        await cli('exists', sessionKey(prefix, b.id)),
        '0\n',
        'destroy removed the hash',
      );
    } finally {
      await s.close();
    }
  });

  it('a touch keeps the idle window the session was created with, capped by the policy', async () => {
    const s = store();
    try {
      const now = Date.now();
      const long = sampleRecord(
        { idleExpiresAt: now + 30 * 24 * HOUR, absoluteExpiresAt: null },
        now,
      );
      const short = sampleRecord({ idleExpiresAt: now + 10 * 60_000 }, now);
      for (const r of [long, short]) await s.create(r, { maxSessionsPerUser: 5, now });
      const at = now + 5 * 60_000;
      const policy = { touchAfter: 0, idleTimeout: 7 * 24 * HOUR };
      const a = await s.get(long.id, at, policy);
      assert.equal(a.record?.idleExpiresAt, at + 7 * 24 * HOUR, 'a longer window is capped');
      const b = await s.get(short.id, at, policy);
      assert.equal(b.record?.idleExpiresAt, at + 10 * 60_000, 'a shorter window is kept');
      assert.equal((await s.get(short.id, at + 11 * 60_000)).record, null, 'and it expires by it');
      const pttl = Number(
        await redisCli(['-p', String(redis.port), 'pttl', sessionKey(prefix, b.record!.id)]),
      );
      assert.ok(pttl > 24 * HOUR && pttl <= 24 * HOUR + 10 * 60_000, `pttl ${pttl}`);
    } finally {
      await s.close();
    }
  });

  it('a store of another bucket count or layout refuses the prefix with a clear error', async () => {
    const own = `layout-${randomBytes(4).toString('hex')}:`;
    const first = store({ prefix: own });
    const other = store({ prefix: own, buckets: 4 });
    try {
      const now = Date.now();
      await first.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now });
      assert.equal(await redisCli(['-p', String(redis.port), 'get', `{${own}}v`]), '2:1\n');
      await assert.rejects(other.get(sampleRecord().id, now), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /redis\.buckets: is 4, .* stored in 1 buckets/);
        return true;
      });
      await redisCli(['-p', String(redis.port), 'set', `{${own}}v`, '3:1']);
      const later = store({ prefix: own });
      try {
        await assert.rejects(
          later.stats!(now),
          /stored in layout "3", this version .* uses layout 2/,
        );
      } finally {
        await later.close();
      }
    } finally {
      await first.close();
      await other.close();
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
