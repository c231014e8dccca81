/**
 * The store contract suite: every guarantee of the store contract, checked with real concurrency
 * against the real backend. Runner-agnostic: pass your runner's `test` (vitest `it`, node:test
 * `test`, …); assertions use node:assert, so a failure is an AssertionError in any runner.
 *
 *   import { it } from 'vitest';
 *   import { testSessionStore } from 'tessera-session/testing';
 *   testSessionStore(it, () => createMyStore(), { unreachable: () => createMyStore({ port: 1 }) });
 */
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../core/errors.js';
import type { SessionRecord, SessionStore, StoreCapabilities } from '../core/types.js';
import { randomSessionId, randomUserId, sampleRecord } from './fixtures.js';

/** The runner's test function; only `(name, fn)` is used. */
export type TestFunction = (name: string, fn: () => Promise<void>) => unknown;

export type StoreFactory = () => SessionStore | Promise<SessionStore>;

export interface ContractOptions {
  /**
   * Builds a second store instance on the same backend (another client, another process's view).
   * When given, concurrent operations are spread over both, so atomicity is checked across clients.
   */
  second?: StoreFactory;
  /**
   * Builds a store whose backend cannot be reached (a real port with nothing on it). Enables the
   * "errors are typed" group.
   */
  unreachable?: StoreFactory;
  /** Every operation on the unreachable store must fail within this many ms. @default 5000 */
  unavailableWithinMs?: number;
  /** How many concurrent creates the limit test fires. @default 20 */
  concurrentCreates?: number;
  /** Size of the large value round-tripped. @default 1_000_000 */
  largeValueBytes?: number;
  /** Prefix for test names. @default the store's name, read from the first instance */
  prefix?: string;
}

const HOUR = 3_600_000;
const UA_PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

