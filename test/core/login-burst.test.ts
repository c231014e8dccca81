/**
 * The login rate limit bounds concurrent guesses: an attempt takes its unit of budget in the
 * rate-limit store (one atomic increment) before the password is checked, so a burst of parallel
 * attempts with a slow, async `verify` runs it at most `maxAttempts` times per username and
 * `maxAttemptsPerIp` times per address in a window, and the right password sent past the budget is
 * refused. Checked on every rate-limit store: memory, Redis, Memcached, and the fallback's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { LoginResult } from '../../src/core/manager-api.js';
import type { RateLimitStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createFallbackRateLimitStore } from '../../src/stores/fallback.js';
import { createMemcachedRateLimitStore } from '../../src/stores/memcached/index.js';
import { createMemoryRateLimitStore } from '../../src/stores/memory.js';
import { createRedisRateLimitStore } from '../../src/stores/redis/index.js';
import { startMemcached } from '../support/memcached-server.js';
import { type ChildServer, requireCommand, requireService } from '../support/services.js';

const redisOk = await requireService('Redis', '127.0.0.1', 6379, 'apt-get install -y redis-server');
const memcachedOk = await requireCommand('memcached', 'apt-get install -y memcached');
let memcached: ChildServer | undefined;
beforeAll(async () => {
  if (memcachedOk) memcached = await startMemcached();
});
afterAll(async () => {
  await memcached?.stop();
});

const prefix = () => `burst-${randomBytes(4).toString('hex')}:`;
const stores: { name: string; needs: () => boolean; make: () => RateLimitStore }[] = [
  { name: 'memory', needs: () => true, make: () => createMemoryRateLimitStore() },
  {
    name: 'redis',
    needs: () => redisOk,
    make: () => createRedisRateLimitStore({ port: 6379, prefix: prefix() }),
  },
  {
    name: 'memcached',
    needs: () => memcachedOk,
    make: () =>
      createMemcachedRateLimitStore({
        servers: [`127.0.0.1:${memcached!.port}`],
        prefix: prefix(),
      }),
  },
  {
    name: 'fallback (Redis → memory)',
    needs: () => redisOk,
    make: () =>
      createFallbackRateLimitStore({
        primary: createRedisRateLimitStore({ port: 6379, prefix: prefix() }),
        secondary: createMemoryRateLimitStore(),
      }),
  },
];

const RIGHT = 'right-password';

/** A password check that takes 20 ms, as a real hash does, and counts its runs. */
function slowVerifier(user: string) {
  const runs = { count: 0 };
  const verify = (password: string) => async () => {
    runs.count++;
    await new Promise((r) => setTimeout(r, 20));
    return password === RIGHT ? user : null;
  };
  return { runs, verify };
}

