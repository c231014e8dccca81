/**
 * A session's own idle timeout ("remember me"): a session keeps the idle window it was created
 * with (`idleExpiresAt - lastSeenAt`), longer or shorter than the manager's default, across every
 * touch, and `TouchPolicy.idleTimeout` caps it.
 */
import assert from 'node:assert/strict';
import { sampleRecord } from '../fixtures.js';
import { HOUR } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

const DAY = 24 * HOUR;

/** Registers the tests of a session's own idle timeout: kept across touches, capped by the policy. */
export function testOwnIdleTimeout(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single(
    'a session created with its own idle timeout keeps it across touches, capped by the policy',
    [],
    async (store) => {
      const now = Date.now();
      // Created with a 30-day idle window ("remember me") and a 400-day lifetime.
      const long = sampleRecord(
        { idleExpiresAt: now + 30 * DAY, absoluteExpiresAt: now + 400 * DAY },
        now,
      );
      // Created with a 10-minute idle window, shorter than the cap.
      const short = sampleRecord({ idleExpiresAt: now + 10 * 60_000 }, now);
      await store.create(long, { maxSessionsPerUser: 5, now });
      await store.create(short, { maxSessionsPerUser: 5, now });
      const policy = { touchAfter: 60_000, idleTimeout: 60 * DAY };

      const first = now + 2 * 60_000;
      const a = await store.get(long.id, first, policy);
      assert.ok(a.record);
      assert.equal(a.touched, true);
      assert.equal(a.record.idleExpiresAt, first + 30 * DAY, 'the 30-day window, not the cap');
      const b = await store.get(short.id, first, policy);
      assert.ok(b.record);
      assert.equal(b.touched, true);
      assert.equal(
        b.record.idleExpiresAt,
        first + 10 * 60_000,
        'the 10-minute window, not the cap',
      );

      // Kept on the next touch too: the window is read from what the first touch stored.
      const second = first + 5 * 60_000;
      const c = await store.get(long.id, second, policy);
      assert.ok(c.record);
      assert.equal(c.touched, true);
      assert.equal(c.record.idleExpiresAt, second + 30 * DAY);
      const d = await store.get(short.id, second, policy);
      assert.ok(d.record);
      assert.equal(d.record.idleExpiresAt, second + 10 * 60_000);

      const reread = await store.get(long.id, second);
      assert.ok(reread.record);
      assert.equal(reread.record.lastSeenAt, second, 'the touch was stored');
      assert.equal(reread.record.idleExpiresAt, second + 30 * DAY, 'the touch was stored');

      // A 10-minute session untouched for 11 minutes is over, whatever the cap.
      const gone = await store.get(short.id, second + 11 * 60_000, policy);
      assert.equal(gone.record, null);
    },
  );

  suite.single('a policy cap below the session’s window shortens it', [], async (store) => {
    const now = Date.now();
    const record = sampleRecord(
      { idleExpiresAt: now + 30 * DAY, absoluteExpiresAt: now + 400 * DAY },
      now,
    );
    await store.create(record, { maxSessionsPerUser: 5, now });
    // The manager's bound was lowered to one day since the session was created.
    const at = now + 2 * 60_000;
    const found = await store.get(record.id, at, { touchAfter: 60_000, idleTimeout: DAY });
    assert.ok(found.record);
    assert.equal(found.touched, true);
    assert.equal(found.record.idleExpiresAt, at + DAY);
    const reread = await store.get(record.id, at);
    assert.ok(reread.record);
    assert.equal(reread.record.idleExpiresAt, at + DAY, 'the capped expiry was stored');
  });

  suite.single('a long idle window never slides past the absolute expiry', [], async (store) => {
    const now = Date.now();
    // Created 29 days ago with a 30-day idle window and a 29-day-and-an-hour lifetime, last
    // seen ten minutes ago: an hour of its life is left.
    const lastSeenAt = now - 10 * 60_000;
    const old = sampleRecord(
      {
        createdAt: now - 29 * DAY,
        lastSeenAt,
        idleExpiresAt: lastSeenAt + 30 * DAY,
        absoluteExpiresAt: now + HOUR,
      },
      now,
    );
    await store.create(old, { maxSessionsPerUser: 5, now });
    const at = now + 2 * 60_000;
    const found = await store.get(old.id, at, { touchAfter: 60_000, idleTimeout: 60 * DAY });
    assert.ok(found.record);
    assert.equal(found.record.idleExpiresAt, now + HOUR);
  });
}
