/**
 * `destroy` answers whose session it ended: `{ userId }` for a session that was live (`null` for
 * an anonymous one), `null` when nothing live was ended. The manager relies on it to report a
 * termination without reading the session first. Each store's test file runs this with its own
 * factory (the store contract suite in src/testing will carry it too).
 */
import assert from 'node:assert/strict';
import type { SessionStore } from '../../src/core/types.js';
import { randomUserId, sampleRecord } from '../../src/testing/index.js';

type It = (name: string, fn: () => Promise<void>, timeout?: number) => unknown;

export function testDestroyReturnsOwner(
  it: It,
  make: () => SessionStore | Promise<SessionStore>,
  label = '',
): void {
  it(`${label ? `${label}: ` : ''}destroy resolves the owner of the live session it ended, else null`, async () => {
    const store = await make();
    try {
      const now = Date.now();
      // Not plain ASCII: the owner must come back exactly from byte-oriented backends too.
      const userId = `${randomUserId('üser')} ✓`;
      const mine = sampleRecord({ userId }, now);
      const anonymous = sampleRecord({ userId: null }, now);
      const soonIdle = sampleRecord({ userId, idleExpiresAt: now + 1000 }, now);
      for (const r of [mine, anonymous, soonIdle])
        await store.create(r, { maxSessionsPerUser: null, now });

      assert.deepEqual(await store.destroy(mine.id, 'logout', now), { userId });
      assert.deepEqual(await store.destroy(anonymous.id, 'admin', now), { userId: null });
      assert.equal(await store.destroy(mine.id, 'logout', now), null, 'a second destroy');
      assert.equal(
        await store.destroy(sampleRecord().id, 'logout', now),
        null,
        'a session that never existed',
      );
      assert.equal(
        await store.destroy(soonIdle.id, 'logout', now + 2000),
        null,
        'a session that had expired',
      );
    } finally {
      await store.close();
    }
  });
}
