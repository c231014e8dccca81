/**
 * Guarantee 2, no lost updates: concurrent deltas on one session, across clients, keep every key.
 */
import assert from 'node:assert/strict';
import { sampleRecord } from '../fixtures.js';
import { HOUR } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the concurrent-patch tests. */
export function testNoLostUpdates(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.pair('100 concurrent patches on distinct keys keep all 100', [], async (a, b) => {
    const now = Date.now();
    const record = sampleRecord({ data: {} }, now);
    await a.create(record, { maxSessionsPerUser: 5, now });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? a : b).patch(record.id, { set: { [`k${i}`]: i } }, now),
      ),
    );
    assert.ok(results.every((r) => r !== null));
    const found = await a.get(record.id, now);
    assert.ok(found.record);
    const expected = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    assert.deepEqual(found.record.data, expected);
  });

  suite.pair('concurrent patches and touches on one session keep every key', [], async (a, b) => {
    const now = Date.now();
    const record = sampleRecord({ data: {} }, now);
    await a.create(record, { maxSessionsPerUser: 5, now });
    const policy = { touchAfter: 0, idleTimeout: HOUR / 2 };
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? (i % 2 ? a : b).get(record.id, now + i, policy)
          : (i % 2 ? a : b).patch(record.id, { set: { [`k${i}`]: i } }, now + i),
      ),
    );
    const found = await a.get(record.id, now + 100);
    assert.ok(found.record);
    for (let i = 0; i < 60; i++)
      if (i % 3 !== 0) assert.equal(found.record.data[`k${i}`], i, `key k${i} kept`);
  });
}
