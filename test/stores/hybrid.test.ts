import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/core/types.js';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { randomUserId, sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { recordingLogger } from './sql-shared.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-hybrid-'));
const url = `sqlite:${join(folder, 'sessions.db')}`;
const table = `h_${randomBytes(6).toString('hex')}`;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const sqlStore = () => createSqlStore({ url, table, timeout: 5000 });
const HOUR = 3_600_000;

/** One process's memory cache shared by two hybrid instances; closing one must not empty it. */
function sharedMemoryCache(): { cache: () => SessionStore; close: () => Promise<void> } {
  const memory = createMemoryStore();
  return {
    cache: () => ({ ...memory, close: async () => {} }),
    close: () => memory.close(),
  };
}

/** A real cache store that can be switched to fail, as a cache server going away would. */
function breakable(store: SessionStore): SessionStore & { broken: boolean } {
  const wrapped = { broken: false } as SessionStore & { broken: boolean };
  for (const [key, value] of Object.entries(store)) {
    (wrapped as unknown as Record<string, unknown>)[key] =
      typeof value === 'function'
        ? (...args: unknown[]) =>
            wrapped.broken
              ? Promise.reject(new StoreUnavailableError('memory', undefined, 'switched off'))
              : (value as (...a: unknown[]) => unknown)(...args)
        : value;
  }
  return wrapped;
}

describe('hybrid store (memory + SQLite): contract', () => {
  let current = sharedMemoryCache();
  testSessionStore(
    it,
    () => {
      current = sharedMemoryCache();
      return createHybridStore({ cache: current.cache(), database: sqlStore() });
    },
    {
      second: () => createHybridStore({ cache: current.cache(), database: sqlStore() }),
      prefix: 'hybrid memory+sqlite',
      unreachable: () =>
        createHybridStore({
          cache: createMemoryStore(),
          database: createSqlStore({ url: `sqlite:${join(folder, 'no', 'such', 'x.db')}`, table }),
        }),
    },
  );
  testDestroyReturnsOwner(it, () =>
    createHybridStore({ cache: createMemoryStore(), database: sqlStore() }),
  );
});

describe('hybrid store (memory + SQLite, touches written behind): contract', () => {
  let current = sharedMemoryCache();
  testSessionStore(
    it,
    () => {
      current = sharedMemoryCache();
      return createHybridStore({ cache: current.cache(), database: sqlStore(), writeBehind: true });
    },
    {
      second: () =>
        createHybridStore({ cache: current.cache(), database: sqlStore(), writeBehind: true }),
      prefix: 'hybrid write-behind',
    },
  );
});

