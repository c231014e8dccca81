/**
 * Records round-trip exactly: what `create` stores, `get` returns, whatever the characters or the
 * size; an unknown id is a miss.
 */
import assert from 'node:assert/strict';
import { randomSessionId, randomUserId, sampleRecord } from '../fixtures.js';
import { ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the round-trip tests: create then get, misses, unusual characters, a large value. */
export function testRoundTrip(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);
  const largeValueBytes = options.largeValueBytes ?? 1_000_000;

  suite.single('create then get returns the record exactly', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({}, now);
    const result = await store.create(record, { maxSessionsPerUser: 5, now });
    assert.deepEqual(result.evicted, []);
    const found = await store.get(record.id, now);
    assert.ok(found.record, 'the session just created must be found');
    assert.deepEqual({ ...found.record, data: { ...found.record.data } }, record);
    assert.equal(found.touched, false);
  });

  suite.single('get of an unknown id is a miss', [], async (store) => {
    const found = await store.get(randomSessionId(), Date.now());
    assert.equal(found.record, null);
  });

  suite.single(
    'data with glob, separator and unicode characters round-trips exactly',
    [],
    async (store) => {
      const now = Date.now();
      const userId = `u*?[x]{slot}:\n\u00e9\u{1F600}-${randomUserId()}`;
      const data = {
        'k*?[]{}': 'v*?[]{}',
        'line\nbreak': 'a\r\nb',
        ключ: 'значение',
        emoji: '\u{1F510}\u{1F600}',
        nested: { deep: [1, 2.5, -3, null, true, { x: 'y' }] },
        empty: '',
        zero: 0,
      };
      const record = sampleRecord({ userId, data }, now);
      await store.create(record, { maxSessionsPerUser: 5, now });
      const found = await store.get(record.id, now);
      assert.ok(found.record);
      assert.equal(found.record.userId, userId);
      assert.deepEqual(found.record.data, data);
      if (store.capabilities.listUser) {
        assert.deepEqual(ids(await store.listUser(userId, now)), [record.id]);
        // A pattern-like user id must not match another user's sessions.
        const other = sampleRecord({ userId: 'u*' }, now);
        await store.create(other, { maxSessionsPerUser: 5, now });
        assert.deepEqual(ids(await store.listUser(userId, now)), [record.id]);
        await store.destroy(other.id, 'logout', now);
      }
    },
  );

  suite.single(`a ${largeValueBytes}-byte value round-trips exactly`, [], async (store) => {
    const now = Date.now();
    const big = `${'x'.repeat(largeValueBytes - 20)}\u{1F600}end`;
    const record = sampleRecord({ data: { big } }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const found = await store.get(record.id, now);
    assert.ok(found.record);
    assert.equal(found.record.data.big, big);
  });
}
