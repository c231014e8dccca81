import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { createMemoryRateLimitStore, createMemoryStore } from '../../src/stores/memory.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

describe('memory store: contract', () => {
  testSessionStore(it, () => createMemoryStore());
  testDestroyReturnsOwner(it, () => createMemoryStore());
});

describe('memory store: its own bounds', () => {
  it('evicts the least recently active session when full', async () => {
    const store = createMemoryStore({ maxSessions: 3 });
    const now = Date.now();
    const rs = [now - 3000, now - 1000, now - 2000].map((t) =>
      sampleRecord({ userId: null, lastSeenAt: t }, now),
    );
    // Created in this order; then the first is touched so the third becomes least recent.
    for (const r of rs) await store.create(r, { maxSessionsPerUser: null, now });
    await store.get(rs[0]!.id, now + 1, { touchAfter: 0, idleTimeout: 1_800_000 });
    const fourth = sampleRecord({ userId: null }, now);
    const { evicted } = await store.create(fourth, { maxSessionsPerUser: null, now });
    assert.deepEqual(evicted, [rs[1]!.id]);
    assert.equal((await store.stats!(now)).activeSessions, 3);
  });

  it('a flood of anonymous sessions evicts anonymous sessions, never a signed-in one', async () => {
    const store = createMemoryStore({ maxSessions: 50 });
    const now = Date.now();
    const users = Array.from({ length: 10 }, (_, i) =>
      sampleRecord({ userId: `user-${i}`, lastSeenAt: now - 60_000 }, now),
    );
    for (const r of users) await store.create(r, { maxSessionsPerUser: null, now });
    for (let i = 0; i < 1000; i++)
      await store.create(sampleRecord({ userId: null }, now), { maxSessionsPerUser: null, now });
    for (const r of users) assert.notEqual((await store.get(r.id, now)).record, null, r.userId!);
    assert.equal((await store.stats!(now)).activeSessions, 50);
    // Full of signed-in sessions only: the least recently active one makes room.
    const full = createMemoryStore({ maxSessions: 2 });
    const [a, b, c] = [3, 2, 1].map((ago) =>
      sampleRecord({ userId: `u${ago}`, lastSeenAt: now - ago * 1000 }, now),
    );
    for (const r of [a!, b!]) await full.create(r, { maxSessionsPerUser: null, now });
    assert.deepEqual((await full.create(c!, { maxSessionsPerUser: null, now })).evicted, [a!.id]);
  });

  it('a flood of anonymous sessions stays within maxSessions', async () => {
    const store = createMemoryStore({ maxSessions: 100 });
    const now = Date.now();
    for (let i = 0; i < 1000; i++)
      await store.create(sampleRecord({ userId: null }, now), { maxSessionsPerUser: null, now });
    assert.equal((await store.stats!(now)).activeSessions, 100);
  });

  it('cleanup touches only expired entries (heap), leaving the rest', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    for (let i = 0; i < 2000; i++) {
      const expired = i % 4 === 0;
      await store.create(
        sampleRecord({ userId: null, idleExpiresAt: expired ? now + 10 : now + 60_000 }, now),
        {
          maxSessionsPerUser: null,
          now,
        },
      );
    }
    assert.equal(await store.cleanup(now + 20), 500);
    assert.equal(await store.cleanup(now + 20), 0);
    assert.equal((await store.stats!(now + 20)).activeSessions, 1500);
  });

  it('reports terminated and expired reasons from its tombstones', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    const a = sampleRecord({}, now);
    const b = sampleRecord({ idleExpiresAt: now + 10 }, now);
    for (const r of [a, b]) await store.create(r, { maxSessionsPerUser: 5, now });
    await store.destroy(a.id, 'logout', now);
    assert.deepEqual(await store.get(a.id, now), { record: null, reason: 'terminated' });
    assert.deepEqual(await store.get(b.id, now + 20), { record: null, reason: 'expired_idle' });
  });

  it('returned data cannot be mutated into the store', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    const r = sampleRecord({ data: { list: [1] } }, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    (r.data.list as number[]).push(2); // the caller's object is not the stored one
    const found = await store.get(r.id, now);
    assert.deepEqual(found.record?.data, { list: [1] });
    assert.throws(() => {
      (found.record!.data.list as number[]).push(3);
    }, TypeError);
  });

  it('a closed store refuses every operation with a typed StoreError', async () => {
    const store = createMemoryStore();
    await store.close();
    await assert.rejects(store.get(sampleRecord().id, Date.now()), (err: unknown) => {
      assert.ok(err instanceof StoreError, String(err));
      assert.equal(err.code, 'STORE_ERROR');
      assert.equal(err.store, 'memory');
      return true;
    });
  });

  it('rejects a non-positive maxSessions', () => {
    assert.throws(
      () => createMemoryStore({ maxSessions: 0 }),
      /maxSessions: must be a positive integer/,
    );
  });
});

describe('memory rate-limit store', () => {
  it('counts within a window and resets after it', async () => {
    const store = createMemoryRateLimitStore();
    const now = 1_000_000;
    assert.deepEqual(await store.hit('k', 1000, now), { count: 1, resetAt: now + 1000 });
    assert.deepEqual(await store.hit('k', 1000, now + 500), { count: 2, resetAt: now + 1000 });
    assert.deepEqual(await store.peek('k', now + 999), { count: 2, resetAt: now + 1000 });
    assert.equal(await store.peek('k', now + 1000), null);
    assert.deepEqual(await store.hit('k', 1000, now + 1000), { count: 1, resetAt: now + 2000 });
    await store.reset('k');
    assert.equal(await store.peek('k', now + 1000), null);
  });

  it('concurrent hits are all counted', async () => {
    const store = createMemoryRateLimitStore();
    await Promise.all(Array.from({ length: 50 }, () => store.hit('k', 60_000, 0)));
    assert.equal((await store.peek('k', 1))?.count, 50);
  });
});
