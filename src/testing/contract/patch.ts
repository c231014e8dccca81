/**
 * Patches are deltas: keys set and unset (or the whole data replaced), the CSRF token rotated, the
 * version bumped; a patch of an id that is not live creates nothing.
 */
import assert from 'node:assert/strict';
import { randomSessionId, sampleRecord } from '../fixtures.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the patch tests: deltas applied, unknown ids untouched. */
export function testPatch(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('patch sets and unsets keys, rotates csrf, bumps the version', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({ data: { a: 1, b: 2 } }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const updated = await store.patch(
      record.id,
      { set: { c: { n: 3 } }, unset: ['a'], csrf: 'new-csrf' },
      now,
    );
    assert.ok(updated);
    assert.deepEqual(updated.data, { b: 2, c: { n: 3 } });
    assert.equal(updated.csrf, 'new-csrf');
    assert.ok(updated.version > record.version);
    const found = await store.get(record.id, now);
    assert.ok(found.record);
    assert.deepEqual(found.record.data, { b: 2, c: { n: 3 } });
    assert.equal(found.record.csrf, 'new-csrf');
  });

  suite.single('a replacing patch makes the data exactly the keys it sets', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({ data: { a: 1, b: { deep: [1] } } }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const updated = await store.patch(record.id, { set: { b: 2, c: 3 }, replace: true }, now);
    assert.deepEqual(updated?.data, { b: 2, c: 3 });
    assert.deepEqual((await store.get(record.id, now)).record?.data, { b: 2, c: 3 });
    assert.ok(await store.patch(record.id, { set: {}, replace: true }, now));
    assert.deepEqual((await store.get(record.id, now)).record?.data, {});
  });

  suite.pair('of concurrent replacing patches one is stored whole', [], async (a, b) => {
    const now = Date.now();
    const record = sampleRecord({ data: { start: true } }, now);
    await a.create(record, { maxSessionsPerUser: 5, now });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).patch(record.id, { set: { n: i, [`only${i}`]: true }, replace: true }, now),
      ),
    );
    const data = (await a.get(record.id, now)).record?.data;
    assert.ok(data && typeof data.n === 'number');
    assert.deepEqual(data, { n: data.n, [`only${data.n}`]: true }, 'no key of another patch');
  });

  suite.single('patch of an unknown id returns null and creates nothing', [], async (store) => {
    const now = Date.now();
    const id = randomSessionId();
    assert.equal(await store.patch(id, { set: { a: 1 } }, now), null);
    assert.equal((await store.get(id, now)).record, null);
  });
}
