/**
 * Guarantee 1, atomic limit: N concurrent creates for one user with limit L leave exactly min(N, L)
 * sessions, the evicted ones are the least recently active and each is reported. Needs
 * `capabilities.atomicLimit`.
 */
import assert from 'node:assert/strict';
import type { SessionRecord } from '../../core/types.js';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { fitted, ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the per-user limit tests (skipped for a store without `atomicLimit`). */
export function testAtomicLimit(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);
  const concurrentCreates = options.concurrentCreates ?? 20;

  suite.single(
    'the per-user limit evicts the least recently active sessions',
    ['atomicLimit'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const made: SessionRecord[] = [];
      // Activity order differs from creation order: the second-created is the least recently active.
      for (const [i, lastSeen] of [now - 2_000, now - 5_000, now - 1_000].entries()) {
        const r = fitted(
          store,
          sampleRecord({ userId, createdAt: now - 10_000 + i, lastSeenAt: lastSeen }, now),
        );
        made.push(r);
        assert.deepEqual((await store.create(r, { maxSessionsPerUser: 3, now })).evicted, []);
      }
      const fourth = fitted(store, sampleRecord({ userId }, now));
      const result = await store.create(fourth, { maxSessionsPerUser: 3, now });
      assert.deepEqual(result.evicted, [made[1]!.id]);
      assert.equal((await store.get(made[1]!.id, now)).record, null, 'the evicted session is gone');
      for (const r of [made[0]!, made[2]!, fourth]) assert.ok((await store.get(r.id, now)).record);
      if (store.capabilities.listUser) {
        assert.deepEqual(ids(await store.listUser(userId, now)), ids([made[0]!, made[2]!, fourth]));
      }
    },
  );

  suite.pair(
    `${concurrentCreates} concurrent creates for one user with limit 5 leave exactly 5`,
    ['atomicLimit'],
    async (a, b) => {
      const now = Date.now();
      const userId = randomUserId();
      const records = Array.from({ length: concurrentCreates }, (_, i) =>
        fitted(a, sampleRecord({ userId, lastSeenAt: now - 1000 + i }, now)),
      );
      const results = await Promise.all(
        records.map((r, i) => (i % 2 === 0 ? a : b).create(r, { maxSessionsPerUser: 5, now })),
      );
      const evicted = results.flatMap((r) => r.evicted);
      assert.equal(new Set(evicted).size, evicted.length, 'each eviction is reported once');
      assert.equal(
        evicted.length,
        concurrentCreates - 5,
        'every session over the limit is reported evicted',
      );
      const alive: string[] = [];
      for (const r of records) if ((await a.get(r.id, now)).record) alive.push(r.id);
      assert.equal(alive.length, 5, 'exactly the limit remains');
      assert.deepEqual(
        [...alive].sort(),
        records
          .map((r) => r.id)
          .filter((id) => !evicted.includes(id))
          .sort(),
      );
      if (a.capabilities.listUser)
        assert.deepEqual(ids(await a.listUser(userId, now)), [...alive].sort());
    },
  );

  suite.single('anonymous sessions are not limited per user', [], async (store) => {
    const now = Date.now();
    const anon = Array.from({ length: 4 }, () => sampleRecord({ userId: null }, now));
    for (const r of anon)
      assert.deepEqual((await store.create(r, { maxSessionsPerUser: 1, now })).evicted, []);
    for (const r of anon) assert.ok((await store.get(r.id, now)).record);
  });
}
