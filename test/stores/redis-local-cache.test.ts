/**
 * The Redis store's local cache against a real Redis the test starts: repeated reads are served
 * from memory, any change from elsewhere (another store, a raw command, an expiry) drops the copy,
 * a killed or stopped tracking connection empties the cache and keeps it off until tracking is
 * back, the bounds evict, and ioredis is refused or left without a cache.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ConfigError, StoreUnavailableError } from '../../src/core/errors.js';
import type { LookupResult, SessionRecord } from '../../src/core/types.js';
import {
  createRedisStore,
  type RedisSessionStore,
  type RedisStoreOptions,
} from '../../src/stores/redis/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import { type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { requireCommand } from '../support/services.js';

const ok = await requireCommand('redis-server', 'apt-get install -y redis-server');

const reasonOf = (lookup: LookupResult) => ('reason' in lookup ? lookup.reason : null);

/** Polls until `check` holds (invalidations and reconnections arrive asynchronously). */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe.skipIf(!ok)('redis store local cache', () => {
  let redis: StandaloneRedis;
  let admin: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedis();
    admin = createClient({ socket: { port: redis.port, host: '127.0.0.1' } });
    admin.on('error', () => {});
    await admin.connect();
  });
  afterAll(async () => {
    admin?.destroy();
    await redis?.stop();
  });

  const opened: RedisSessionStore[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });
  const prefix = () => `lc-${randomBytes(4).toString('hex')}:`;
  function store(p: string, extra: Partial<RedisStoreOptions> = {}): RedisSessionStore {
    const s = createRedisStore({ port: redis.port, prefix: p, connectTimeout: 1000, ...extra });
    opened.push(s);
    return s;
  }
  const stats = (s: RedisSessionStore) => {
    const st = s.localCacheStats();
    assert.ok(st, 'the local cache is on');
    return st;
  };
  async function created(s: RedisSessionStore, extra: Partial<SessionRecord> = {}) {
    const now = Date.now();
    const r = sampleRecord(extra, now);
    await s.create(r, { maxSessionsPerUser: 5, now });
    return r;
  }
  /** Reads `id` until the store's tracking connection has answered (the cache starts off). */
  async function tracking(s: RedisSessionStore, id: string) {
    await eventually('the tracking connection answered', async () => {
      await s.get(id, Date.now());
      return stats(s).enabled;
    });
  }
  /** The id of the store's tracking connection (flag `t` in CLIENT LIST). */
  async function trackingIds(): Promise<string[]> {
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
    return list
      .split('\n')
      .filter((line) => / flags=\S*t/.test(line))
      .map((line) => /id=(\d+)/.exec(line)?.[1] ?? '')
      .filter(Boolean);
  }

  it('is on by default with node-redis; a session read again is served from memory', async () => {
    const s = store(prefix());
    const r = await created(s);
    assert.equal(stats(s).enabled, false, 'off until the tracking connection answered');
    const first = await s.get(r.id, Date.now());
    assert.equal(first.record?.id, r.id, 'read through the other connection meanwhile');
    await tracking(s, r.id);
    const { hits, misses } = stats(s);
    const second = await s.get(r.id, Date.now());
    const third = await s.get(r.id, Date.now());
    assert.deepEqual(second.record, first.record);
    assert.deepEqual(third.record, first.record);
    assert.notEqual(third.record, second.record, 'each read gets its own copy');
    const st = stats(s);
    assert.deepEqual([st.hits, st.misses], [hits + 2, misses]);
    assert.equal(st.entries, 1);
    assert.ok(st.bytes > 0);
  });

  /** Calls of `command` the test's Redis has executed so far (INFO commandstats). */
  async function calls(command: string): Promise<number> {
    const info = String(await admin.sendCommand(['INFO', 'commandstats']));
    return Number(info.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`))?.[1] ?? 0);
  }

  it('a burst of requests of one uncached session sends one GET; a change meanwhile is not missed', async () => {
    const p = prefix();
    const [s, other] = [store(p), store(p, { localCache: false })];
    const r = await created(s);
    await tracking(s, r.id);
    await other.patch(r.id, { set: { n: 1 } }, Date.now());
    await eventually('the patch invalidated', () => stats(s).entries === 0);
    const gets = await calls('get');
    const burst = await Promise.all(Array.from({ length: 50 }, () => s.get(r.id, Date.now())));
    assert.equal((await calls('get')) - gets, 1, 'one GET for the whole burst');
    for (const found of burst) assert.equal(found.record?.data.n, 1);
    // A change landing while a burst is being served: every read that starts after the change
    // was acknowledged sees it.
    for (let round = 2; round < 12; round++) {
      const early = Array.from({ length: 20 }, () => s.get(r.id, Date.now()));
      await other.patch(r.id, { set: { n: round } }, Date.now());
      const late = await Promise.all(Array.from({ length: 20 }, () => s.get(r.id, Date.now())));
      for (const found of late) assert.equal(found.record?.data.n, round, `round ${round}`);
      await Promise.all(early);
    }
  });

  it('a burst of requests of one session whose touch is due sends one touch', async () => {
    const s = store(prefix());
    const r = await created(s);
    await tracking(s, r.id);
    const policy = { touchAfter: 60_000, idleTimeout: 1_800_000 };
    const later = r.lastSeenAt + 120_000;
    const scripts = await calls('evalsha');
    const burst = await Promise.all(Array.from({ length: 50 }, () => s.get(r.id, later, policy)));
    assert.equal((await calls('evalsha')) - scripts, 1, 'one touch script for the burst');
    for (const found of burst) assert.equal(found.record?.lastSeenAt, later);
    assert.equal(burst.filter((f) => 'touched' in f && f.touched).length, 1);
    assert.equal((await s.get(r.id, later + 1, policy)).record?.lastSeenAt, later);
  });

  it("another process's patch, logout and a raw DEL drop the copy at once", async () => {
    const p = prefix();
    const [a, b] = [store(p), store(p, { localCache: false })];
    const r = await created(a);
    await tracking(a, r.id);
    await b.patch(r.id, { set: { theme: 'light' } }, Date.now());
    await eventually('the patch invalidated', () => stats(a).entries === 0);
    assert.equal((await a.get(r.id, Date.now())).record?.data.theme, 'light');

    assert.equal(stats(a).entries, 1);
    await b.destroy(r.id, 'logout', Date.now());
    await eventually('the logout invalidated', () => stats(a).entries === 0);
    assert.equal((await a.get(r.id, Date.now())).record, null);

    const r2 = await created(a);
    await a.get(r2.id, Date.now());
    const key = (await admin.keys(`{${p}}s:*`))[0];
    assert.ok(key);
    await admin.del(key);
    await eventually('the DEL invalidated', () => stats(a).entries === 0);
    assert.equal(reasonOf(await a.get(r2.id, Date.now())), 'not_found');
    assert.ok(stats(a).invalidations >= 3);
  });

  it("Redis's own expiry of the key drops the copy", async () => {
    const p = prefix();
    const s = store(p);
    const r = await created(s);
    await tracking(s, r.id);
    const [key] = await admin.keys(`{${p}}s:*`);
    await admin.pExpire(key!, 300);
    // PEXPIRE itself changes the key: read it again, then the expiry must drop that copy too.
    await eventually('the PEXPIRE invalidated', () => stats(s).entries === 0);
    assert.equal((await s.get(r.id, Date.now())).record?.id, r.id);
    assert.equal(stats(s).entries, 1);
    await eventually('the expiry invalidated', () => stats(s).entries === 0);
    assert.equal(reasonOf(await s.get(r.id, Date.now())), 'not_found');
  });

  it("the store's own writes drop its copy before they return", async () => {
    const s = store(prefix());
    const r = await created(s);
    await tracking(s, r.id);
    assert.equal(stats(s).entries, 1);
    const before = stats(s).invalidations;
    await s.patch(r.id, { set: { n: 1 } }, Date.now());
    // Synchronously after the write: no push from Redis has been read yet in this turn.
    assert.equal(stats(s).entries, 0);
    assert.ok(stats(s).invalidations > before);
    assert.equal((await s.get(r.id, Date.now())).record?.data.n, 1);
    await s.destroy(r.id, 'logout', Date.now());
    assert.equal(stats(s).entries, 0);
    assert.equal((await s.get(r.id, Date.now())).record, null);
  });

  it('a killed tracking connection empties the cache and keeps it off until tracking is back', async () => {
    const p = prefix();
    const [s, other] = [store(p), store(p, { localCache: false })];
    const r = await created(s);
    await tracking(s, r.id);
    assert.equal(stats(s).entries, 1);
    const flushes = stats(s).flushes;
    for (const id of await trackingIds()) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    await eventually('the drop was seen', () => stats(s).flushes > flushes);
    assert.equal(stats(s).enabled, false);
    assert.equal(stats(s).entries, 0);
    // Changed while this process had no tracking: the next read must see it.
    await other.patch(r.id, { set: { theme: 'while-down' } }, Date.now());
    assert.equal((await s.get(r.id, Date.now())).record?.data.theme, 'while-down');
    await tracking(s, r.id);
    assert.equal((await s.get(r.id, Date.now())).record?.data.theme, 'while-down');
    const hits = stats(s).hits;
    await s.get(r.id, Date.now());
    assert.equal(stats(s).hits, hits + 1);
    // And the new connection tracks again.
    await other.patch(r.id, { set: { theme: 'tracked' } }, Date.now());
    await eventually('tracking works again', () => stats(s).entries === 0);
    assert.equal((await s.get(r.id, Date.now())).record?.data.theme, 'tracked');
  });

  it('bounds: maxEntries and maxBytes evict the least recently read, maxAge expires', async () => {
    const p = prefix();
    const few = store(p, { localCache: { maxEntries: 3 } });
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await created(few));
    await tracking(few, records[0]!.id);
    for (const r of records) await few.get(r.id, Date.now());
    assert.equal(stats(few).entries, 3);
    assert.equal(stats(few).evictions, 2);
    // The two oldest were evicted: reading the newest is a hit, the oldest a miss.
    const { hits, misses } = stats(few);
    await few.get(records[4]!.id, Date.now());
    await few.get(records[0]!.id, Date.now());
    assert.deepEqual([stats(few).hits, stats(few).misses], [hits + 1, misses + 1]);

    // Room for two and a half of these (equal-sized) records: two are kept.
    const maxBytes = Math.floor((stats(few).bytes / stats(few).entries) * 2.5);
    const small = store(p, { localCache: { maxBytes } });
    await tracking(small, records[0]!.id);
    for (const r of records) await small.get(r.id, Date.now());
    const st = stats(small);
    assert.ok(st.bytes <= maxBytes, `${st.bytes} bytes`);
    assert.deepEqual([st.entries, st.evictions], [2, 3]);

    const brief = store(p, { localCache: { maxAge: 100 } });
    await tracking(brief, records[0]!.id);
    const hits0 = stats(brief).hits;
    await brief.get(records[0]!.id, Date.now());
    assert.equal(stats(brief).hits, hits0 + 1);
    await sleep(150);
    await brief.get(records[0]!.id, Date.now());
    assert.equal(stats(brief).hits, hits0 + 1);
    assert.equal(stats(brief).expirations, 1);
  });

  it('a stopped server empties the cache; reads fail typed, then resume after the restart', async () => {
    const own = await startRedis();
    const s = createRedisStore({ port: own.port, prefix: prefix(), connectTimeout: 500 });
    try {
      const r = await created(s);
      await tracking(s, r.id);
      await own.stop();
      await eventually('the drop was seen', () => stats(s).enabled === false);
      assert.equal(stats(s).entries, 0);
      await assert.rejects(s.get(r.id, Date.now()), StoreUnavailableError);
      await own.start();
      // The restarted server is empty (no persistence): the session is gone, not served from memory.
      await eventually('reads work again', async () => {
        try {
          return reasonOf(await s.get(r.id, Date.now())) === 'not_found';
        } catch {
          return false;
        }
      });
      // The store's write connection may still be marked down (fail fast) for its retryDelay.
      let again: Awaited<ReturnType<typeof created>> | undefined;
      await eventually('writes work again', async () => {
        try {
          again = await created(s);
          return true;
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          return false;
        }
      });
      await tracking(s, again!.id);
      const hits = stats(s).hits;
      await s.get(again!.id, Date.now());
      assert.equal(stats(s).hits, hits + 1);
    } finally {
      await s.close();
      await own.stop();
    }
  });

  it("works over a caller's node-redis client (a duplicate tracks) and leaves it open", async () => {
    const client = createClient({ socket: { port: redis.port, host: '127.0.0.1' } });
    await client.connect();
    try {
      const p = prefix();
      const s = createRedisStore({ client, prefix: p });
      const other = store(p, { localCache: false });
      const r = await created(s);
      await tracking(s, r.id);
      const hits = stats(s).hits;
      await s.get(r.id, Date.now());
      assert.equal(stats(s).hits, hits + 1);
      await other.destroy(r.id, 'admin', Date.now());
      await eventually('invalidated', () => stats(s).entries === 0);
      assert.equal((await s.get(r.id, Date.now())).record, null);
      await s.close();
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.destroy();
    }
  });

  it('ioredis: off by default, a ConfigError when asked for; bad bounds are ConfigErrors', () => {
    const io = store(prefix(), { clientLibrary: 'ioredis' });
    assert.equal(io.localCacheStats(), null);
    assert.throws(
      () => createRedisStore({ clientLibrary: 'ioredis', localCache: true }),
      (err) => err instanceof ConfigError && err.field === 'redis.localCache',
    );
    assert.equal(store(prefix(), { localCache: false }).localCacheStats(), null);
    for (const [localCache, field] of [
      [{ maxEntries: 0 }, 'redis.localCache.maxEntries'],
      [{ maxBytes: 1.5 }, 'redis.localCache.maxBytes'],
      [{ maxAge: '-1s' }, 'redis.localCache.maxAge'],
      [{ ttl: 5 }, 'redis.localCache.ttl'],
      ['yes', 'redis.localCache'],
    ] as const)
      assert.throws(
        () => createRedisStore({ port: redis.port, localCache: localCache as never }),
        (err) => err instanceof ConfigError && err.field === field,
        JSON.stringify(localCache),
      );
  });
});
