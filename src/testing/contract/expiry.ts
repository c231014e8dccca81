/**
 * Guarantee 4, expired is gone: an expired session is never returned, listed or counted, whether
 * or not cleanup has run.
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { HOUR, ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the expiry test. */
export function testExpiredIsGone(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('an expired session is never returned, listed or counted', [], async (store) => {
    const now = Date.now();
    const userId = randomUserId();
    // A browser name no other test uses, so counts stay exact on a backend shared with other tests.
    const device = { ...sampleRecord().device, browser: `Probe-${randomUserId()}` };
    const idle = sampleRecord({ userId, device, idleExpiresAt: now + 60_000 }, now);
    const absolute = sampleRecord({ userId, device, absoluteExpiresAt: now + 90_000 }, now);
    const live = sampleRecord({ userId, device }, now);
    for (const r of [idle, absolute, live]) await store.create(r, { maxSessionsPerUser: 5, now });
    const later = now + 120_000;

    if (store.capabilities.stats && store.stats) {
      assert.equal((await store.stats(now)).byBrowser[device.browser], 3);
      assert.equal(
        (await store.stats(later)).byBrowser[device.browser],
        1,
        'expired sessions are not counted',
      );
    }
    if (store.capabilities.listUser)
      assert.deepEqual(ids(await store.listUser(userId, later)), [live.id]);
    if (store.capabilities.listAll && store.list) {
      const listed = await store.list({ userId, limit: 10 }, later);
      assert.deepEqual(ids(listed.sessions), [live.id]);
      assert.equal(listed.total, 1);
    }
    const idleMiss = await store.get(idle.id, later);
    assert.equal(idleMiss.record, null);
    assert.ok(['expired_idle', 'not_found'].includes(idleMiss.reason));
    const absMiss = await store.get(absolute.id, later, { touchAfter: 0, idleTimeout: HOUR });
    assert.equal(absMiss.record, null);
    assert.ok(['expired_absolute', 'not_found'].includes(absMiss.reason));
    assert.equal(await store.patch(idle.id, { set: { a: 1 } }, later), null);
    assert.ok((await store.get(live.id, later)).record, 'the live session is still there');
  });
}
