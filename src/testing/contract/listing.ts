/**
 * Listing: a user's live sessions, most recently active first (`capabilities.listUser`), and every
 * live session paged with a total (`capabilities.listAll`).
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the listing tests (each skipped for a store without its capability). */
export function testListing(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single(
    "listUser returns the user's live sessions, most recently active first",
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const rs = [now - 3_000, now - 1_000, now - 2_000].map((t) =>
        sampleRecord({ userId, lastSeenAt: t }, now),
      );
      for (const r of rs) await store.create(r, { maxSessionsPerUser: 5, now });
      const listed = await store.listUser(userId, now);
      assert.deepEqual(
        listed.map((r) => r.id),
        [rs[1]!.id, rs[2]!.id, rs[0]!.id],
      );
      assert.equal(listed[0]!.device.browser, 'Safari');
    },
  );

  suite.single('list pages through live sessions with a total', ['listAll'], async (store) => {
    assert.ok(store.list, 'a store with listAll implements list');
    const now = Date.now();
    const userId = randomUserId();
    const rs = Array.from({ length: 7 }, (_, i) =>
      sampleRecord({ userId, lastSeenAt: now - i * 1000 }, now),
    );
    for (const r of rs) await store.create(r, { maxSessionsPerUser: 10, now });
    const first = await store.list({ userId, limit: 3 }, now);
    const second = await store.list({ userId, limit: 3, offset: 3 }, now);
    const third = await store.list({ userId, limit: 3, offset: 6 }, now);
    assert.equal(first.total, 7);
    assert.deepEqual(
      [...first.sessions, ...second.sessions, ...third.sessions].map((r) => r.id),
      rs.map((r) => r.id),
    );
    const everyone = await store.list({ limit: 1000 }, now);
    assert.ok(everyone.total >= 7);
  });
}
