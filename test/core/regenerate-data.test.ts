/**
 * What a login keeps: `regenerate` carries the old session's data over only from an anonymous
 * session or from the same user, never from another user's session (bob's notes must not show on
 * alice's page when she logs in on his browser), and the application can drop it (`keepData:
 * false`) or keep named keys only (a cart, not a planted `returnTo`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { createSessionManager } from '../../src/index.js';

const manager = () => createSessionManager({ cleanupInterval: false });

describe('regenerate: whose data a new session may carry', () => {
  it("another user's data is never carried over, whatever keepData says", async () => {
    const m = manager();
    const bob = await m.create({ userId: 'bob', data: { notes: ['bob’s secret'] } });
    for (const keepData of [undefined, true, ['notes']] as const) {
      const { token } = await m.create({ userId: 'bob', data: { notes: ['bob’s secret'] } });
      const alice = await m.regenerate(token, { userId: 'alice', keepData });
      assert.ok(alice);
      assert.deepEqual(alice.session.data, {}, `keepData ${String(keepData)}`);
      assert.deepEqual((await m.validate(alice.token)).session?.data, {});
    }
    // A logout done by regenerating to no user leaves the data behind too.
    const out = await m.regenerate(bob.token, { userId: null });
    assert.deepEqual(out?.session.data, {});
    await m.close();
  });

  it('an anonymous session’s data is carried into the login, unless the app drops it', async () => {
    const m = manager();
    const planted = { cart: [1, 2], returnTo: 'https://evil.example/' };
    const a = await m.create({ data: planted });
    assert.deepEqual((await m.regenerate(a.token, { userId: 'alice' }))?.session.data, planted);
    const b = await m.create({ data: planted });
    assert.deepEqual(
      (await m.regenerate(b.token, { userId: 'alice', keepData: false }))?.session.data,
      {},
    );
    const c = await m.create({ data: planted });
    assert.deepEqual(
      (await m.regenerate(c.token, { userId: 'alice', keepData: ['cart'] }))?.session.data,
      { cart: [1, 2] },
    );
    await m.close();
  });

  it('the same user keeps the data (a privilege change), unless the app drops it', async () => {
    const m = manager();
    const a = await m.create({ userId: 'alice', data: { theme: 'dark' } });
    const same = await m.regenerate(a.token);
    assert.deepEqual(same?.session.data, { theme: 'dark' });
    const again = await m.regenerate(same!.token, { userId: 'alice', keepData: false });
    assert.deepEqual(again?.session.data, {});
    await m.close();
  });
});
