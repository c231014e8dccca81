/**
 * Guarantee 6, regenerate is atomic: the new id holds the data and the old one is terminated in one
 * step, even against a concurrent regenerate or patches on the old id.
 */
import assert from 'node:assert/strict';
import { randomSessionId, randomUserId, sampleRecord } from '../fixtures.js';
import { fitted, ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the regenerate tests (the limit on the new user is skipped without `atomicLimit`). */
export function testRegenerateIsAtomic(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single(
    'regenerate moves the session to a new id and terminates the old one',
    [],
    async (store) => {
      const now = Date.now();
      const old = sampleRecord({ userId: null, data: { cart: [1] } }, now);
      await store.create(old, { maxSessionsPerUser: 5, now });
      const userId = randomUserId();
      const fresh = sampleRecord(
        { ...old, id: randomSessionId(), userId, csrf: 'rotated-csrf', version: 1 },
        now,
      );
      const result = await store.regenerate(old.id, fresh, { maxSessionsPerUser: 5, now });
      assert.equal(result.ok, true);
      assert.equal((await store.get(old.id, now)).record, null, 'the old id is dead');
      const found = await store.get(fresh.id, now);
      assert.ok(found.record);
      assert.deepEqual(found.record.data, { cart: [1] });
      assert.equal(found.record.userId, userId);
      if (store.capabilities.listUser)
        assert.deepEqual(ids(await store.listUser(userId, now)), [fresh.id]);
    },
  );

  suite.single('regenerate of a session that is not live creates nothing', [], async (store) => {
    const now = Date.now();
    const fresh = sampleRecord({}, now);
    const result = await store.regenerate(randomSessionId(), fresh, { maxSessionsPerUser: 5, now });
    assert.equal(result.ok, false);
    assert.equal((await store.get(fresh.id, now)).record, null);
  });

  suite.pair(
    'two concurrent regenerates of one session: exactly one succeeds',
    [],
    async (a, b) => {
      const now = Date.now();
      for (let round = 0; round < 5; round++) {
        const old = sampleRecord({}, now);
        await a.create(old, { maxSessionsPerUser: 5, now });
        const x = sampleRecord({ userId: old.userId }, now);
        const y = sampleRecord({ userId: old.userId }, now);
        const [rx, ry] = await Promise.all([
          a.regenerate(old.id, x, { maxSessionsPerUser: 5, now }),
          b.regenerate(old.id, y, { maxSessionsPerUser: 5, now }),
        ]);
        assert.equal(Number(rx.ok) + Number(ry.ok), 1, 'exactly one regenerate wins');
        const liveCount = [old, x, y].filter(Boolean);
        let alive = 0;
        for (const r of liveCount) if ((await a.get(r.id, now)).record) alive++;
        assert.equal(alive, 1, 'exactly one live session remains');
      }
    },
  );

  suite.pair(
    'regenerate racing patches on the old id leaves exactly one live session',
    [],
    async (a, b) => {
      const now = Date.now();
      const old = sampleRecord({ data: {} }, now);
      await a.create(old, { maxSessionsPerUser: 5, now });
      const fresh = sampleRecord({ userId: old.userId, data: {} }, now);
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        ops.push(b.patch(old.id, { set: { [`k${i}`]: i } }, now));
        if (i === 10) ops.push(a.regenerate(old.id, fresh, { maxSessionsPerUser: 5, now }));
      }
      await Promise.all(ops);
      assert.equal((await a.get(old.id, now)).record, null);
      assert.ok((await a.get(fresh.id, now)).record);
      if (a.capabilities.listUser)
        assert.deepEqual(ids(await a.listUser(old.userId!, now)), [fresh.id]);
    },
  );

  suite.single(
    'regenerate applies the per-user limit to the new user',
    ['atomicLimit'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const existing = [now - 3_000, now - 1_000].map((t) =>
        fitted(store, sampleRecord({ userId, lastSeenAt: t }, now)),
      );
      for (const r of existing) await store.create(r, { maxSessionsPerUser: 2, now });
      const anon = sampleRecord({ userId: null }, now);
      await store.create(anon, { maxSessionsPerUser: 2, now });
      const login = fitted(store, sampleRecord({ userId }, now));
      const result = await store.regenerate(anon.id, login, { maxSessionsPerUser: 2, now });
      assert.equal(result.ok, true);
      assert.deepEqual(result.evicted, [existing[0]!.id]);
    },
  );
}
