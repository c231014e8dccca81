/**
 * `patch.maxDataBytes` is enforced on the stored result, inside the store's atomic step: a patch
 * that would leave the data over the limit (and larger than before) is refused with
 * `DataTooLargeError` and changes nothing, so concurrent patches can never add up past it. Size is
 * the UTF-8 length of the data as JSON, exactly as `JSON.stringify` writes it.
 */
import assert from 'node:assert/strict';
import { DataTooLargeError } from '../../core/errors.js';
import { dataBytes } from '../../core/record.js';
import type { SessionData } from '../../core/types.js';
import { sampleRecord } from '../fixtures.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

const isTooLarge = (err: unknown) => err instanceof DataTooLargeError;

/** Registers the data-limit tests, sized by `options.dataLimitBytes`. */
export function testDataLimit(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);
  const limit = options.dataLimitBytes ?? 65_536;

  suite.single('a patch past maxDataBytes is refused and changes nothing', [], async (store) => {
    const now = Date.now();
    // Keys JSON escapes (a quote, a backslash, control characters) and multi-byte characters:
    // the size must be counted as JSON.stringify writes it, in UTF-8 bytes.
    const data: SessionData = { 'q"\\\n\u0001': 'é', 'ключ\t': ['\u{1F600}', 1.5, null] };
    const record = sampleRecord({ data }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const used = dataBytes(data);
    // The member `,"fill":"…"` adds 10 bytes of framing to its value's length.
    const exact = { fill: 'x'.repeat(limit - used - 10) };
    assert.equal(dataBytes({ ...data, ...exact }), limit);
    const tooBig = { fill: 'y'.repeat(limit - used - 9) };
    await assert.rejects(
      store.patch(record.id, { set: tooBig, csrf: 'rotated', maxDataBytes: limit }, now),
      (err: unknown) => {
        assert.ok(isTooLarge(err), `DataTooLargeError expected, got ${String(err)}`);
        assert.equal((err as DataTooLargeError).bytes, limit + 1);
        assert.equal((err as DataTooLargeError).limit, limit);
        return true;
      },
    );
    const unchanged = await store.get(record.id, now);
    assert.deepEqual(unchanged.record?.data, data, 'the refused patch wrote nothing');
    assert.equal(unchanged.record?.csrf, record.csrf);
    assert.equal(unchanged.record?.version, record.version);
    const fits = await store.patch(record.id, { set: exact, maxDataBytes: limit }, now);
    assert.ok(fits, 'exactly the limit is accepted');
    assert.equal(dataBytes((await store.get(record.id, now)).record!.data), limit);
  });

  suite.single(
    'a patch that does not grow data already over the limit is accepted',
    [],
    async (store) => {
      const now = Date.now();
      const half = Math.floor(limit / 2);
      const record = sampleRecord({ data: { a: 'a'.repeat(half), b: 'b'.repeat(half) } }, now);
      await store.create(record, { maxSessionsPerUser: 5, now });
      const small = limit / 4;
      const shrunk = await store.patch(
        record.id,
        { set: { b: 'c'.repeat(half - 1) }, maxDataBytes: small },
        now,
      );
      assert.ok(shrunk, 'a smaller value replaces a larger one even while over the limit');
      await assert.rejects(
        store.patch(record.id, { set: { d: 1 }, maxDataBytes: small }, now),
        isTooLarge,
      );
      assert.ok(await store.patch(record.id, { unset: ['a'], maxDataBytes: small }, now));
      assert.deepEqual(Object.keys((await store.get(record.id, now)).record!.data), ['b']);
    },
  );

  suite.pair(
    'concurrent patches on distinct keys never store more than maxDataBytes together',
    [],
    async (a, b) => {
      const now = Date.now();
      const record = sampleRecord({ data: {} }, now);
      await a.create(record, { maxSessionsPerUser: 5, now });
      // 20 writes of about 15/16 of the limit each: one fits, two never do together.
      const value = 'v'.repeat(Math.floor((limit * 15) / 16));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).patch(record.id, { set: { [`k${i}`]: value }, maxDataBytes: limit }, now),
        ),
      );
      const stored = (await a.get(record.id, now)).record;
      assert.ok(stored);
      assert.ok(dataBytes(stored.data) <= limit, `${dataBytes(stored.data)} bytes stored`);
      assert.equal(Object.keys(stored.data).length, 1, 'exactly one of the writes is stored');
      const accepted = results.filter((r) => r.status === 'fulfilled');
      assert.equal(accepted.length, 1, 'exactly one write is accepted');
      for (const r of results)
        if (r.status === 'rejected') assert.ok(isTooLarge(r.reason), String(r.reason));
      // Later writes still work: the session was never pushed over its limit.
      const later = await a.patch(record.id, { set: { small: 1 }, maxDataBytes: limit }, now);
      assert.equal(later?.data.small, 1);
      const swap = await b.patch(
        record.id,
        { unset: Object.keys(stored.data), set: { other: value }, maxDataBytes: limit },
        now,
      );
      assert.deepEqual(Object.keys(swap?.data ?? {}).sort(), ['other', 'small']);
    },
  );
}
