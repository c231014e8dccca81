/**
 * A create replaces whatever its id held: nothing, a destroyed or expired session, or a live one
 * (record, data and owner), and concurrent creates of one id never fail. Tessera's own ids are
 * random and never meet an earlier one; the express-session store re-creates an id after
 * `destroy`, as express-session's MemoryStore and connect-redis do. Termination stays final for
 * what was in flight: a patch or touch never re-creates (see the termination tests).
 */
import assert from 'node:assert/strict';
import type { SessionStore } from '../../core/types.js';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { HOUR, ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Asserts that `id` is live with `data` and listed under `owner` alone (when the store lists). */
async function assertOwnedBy(
  store: SessionStore,
  id: string,
  owner: string | null,
  others: string[],
  now: number,
): Promise<void> {
  const found = await store.get(id, now);
  assert.ok(found.record, 'the re-created session is live');
  assert.equal(found.record.userId, owner);
  if (!store.capabilities.listUser) return;
  if (owner !== null) assert.deepEqual(ids(await store.listUser(owner, now)), [id]);
  for (const other of others)
    assert.deepEqual(ids(await store.listUser(other, now)), [], `not listed under ${other}`);
}

/** Registers the re-create tests. */
export function testRecreate(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('create of a destroyed id stores the new session', [], async (store) => {
    const now = Date.now();
    const first = sampleRecord({ data: { old: true } }, now);
    await store.create(first, { maxSessionsPerUser: 5, now });
    await store.destroy(first.id, 'logout', now);
    const again = sampleRecord({ id: first.id, data: { fresh: 1 } }, now + 1);
    await store.create(again, { maxSessionsPerUser: 5, now: now + 1 });
    const found = await store.get(first.id, now + 2);
    assert.ok(found.record, 'stored again after destroy');
    assert.deepEqual(found.record.data, { fresh: 1 });
    await assertOwnedBy(store, first.id, again.userId, [first.userId!], now + 2);
    assert.ok(await store.patch(first.id, { set: { more: 2 } }, now + 3), 'and it can be patched');
    assert.deepEqual(
      await store.destroy(first.id, 'logout', now + 4),
      { userId: again.userId },
      'and destroyed again',
    );
    assert.equal((await store.get(first.id, now + 5)).record, null);
  });

  suite.single('create of an expired id stores the new session', [], async (store) => {
    const now = Date.now();
    const first = sampleRecord({ idleExpiresAt: now + 1_000 }, now);
    await store.create(first, { maxSessionsPerUser: 5, now });
    const later = now + 2_000; // expired, cleanup not run
    const again = sampleRecord({ id: first.id, data: { fresh: 1 } }, later);
    await store.create(again, { maxSessionsPerUser: 5, now: later });
    const found = await store.get(first.id, later);
    assert.ok(found.record, 'stored again after it expired');
    assert.deepEqual(found.record.data, { fresh: 1 });
    assert.equal(found.record.idleExpiresAt, again.idleExpiresAt);
    await assertOwnedBy(store, first.id, again.userId, [first.userId!], later);
  });

  suite.single(
    'create of a live id replaces it whole: data, owner, expiry',
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const first = sampleRecord({ data: { a: 1, b: 2 } }, now);
      await store.create(first, { maxSessionsPerUser: 5, now });
      const again = sampleRecord(
        { id: first.id, data: { c: 3 }, idleExpiresAt: now + HOUR / 4 },
        now,
      );
      const result = await store.create(again, { maxSessionsPerUser: 1, now });
      assert.deepEqual(result.evicted, [], 'the id it replaces is not an eviction');
      const found = await store.get(first.id, now);
      assert.ok(found.record);
      assert.deepEqual(found.record.data, { c: 3 }, 'no key of the old data is left');
      assert.equal(found.record.idleExpiresAt, now + HOUR / 4);
      await assertOwnedBy(store, first.id, again.userId, [first.userId!], now);
      assert.deepEqual(
        await store.destroyUser(first.userId!, { reason: 'logout-all', now }),
        [],
        "the former owner's logout-all leaves it alone",
      );
      assert.ok((await store.get(first.id, now)).record);
      const same = sampleRecord({ id: first.id, userId: again.userId, data: { d: 4 } }, now);
      assert.deepEqual(
        (await store.create(same, { maxSessionsPerUser: 1, now })).evicted,
        [],
        'a re-create under the same owner does not count or evict itself',
      );
      assert.deepEqual((await store.get(first.id, now)).record?.data, { d: 4 });
      await assertOwnedBy(store, first.id, again.userId, [first.userId!], now);
    },
  );

  suite.pair('concurrent creates of one id never fail; one of them remains', [], async (a, b) => {
    const now = Date.now();
    const id = sampleRecord().id;
    const owners = [randomUserId(), randomUserId(), null];
    const records = Array.from({ length: 12 }, (_, i) =>
      sampleRecord({ id, userId: owners[i % 3]!, data: { n: i } }, now),
    );
    await Promise.all(
      records.map((r, i) => (i % 2 ? a : b).create(r, { maxSessionsPerUser: 5, now })),
    );
    const found = await a.get(id, now);
    assert.ok(found.record);
    const winner = records[found.record.data.n as number]!;
    assert.equal(found.record.userId, winner.userId, 'data and owner come from one create');
    await assertOwnedBy(
      a,
      id,
      winner.userId,
      owners.filter((o): o is string => o !== null && o !== winner.userId),
      now,
    );
  });
}
