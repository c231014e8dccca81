/**
 * Touch on lookup: `get` with a touch policy slides the idle expiry only when due, and never past
 * the absolute expiry.
 */
import assert from 'node:assert/strict';
import { sampleRecord } from '../fixtures.js';
import { HOUR } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the touch tests: sliding only when due, capped by the absolute expiry. */
export function testTouch(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single(
    'get with a touch policy slides the idle expiry only when due',
    [],
    async (store) => {
      const now = Date.now();
      const record = sampleRecord({}, now);
      await store.create(record, { maxSessionsPerUser: 5, now });
      const policy = { touchAfter: 60_000, idleTimeout: HOUR / 2 };

      const early = await store.get(record.id, now + 30_000, policy);
      assert.ok(early.record);
      assert.equal(early.touched, false, 'no touch before touchAfter');
      assert.equal(early.record.lastSeenAt, now);

      const later = now + 61_000;
      const due = await store.get(record.id, later, policy);
      assert.ok(due.record);
      assert.equal(due.touched, true);
      assert.equal(due.record.lastSeenAt, later);
      assert.equal(due.record.idleExpiresAt, later + HOUR / 2);

      const reread = await store.get(record.id, later);
      assert.ok(reread.record);
      assert.equal(reread.record.lastSeenAt, later, 'the touch was stored');
    },
  );

  suite.single(
    "a touch keeps the session's own idle window, capped by the policy; setWindow sets it",
    [],
    async (store) => {
      const now = Date.now();
      const day = 24 * HOUR;
      const long = sampleRecord({ idleExpiresAt: now + 30 * day, absoluteExpiresAt: null }, now);
      const short = sampleRecord({ idleExpiresAt: now + 10 * 60_000 }, now);
      const reset = sampleRecord({ idleExpiresAt: now + 60_000, absoluteExpiresAt: null }, now);
      for (const r of [long, short, reset]) await store.create(r, { maxSessionsPerUser: 5, now });
      const at = now + 30_000;
      const policy = { touchAfter: 0, idleTimeout: 7 * day };
      const capped = await store.get(long.id, at, policy);
      assert.equal(capped.record?.idleExpiresAt, at + 7 * day, 'a longer window is capped');
      const kept = await store.get(short.id, at, policy);
      assert.equal(kept.record?.idleExpiresAt, at + 10 * 60_000, 'a shorter window is kept');
      const set = await store.get(reset.id, at, { ...policy, setWindow: true });
      assert.equal(set.record?.idleExpiresAt, at + 7 * day, 'setWindow makes it the window');
      const later = await store.get(reset.id, at + 60_000, policy);
      assert.equal(later.record?.idleExpiresAt, at + 60_000 + 7 * day, 'and the session keeps it');
    },
  );

  suite.single('a touch never slides past the absolute expiry', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({ absoluteExpiresAt: now + 10 * 60_000 }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const at = now + 5 * 60_000;
    const found = await store.get(record.id, at, { touchAfter: 0, idleTimeout: HOUR });
    assert.ok(found.record);
    assert.equal(found.record.idleExpiresAt, now + 10 * 60_000);
  });
}