describe('hybrid store: semantics', () => {
  it('an emptied cache logs nobody out: reads go through to the database and refill', async () => {
    const memory = createMemoryStore();
    const store = createHybridStore({ cache: memory, database: sqlStore() });
    const now = Date.now();
    const records = Array.from({ length: 20 }, () => sampleRecord({}, now));
    for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
    for (const r of records) assert.ok((await store.get(r.id, now)).record);
    assert.equal((await memory.stats!(now)).activeSessions, 20, 'reads filled the cache');
    for (const r of records) await memory.destroy(r.id, 'admin', now); // the cache loses everything
    for (const r of records) assert.ok((await store.get(r.id, now)).record, 'still logged in');
    assert.equal((await memory.stats!(now)).activeSessions, 20, 'and the cache is refilled');
    await store.close();
  });

  it('a cache that is down: the database answers, terminations still hold', async () => {
    const logger = recordingLogger();
    const cache = breakable(createMemoryStore());
    const store = createHybridStore({ cache, database: sqlStore(), logger, cacheRetryDelay: 50 });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    assert.ok((await store.get(r.id, now)).record); // cached now
    cache.broken = true;
    assert.ok((await store.get(r.id, now)).record, 'served from the database');
    assert.deepEqual(await store.destroy(r.id, 'logout', now), { userId: r.userId });
    cache.broken = false;
    await new Promise((resolve) => setTimeout(resolve, 60)); // past cacheRetryDelay
    // The cache still holds a copy it could not be told about; the store must not serve it.
    assert.ok((await cache.get(r.id, now)).record, 'the stale copy is really there');
    assert.equal((await store.get(r.id, now)).record, null);
    assert.equal((await cache.get(r.id, now)).record, null, 'and it is removed once reachable');
    assert.ok(logger.warnings.length > 0, 'cache failures are logged');
    await store.close();
  });

  it('a failed database write reaches the caller and changes nothing', async () => {
    const cache = createMemoryStore();
    const store = createHybridStore({
      cache,
      database: createSqlStore({ url: `sqlite:${join(folder, 'no', 'x.db')}`, table }),
    });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await assert.rejects(store.create(r, { maxSessionsPerUser: 5, now }), StoreUnavailableError);
    await assert.rejects(store.patch(r.id, { set: { a: 1 } }, now), StoreUnavailableError);
    await assert.rejects(store.destroy(r.id, 'logout', now), StoreUnavailableError);
    assert.equal((await cache.get(r.id, now)).record, null);
    await store.close();
  });

  it('terminations reach the database audit trail and the cache', async () => {
    const cache = createMemoryStore();
    const database = sqlStore();
    const store = createHybridStore({ cache, database });
    assert.deepEqual(store.capabilities, database.capabilities);
    const now = Date.now();
    const userId = randomUserId();
    const rs = Array.from({ length: 3 }, () => sampleRecord({ userId }, now));
    for (const r of rs) {
      await store.create(r, { maxSessionsPerUser: 5, now });
      await store.get(r.id, now);
    }
    await store.destroy(rs[0]!.id, 'logout', now);
    await store.destroyUser(userId, { reason: 'logout-all', now });
    for (const r of rs) assert.equal((await cache.get(r.id, now)).record, null);
    const audit = await store.listTerminated!({ userId, limit: 10 }, now);
    assert.deepEqual(audit.sessions.map((s) => s.terminationReason).sort(), [
      'logout',
      'logout-all',
      'logout-all',
    ]);
    await store.close();
  });

  it('write-behind: touches are coalesced, bounded, and drops are counted and logged', async () => {
    const logger = recordingLogger();
    const database = sqlStore();
    const store = createHybridStore({
      cache: createMemoryStore(),
      database,
      logger,
      writeBehind: { maxQueue: 2, flushInterval: 60_000 },
    });
    const now = Date.now();
    const policy = { touchAfter: 1000, idleTimeout: HOUR };
    const rs = Array.from({ length: 5 }, () => sampleRecord({}, now));
    for (const r of rs) {
      await store.create(r, { maxSessionsPerUser: 5, now });
      await store.get(r.id, now); // fill the cache
    }
    for (const r of rs) {
      const found = await store.get(r.id, now + 5000, policy);
      assert.ok(found.record && found.touched, 'served from the cache, touch due');
    }
    // The same session touched again coalesces into its queued entry.
    await store.get(rs[0]!.id, now + 7000, policy);
    assert.deepEqual(store.writeBehindStats(), { queued: 2, written: 0, dropped: 3, failed: 0 });
    assert.ok(
      logger.warnings.some((w) => w.dropped === 1),
      'the first drop is logged',
    );
    assert.equal((await database.get(rs[0]!.id, now)).record?.lastSeenAt, now, 'not yet written');
    await store.flush();
    assert.equal((await database.get(rs[0]!.id, now)).record?.lastSeenAt, now + 7000);
    assert.equal((await database.get(rs[1]!.id, now)).record?.lastSeenAt, now + 5000);
    assert.equal((await database.get(rs[2]!.id, now)).record?.lastSeenAt, now, 'dropped');
    assert.equal(store.writeBehindStats().written, 2);
    await store.close();
  });
});
