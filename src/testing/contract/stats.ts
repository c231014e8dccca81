/**
 * Stats: counts of live sessions, users and devices (`capabilities.stats`).
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { fitted } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

const UA_PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

/** Registers the stats test (skipped for a store without `stats`). */
export function testStats(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('stats count live sessions, users and devices', ['stats'], async (store) => {
    assert.ok(store.stats, 'a store with stats implements stats');
    const now = Date.now();
    const before = await store.stats(now);
    const userId = randomUserId();
    const phone = fitted(
      store,
      sampleRecord(
        {
          userId,
          userAgent: UA_PHONE,
          device: {
            browser: 'Mobile Safari',
            browserVersion: '17.1',
            os: 'iOS',
            osVersion: '17.1',
            type: 'mobile',
          },
        },
        now,
      ),
    );
    const laptop = fitted(store, sampleRecord({ userId }, now));
    for (const r of [phone, laptop, sampleRecord({ userId: null }, now)]) {
      await store.create(r, { maxSessionsPerUser: 5, now });
    }
    const after = await store.stats(now);
    assert.equal(after.activeSessions - before.activeSessions, 3);
    assert.equal(after.distinctUsers - before.distinctUsers, 1);
    assert.equal(after.anonymousSessions - before.anonymousSessions, 1);
    assert.equal((after.byDeviceType.mobile ?? 0) - (before.byDeviceType.mobile ?? 0), 1);
    assert.equal((after.byBrowser.Safari ?? 0) - (before.byBrowser.Safari ?? 0), 2);
    assert.equal((after.byOs.iOS ?? 0) - (before.byOs.iOS ?? 0), 1);
  });
}
