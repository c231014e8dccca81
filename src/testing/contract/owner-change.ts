/**
 * A patch may change a session's owner (`patch.userId`): the session moves between the users'
 * indexes in the same atomic step, so `listUser` and `destroyUser` see it under exactly one owner,
 * even against a concurrent `destroyUser` of the former owner. No per-user limit applies to the
 * move: a patch never ends another session.
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the owner-change tests (listing and logout-all need `capabilities.listUser`). */
export function testOwnerChange(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('a patch sets the owner; get answers the new one', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({ userId: null, data: { a: 1 } }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const alice = randomUserId('alice');
    const updated = await store.patch(record.id, { userId: alice, set: { b: 2 } }, now);
    assert.equal(updated?.userId, alice);
    assert.deepEqual(updated?.data, { a: 1, b: 2 });
    assert.equal((await store.get(record.id, now)).record?.userId, alice);
    assert.equal((await store.patch(record.id, { set: { c: 3 } }, now))?.userId, alice, 'kept');
    const anonymous = await store.patch(record.id, { userId: null }, now);
    assert.equal(anonymous?.userId, null);
    assert.equal((await store.get(record.id, now)).record?.userId, null);
    assert.deepEqual(await store.destroy(record.id, 'logout', now), { userId: null });
  });

  suite.single(
    "a session that gains, changes and loses its owner moves between the users' lists",
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
      const record = sampleRecord({ userId: null }, now);
      await store.create(record, { maxSessionsPerUser: 5, now });
      await store.patch(record.id, { userId: alice }, now);
      assert.deepEqual(ids(await store.listUser(alice, now)), [record.id], 'gained an owner');
      await store.patch(record.id, { userId: bob }, now);
      assert.deepEqual(await store.listUser(alice, now), [], 'left the former owner');
      assert.deepEqual(ids(await store.listUser(bob, now)), [record.id]);
      assert.deepEqual(
        await store.destroyUser(alice, { reason: 'logout-all', now }),
        [],
        "the former owner's logout-all leaves it alone",
      );
      assert.ok((await store.get(record.id, now)).record);
      await store.patch(record.id, { userId: null }, now);
      assert.deepEqual(await store.listUser(bob, now), [], 'lost its owner');
      await store.patch(record.id, { userId: alice }, now);
      assert.deepEqual(
        await store.destroyUser(alice, { reason: 'logout-all', now }),
        [record.id],
        "the new owner's logout-all ends it",
      );
      assert.equal((await store.get(record.id, now)).record, null);
    },
  );

  suite.single(
    'moving a session to a user applies no per-user limit',
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const mine = [0, 1].map(() => sampleRecord({ userId }, now));
      for (const r of mine) await store.create(r, { maxSessionsPerUser: 2, now });
      const incoming = sampleRecord({ userId: null }, now);
      await store.create(incoming, { maxSessionsPerUser: 2, now });
      assert.ok(await store.patch(incoming.id, { userId }, now));
      assert.deepEqual(ids(await store.listUser(userId, now)), ids([...mine, incoming]));
    },
  );

  suite.pair(
    "a move racing the former owner's logout-all leaves the session under one owner or ended",
    ['listUser'],
    async (a, b) => {
      const now = Date.now();
      for (let round = 0; round < 8; round++) {
        const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
        const record = sampleRecord({ userId: alice }, now);
        await a.create(record, { maxSessionsPerUser: 5, now });
        const [moved, ended] = await Promise.all([
          (round % 2 ? a : b).patch(record.id, { userId: bob, set: { round } }, now),
          (round % 2 ? b : a).destroyUser(alice, { reason: 'logout-all', now }),
        ]);
        const found = await a.get(record.id, now);
        const where = `round ${round}`;
        assert.deepEqual(await a.listUser(alice, now), [], `${where}: nothing left under alice`);
        if (found.record) {
          // The move came first: the session is bob's and alice's logout-all did not end it.
          assert.equal(found.record.userId, bob, where);
          assert.ok(moved, `${where}: the move that kept it reported success`);
          assert.deepEqual(ended, [], `${where}: a live session is not reported ended`);
          assert.deepEqual(ids(await b.listUser(bob, now)), [record.id], where);
        } else {
          // The logout-all came first: it reported the session, and the move found nothing.
          assert.deepEqual(ended, [record.id], where);
          assert.equal(moved, null, `${where}: a move of an ended session reports null`);
          assert.deepEqual(await b.listUser(bob, now), [], `${where}: not listed under bob`);
        }
      }
    },
  );
}
