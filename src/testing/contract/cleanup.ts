/**
 * Guarantee 5, cleanup: expired sessions are removed and counted, live ones survive. (Its cost
 * following the expired count is backend-specific and tested with each store.)
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the cleanup test. */
export function testCleanup(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('cleanup removes expired sessions and counts them', [], async (store) => {
    const now = Date.now();
    const userId = randomUserId();
    const expired = Array.from({ length: 10 }, (_, i) =>
      sampleRecord({ userId: i % 2 ? userId : null, idleExpiresAt: now + 1_000 + i }, now),
    );
    const live = Array.from({ length: 5 }, () => sampleRecord({ userId: null }, now));
    for (const r of [...expired, ...live]) await store.create(r, { maxSessionsPerUser: null, now });
    const later = now + 60_000;
    const removed = await store.cleanup(later);
    assert.ok(removed >= 10, `cleanup removed ${removed}, expected at least the 10 expired`);
    for (const r of live)
      assert.ok((await store.get(r.id, later)).record, 'live sessions survive cleanup');
    for (const r of expired) assert.equal((await store.get(r.id, later)).record, null);
    if (store.capabilities.listUser) assert.deepEqual(await store.listUser(userId, later), []);
  });
}
