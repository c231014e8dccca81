/**
 * Guarantee 3, termination is final: after `destroy` (or `destroyUser`), no touch, patch or save of
 * that id, one already in flight included, brings it back.
 */
import assert from 'node:assert/strict';
import { randomUserId, sampleRecord } from '../fixtures.js';
import { HOUR, ids } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the termination tests (`destroyUser` is skipped for a store without `listUser`). */
export function testTerminationIsFinal(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single(
    'destroy is final: get misses, patch and touch cannot bring it back',
    [],
    async (store) => {
      const now = Date.now();
      const record = sampleRecord({}, now);
      await store.create(record, { maxSessionsPerUser: 5, now });
      assert.deepEqual(
        await store.destroy(record.id, 'logout', now),
        { userId: record.userId },
        'destroy answers the owner of the session it ended',
      );
      assert.equal(
        await store.destroy(record.id, 'logout', now),
        null,
        'a second destroy finds nothing',
      );
      assert.equal(await store.patch(record.id, { set: { back: true } }, now), null);
      const touchedAfter = await store.get(record.id, now + 120_000, {
        touchAfter: 0,
        idleTimeout: HOUR,
      });
      assert.equal(touchedAfter.record, null);
      assert.equal((await store.get(record.id, now)).record, null);
      if (store.capabilities.listUser)
        assert.deepEqual(await store.listUser(record.userId!, now), []);
    },
  );

  suite.pair(
    'patches and touches in flight while destroy lands never resurrect the session',
    [],
    async (a, b) => {
      const now = Date.now();
      const policy = { touchAfter: 0, idleTimeout: HOUR / 2 };
      for (let round = 0; round < 5; round++) {
        const record = sampleRecord({}, now);
        await a.create(record, { maxSessionsPerUser: 5, now });
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 40; i++) {
          const s = i % 2 ? a : b;
          ops.push(
            i % 2
              ? s.patch(record.id, { set: { [`k${i}`]: i } }, now + i)
              : s.get(record.id, now + i, policy),
          );
          if (i === 20) ops.push(a.destroy(record.id, 'logout', now + i));
        }
        await Promise.all(ops);
        assert.equal(
          (await a.get(record.id, now + 100)).record,
          null,
          `round ${round}: destroyed session came back`,
        );
        assert.equal((await b.get(record.id, now + 100)).record, null);
        if (a.capabilities.listUser)
          assert.deepEqual(await a.listUser(record.userId!, now + 100), []);
      }
    },
  );

  suite.single(
    'destroyUser ends every session of the user except the one kept',
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const mine = Array.from({ length: 3 }, () => sampleRecord({ userId }, now));
      const other = sampleRecord({}, now);
      for (const r of [...mine, other]) await store.create(r, { maxSessionsPerUser: 5, now });
      const ended = await store.destroyUser(userId, {
        exceptId: mine[0]!.id,
        reason: 'logout-all',
        now,
      });
      assert.deepEqual([...ended].sort(), ids([mine[1]!, mine[2]!]));
      assert.deepEqual(ids(await store.listUser(userId, now)), [mine[0]!.id]);
      assert.ok((await store.get(other.id, now)).record, "another user's session is untouched");
      const all = await store.destroyUser(userId, { reason: 'logout-all', now });
      assert.deepEqual(all, [mine[0]!.id]);
      assert.deepEqual(await store.listUser(userId, now), []);
    },
  );
}