async function using<T>(
  factory: StoreFactory,
  fn: (store: SessionStore) => Promise<T>,
): Promise<T> {
  const store = await factory();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Runs `fn` with two instances on one backend when `second` is given (both the same otherwise). */
async function usingPair<T>(
  factory: StoreFactory,
  second: StoreFactory | undefined,
  fn: (a: SessionStore, b: SessionStore) => Promise<T>,
): Promise<T> {
  return using(factory, async (a) => (second ? using(second, (b) => fn(a, b)) : fn(a, a)));
}

function ids(records: SessionRecord[]): string[] {
  return records.map((r) => r.id).sort();
}

/** Registers every contract test whose capability the store declares. */
export function testSessionStore(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const concurrentCreates = options.concurrentCreates ?? 20;
  const largeValueBytes = options.largeValueBytes ?? 1_000_000;
  const prefix = options.prefix ? `${options.prefix}: ` : '';

  // Capabilities are read from a live instance inside each test (a factory may be async), so each
  // group checks at run time and returns early only for a capability the store declares missing.
  const t = (
    name: string,
    needs: (keyof StoreCapabilities)[],
    fn: (store: SessionStore) => Promise<void>,
  ) =>
    test(`${prefix}${name}`, () =>
      using(factory, async (store) => {
        const missing = needs.filter((c) => !store.capabilities[c]);
        if (missing.length > 0) return; // declared as missing: the docs of that store say so
        await fn(store);
      }));
  const tPair = (
    name: string,
    needs: (keyof StoreCapabilities)[],
    fn: (a: SessionStore, b: SessionStore) => Promise<void>,
  ) =>
    test(`${prefix}${name}`, () =>
      usingPair(factory, options.second, async (a, b) => {
        if (needs.some((c) => !a.capabilities[c])) return;
        await fn(a, b);
      }));

  // ---- basics ------------------------------------------------------------------------------

  t('create then get returns the record exactly', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({}, now);
    const result = await store.create(record, { maxSessionsPerUser: 5, now });
    assert.deepEqual(result.evicted, []);
    const found = await store.get(record.id, now);
    assert.ok(found.record, 'the session just created must be found');
    assert.deepEqual({ ...found.record, data: { ...found.record.data } }, record);
    assert.equal(found.touched, false);
  });

  t('get of an unknown id is a miss', [], async (store) => {
    const found = await store.get(randomSessionId(), Date.now());
    assert.equal(found.record, null);
  });

  t('data with glob, separator and unicode characters round-trips exactly', [], async (store) => {
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
  });

  t(`a ${largeValueBytes}-byte value round-trips exactly`, [], async (store) => {
    const now = Date.now();
    const big = `${'x'.repeat(largeValueBytes - 20)}\u{1F600}end`;
    const record = sampleRecord({ data: { big } }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const found = await store.get(record.id, now);
    assert.ok(found.record);
    assert.equal(found.record.data.big, big);
  });

  t('get with a touch policy slides the idle expiry only when due', [], async (store) => {
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
  });

  t('a touch never slides past the absolute expiry', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({ absoluteExpiresAt: now + 10 * 60_000 }, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    const at = now + 5 * 60_000;
    const found = await store.get(record.id, at, { touchAfter: 0, idleTimeout: HOUR });
    assert.ok(found.record);
    assert.equal(found.record.idleExpiresAt, now + 10 * 60_000);
  });

  t('patch sets and unsets keys, rotates csrf, bumps the version', [], async (store) => {
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

  t('patch of an unknown id returns null and creates nothing', [], async (store) => {
    const now = Date.now();
    const id = randomSessionId();
    assert.equal(await store.patch(id, { set: { a: 1 } }, now), null);
    assert.equal((await store.get(id, now)).record, null);
  });

  // ---- atomic limit ----------------------------------------------------------------------------

  t(
    'the per-user limit evicts the least recently active sessions',
    ['atomicLimit'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const made: SessionRecord[] = [];
      // Activity order differs from creation order: the second-created is the least recently active.
      for (const [i, lastSeen] of [now - 2_000, now - 5_000, now - 1_000].entries()) {
        const r = sampleRecord({ userId, createdAt: now - 10_000 + i, lastSeenAt: lastSeen }, now);
        made.push(r);
        assert.deepEqual((await store.create(r, { maxSessionsPerUser: 3, now })).evicted, []);
      }
      const fourth = sampleRecord({ userId }, now);
      const result = await store.create(fourth, { maxSessionsPerUser: 3, now });
      assert.deepEqual(result.evicted, [made[1]!.id]);
      assert.equal((await store.get(made[1]!.id, now)).record, null, 'the evicted session is gone');
      for (const r of [made[0]!, made[2]!, fourth]) assert.ok((await store.get(r.id, now)).record);
      if (store.capabilities.listUser) {
        assert.deepEqual(ids(await store.listUser(userId, now)), ids([made[0]!, made[2]!, fourth]));
      }
    },
  );

  tPair(
    `${concurrentCreates} concurrent creates for one user with limit 5 leave exactly 5`,
    ['atomicLimit'],
    async (a, b) => {
      const now = Date.now();
      const userId = randomUserId();
      const records = Array.from({ length: concurrentCreates }, (_, i) =>
        sampleRecord({ userId, lastSeenAt: now - 1000 + i }, now),
      );
      const results = await Promise.all(
        records.map((r, i) => (i % 2 === 0 ? a : b).create(r, { maxSessionsPerUser: 5, now })),
      );
      const evicted = results.flatMap((r) => r.evicted);
      assert.equal(new Set(evicted).size, evicted.length, 'each eviction is reported once');
      assert.equal(
        evicted.length,
        concurrentCreates - 5,
        'every session over the limit is reported evicted',
      );
      const alive: string[] = [];
      for (const r of records) if ((await a.get(r.id, now)).record) alive.push(r.id);
      assert.equal(alive.length, 5, 'exactly the limit remains');
      assert.deepEqual(
        [...alive].sort(),
        records
          .map((r) => r.id)
          .filter((id) => !evicted.includes(id))
          .sort(),
      );
      if (a.capabilities.listUser)
        assert.deepEqual(ids(await a.listUser(userId, now)), [...alive].sort());
    },
  );

  t('anonymous sessions are not limited per user', [], async (store) => {
    const now = Date.now();
    const anon = Array.from({ length: 4 }, () => sampleRecord({ userId: null }, now));
    for (const r of anon)
      assert.deepEqual((await store.create(r, { maxSessionsPerUser: 1, now })).evicted, []);
    for (const r of anon) assert.ok((await store.get(r.id, now)).record);
  });

  // ---- no lost updates -------------------------------------------------------------------------

  tPair('100 concurrent patches on distinct keys keep all 100', [], async (a, b) => {
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

  tPair('concurrent patches and touches on one session keep every key', [], async (a, b) => {
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

  // ---- termination is final --------------------------------------------------------------------

  t('destroy is final: get misses, patch and touch cannot bring it back', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord({}, now);
    await store.create(record, { maxSessionsPerUser: 5, now });
    assert.equal(await store.destroy(record.id, 'logout', now), true);
    assert.equal(
      await store.destroy(record.id, 'logout', now),
      false,
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
  });

  tPair(
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

  t(
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

  // ---- expired is gone -------------------------------------------------------------------------

  t('an expired session is never returned, listed or counted', [], async (store) => {
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

  t('cleanup removes expired sessions and counts them', [], async (store) => {
    const now = Date.now();
    const userId = randomUserId();
    const expired = Array.from({ length: 10 }, (_, i) =>
      sampleRecord({ userId: i % 2 ? userId : null, idleExpiresAt: now + 1_000 + i }, now),
    );
    const live = Array.from({ length: 5 }, () => sampleRecord({ userId: null }, now));
    for (const r of [...expired, ...live]) await store.create(r, { maxSessionsPerUser: null, now });
    const later = now + 60_000;
    const removed = await store.cleanup(later);
    assert.ok(removed >= 10, `cleanup removed ${removed}, expected at least the 10 expired`);
    for (const r of live)
      assert.ok((await store.get(r.id, later)).record, 'live sessions survive cleanup');
    for (const r of expired) assert.equal((await store.get(r.id, later)).record, null);
    if (store.capabilities.listUser) assert.deepEqual(await store.listUser(userId, later), []);
  });

  // ---- regenerate is atomic --------------------------------------------------------------------

  t('regenerate moves the session to a new id and terminates the old one', [], async (store) => {
    const now = Date.now();
    const old = sampleRecord({ userId: null, data: { cart: [1] } }, now);
    await store.create(old, { maxSessionsPerUser: 5, now });
    const userId = randomUserId();
    const fresh = sampleRecord(
      { ...old, id: randomSessionId(), userId, csrf: 'rotated-csrf', version: 1 },
      now,
    );
    const result = await store.regenerate(old.id, fresh, { maxSessionsPerUser: 5, now });
    assert.equal(result.ok, true);
    assert.equal((await store.get(old.id, now)).record, null, 'the old id is dead');
    const found = await store.get(fresh.id, now);
    assert.ok(found.record);
    assert.deepEqual(found.record.data, { cart: [1] });
    assert.equal(found.record.userId, userId);
    if (store.capabilities.listUser)
      assert.deepEqual(ids(await store.listUser(userId, now)), [fresh.id]);
  });

  t('regenerate of a session that is not live creates nothing', [], async (store) => {
    const now = Date.now();
    const fresh = sampleRecord({}, now);
    const result = await store.regenerate(randomSessionId(), fresh, { maxSessionsPerUser: 5, now });
    assert.equal(result.ok, false);
    assert.equal((await store.get(fresh.id, now)).record, null);
  });

  tPair('two concurrent regenerates of one session: exactly one succeeds', [], async (a, b) => {
    const now = Date.now();
    for (let round = 0; round < 5; round++) {
      const old = sampleRecord({}, now);
      await a.create(old, { maxSessionsPerUser: 5, now });
      const x = sampleRecord({ userId: old.userId }, now);
      const y = sampleRecord({ userId: old.userId }, now);
      const [rx, ry] = await Promise.all([
        a.regenerate(old.id, x, { maxSessionsPerUser: 5, now }),
        b.regenerate(old.id, y, { maxSessionsPerUser: 5, now }),
      ]);
      assert.equal(Number(rx.ok) + Number(ry.ok), 1, 'exactly one regenerate wins');
      const liveCount = [old, x, y].filter(Boolean);
      let alive = 0;
      for (const r of liveCount) if ((await a.get(r.id, now)).record) alive++;
      assert.equal(alive, 1, 'exactly one live session remains');
    }
  });

  tPair(
    'regenerate racing patches on the old id leaves exactly one live session',
    [],
    async (a, b) => {
      const now = Date.now();
      const old = sampleRecord({ data: {} }, now);
      await a.create(old, { maxSessionsPerUser: 5, now });
      const fresh = sampleRecord({ userId: old.userId, data: {} }, now);
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        ops.push(b.patch(old.id, { set: { [`k${i}`]: i } }, now));
        if (i === 10) ops.push(a.regenerate(old.id, fresh, { maxSessionsPerUser: 5, now }));
      }
      await Promise.all(ops);
      assert.equal((await a.get(old.id, now)).record, null);
      assert.ok((await a.get(fresh.id, now)).record);
      if (a.capabilities.listUser)
        assert.deepEqual(ids(await a.listUser(old.userId!, now)), [fresh.id]);
    },
  );

  t('regenerate applies the per-user limit to the new user', ['atomicLimit'], async (store) => {
    const now = Date.now();
    const userId = randomUserId();
    const existing = [now - 3_000, now - 1_000].map((t) =>
      sampleRecord({ userId, lastSeenAt: t }, now),
    );
    for (const r of existing) await store.create(r, { maxSessionsPerUser: 2, now });
    const anon = sampleRecord({ userId: null }, now);
    await store.create(anon, { maxSessionsPerUser: 2, now });
    const login = sampleRecord({ userId }, now);
    const result = await store.regenerate(anon.id, login, { maxSessionsPerUser: 2, now });
    assert.equal(result.ok, true);
    assert.deepEqual(result.evicted, [existing[0]!.id]);
  });

  // ---- listing and stats -----------------------------------------------------------------------

  t(
    "listUser returns the user's live sessions, most recently active first",
    ['listUser'],
    async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const rs = [now - 3_000, now - 1_000, now - 2_000].map((t) =>
        sampleRecord({ userId, lastSeenAt: t }, now),
      );
      for (const r of rs) await store.create(r, { maxSessionsPerUser: 5, now });
      const listed = await store.listUser(userId, now);
      assert.deepEqual(
        listed.map((r) => r.id),
        [rs[1]!.id, rs[2]!.id, rs[0]!.id],
      );
      assert.equal(listed[0]!.device.browser, 'Safari');
    },
  );

  t('list pages through live sessions with a total', ['listAll'], async (store) => {
    assert.ok(store.list, 'a store with listAll implements list');
    const now = Date.now();
    const userId = randomUserId();
    const rs = Array.from({ length: 7 }, (_, i) =>
      sampleRecord({ userId, lastSeenAt: now - i * 1000 }, now),
    );
    for (const r of rs) await store.create(r, { maxSessionsPerUser: 10, now });
    const first = await store.list({ userId, limit: 3 }, now);
    const second = await store.list({ userId, limit: 3, offset: 3 }, now);
    const third = await store.list({ userId, limit: 3, offset: 6 }, now);
    assert.equal(first.total, 7);
    assert.deepEqual(
      [...first.sessions, ...second.sessions, ...third.sessions].map((r) => r.id),
      rs.map((r) => r.id),
    );
    const everyone = await store.list({ limit: 1000 }, now);
    assert.ok(everyone.total >= 7);
  });

  t('stats count live sessions, users and devices', ['stats'], async (store) => {
    assert.ok(store.stats, 'a store with stats implements stats');
    const now = Date.now();
    const before = await store.stats(now);
    const userId = randomUserId();
    const phone = sampleRecord(
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
    );
    for (const r of [phone, sampleRecord({ userId }, now), sampleRecord({ userId: null }, now)]) {
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

  t('health reports ok', [], async (store) => {
    const health = await store.health();
    assert.equal(health.ok, true);
    assert.equal(health.store, store.name);
  });

  // ---- errors are typed ------------------------------------------------------------------------

  if (options.unreachable) {
    const unreachable = options.unreachable;
    const within = options.unavailableWithinMs ?? 5_000;
    test(`${prefix}an unreachable backend fails every operation with StoreUnavailableError in time`, async () => {
      const store = await unreachable();
      try {
        const now = Date.now();
        const r = sampleRecord({}, now);
        const ops: [string, () => Promise<unknown>][] = [
          ['create', () => store.create(r, { maxSessionsPerUser: 5, now })],
          ['get', () => store.get(r.id, now, { touchAfter: 0, idleTimeout: HOUR })],
          ['patch', () => store.patch(r.id, { set: { a: 1 } }, now)],
          ['destroy', () => store.destroy(r.id, 'logout', now)],
          ['destroyUser', () => store.destroyUser('u', { reason: 'logout-all', now })],
          [
            'regenerate',
            () => store.regenerate(r.id, sampleRecord({}, now), { maxSessionsPerUser: 5, now }),
          ],
          ['listUser', () => store.listUser('u', now)],
          ['cleanup', () => store.cleanup(now)],
        ];
        for (const [name, op] of ops) {
          const started = Date.now();
          await assert.rejects(op(), (err: unknown) => {
            assert.ok(err instanceof StoreUnavailableError, `${name} rejected with ${String(err)}`);
            return true;
          });
          const took = Date.now() - started;
          assert.ok(took <= within, `${name} took ${took} ms, over ${within} ms`);
        }
        const health = await store.health();
        assert.equal(health.ok, false, 'health reports the outage');
      } finally {
        await store.close();
      }
    });
  }
}