for (const { name, needs, make } of stores) {
  describe(`login bursts: ${name}`, () => {
    it('100 parallel attempts on one username run verify at most maxAttempts times; the right password past the budget is refused', async (ctx) => {
      if (!needs()) return ctx.skip();
      const store = make();
      const manager = createSessionManager({
        cleanupInterval: false,
        rateLimit: { maxAttempts: 5, maxAttemptsPerIp: 1000, store },
      });
      const { runs, verify } = slowVerifier('alice');
      // All wrong: which five of a parallel burst reach verify depends on the order they reach the
      // counter store, not on their index, so the right password is tried after the burst.
      const results: LoginResult[] = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          manager.attemptLogin(
            { ip: `198.51.100.${i % 250}`, username: 'alice' },
            verify(`guess-${i}`),
          ),
        ),
      );
      assert.ok(runs.count <= 5, `verify ran ${runs.count} times`);
      assert.equal(results.filter((r) => r.ok).length, 0, 'no guess logged in');
      const limited = results.filter((r) => !r.ok && r.reason === 'rate_limited');
      // The failed check that spends the last of the budget answers rate_limited too.
      assert.equal(limited.length, 100 - runs.count + 1);
      for (const r of limited) assert.ok((r as { retryAfterMs: number }).retryAfterMs > 0);
      assert.equal(results.filter((r) => !r.ok && r.reason === 'invalid').length, runs.count - 1);
      // The budget stays spent for the window: the next attempt is refused without a check.
      const after = await manager.attemptLogin({ username: 'ALICE ' }, verify(RIGHT));
      assert.equal(after.ok, false);
      assert.ok(runs.count <= 5);
      await manager.close();
      await store.close();
    });

    it('parallel attempts from one address on many usernames: at most maxAttemptsPerIp checks', async (ctx) => {
      if (!needs()) return ctx.skip();
      const store = make();
      const manager = createSessionManager({
        cleanupInterval: false,
        rateLimit: { maxAttempts: 5, maxAttemptsPerIp: 8, store },
      });
      const { runs, verify } = slowVerifier('x');
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          manager.attemptLogin({ ip: '203.0.113.9', username: `user-${i}` }, verify(`g${i}`)),
        ),
      );
      assert.ok(runs.count <= 8, `verify ran ${runs.count} times`);
      assert.ok(results.filter((r) => !r.ok && r.reason === 'rate_limited').length >= 52);
      await manager.close();
      await store.close();
    });

    it('a success clears both counters, and refused attempts never reach verify', async (ctx) => {
      if (!needs()) return ctx.skip();
      const store = make();
      const manager = createSessionManager({
        cleanupInterval: false,
        rateLimit: { maxAttempts: 3, store },
      });
      const { runs, verify } = slowVerifier('bob');
      const attempt = { ip: '192.0.2.1', username: 'bob' };
      assert.deepEqual(await manager.attemptLogin(attempt, verify('no')), {
        ok: false,
        reason: 'invalid',
        remaining: 2,
      });
      assert.deepEqual(await manager.attemptLogin(attempt, verify(RIGHT)), {
        ok: true,
        userId: 'bob',
      });
      const verdict = await manager.checkLoginAttempt(attempt);
      assert.equal(verdict.remaining, 3, 'cleared');
      for (let i = 0; i < 3; i++) await manager.attemptLogin(attempt, verify('no'));
      const before = runs.count;
      const refused = await manager.attemptLogin(attempt, verify(RIGHT));
      assert.equal(refused.ok, false);
      assert.equal(runs.count, before, 'refused before verify');
      await manager.close();
      await store.close();
    });
  });
}

describe('login rate limit: a full counter store', () => {
  it('an address past its budget cannot push a victim’s counter out with made-up usernames', async () => {
    // A small memory store, which drops its oldest counters when full (as the default does at
    // 100,000): the flood must not be able to create the counters that would evict bob's.
    const store = createMemoryRateLimitStore({ maxKeys: 60 });
    const manager = createSessionManager({
      cleanupInterval: false,
      rateLimit: { maxAttempts: 5, maxAttemptsPerIp: 20, store },
    });
    const { runs, verify } = slowVerifier('bob');
    const guess = (ip: string) => manager.attemptLogin({ ip, username: 'bob' }, verify('no'));
    for (let i = 0; i < 7; i++) await guess('198.51.100.1');
    assert.equal(runs.count, 5, 'bob’s budget spent');
    const junk = slowVerifier('junk');
    for (let i = 0; i < 200; i++)
      await manager.attemptLogin({ ip: '198.51.100.2', username: `junk${i}` }, junk.verify('no'));
    assert.equal(junk.runs.count, 20, 'the flooding address got its 20 attempts, no more');
    for (let i = 0; i < 7; i++) await guess('198.51.100.3');
    assert.equal(runs.count, 5, 'bob’s counter survived the flood: no new guesses ran');
    await manager.close();
    await store.close();
  });
});

describe('login rate limit: a username that is not a string', () => {
  it('an array or object username (a repeated form field, a JSON body) is InvalidInputError (400), never a TypeError', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const { runs, verify } = slowVerifier('x');
    for (const username of [['a', 'b'], { $ne: '' }] as unknown as string[]) {
      await assert.rejects(
        manager.attemptLogin({ ip: '192.0.2.9', username }, verify('no')),
        (err: Error & { status?: number }) =>
          err.name === 'InvalidInputError' && err.status === 400,
      );
    }
    assert.equal(runs.count, 0);
    await manager.close();
  });
});
