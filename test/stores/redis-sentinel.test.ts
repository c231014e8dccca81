import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSentinel } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SessionStore } from '../../src/core/types.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { type RedisSentinelSet, redisCli, startRedisSentinel } from '../support/redis-servers.js';
import { requireCommand } from '../support/services.js';

const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireCommand('redis-cli', 'apt-get install -y redis-tools'));

/** Retries `fn` until it succeeds (a failover is in progress) or `ms` pass. */
async function eventually<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe.skipIf(!ok)('redis store behind Sentinel', () => {
  let set: RedisSentinelSet;
  beforeAll(async () => {
    set = await startRedisSentinel();
  });
  afterAll(async () => {
    await set?.stop();
  });

  const nodeRedisStore = async (prefix: string): Promise<SessionStore> => {
    const client = createSentinel({
      name: set.name,
      sentinelRootNodes: [{ host: '127.0.0.1', port: set.sentinelPort }],
    });
    client.on('error', () => {});
    await client.connect();
    const store = createRedisStore({ client, prefix });
    return { ...store, close: async () => client.destroy() };
  };
  const ioredisStore = (prefix: string): SessionStore => {
    const client = new Redis({
      sentinels: [{ host: '127.0.0.1', port: set.sentinelPort }],
      name: set.name,
    });
    client.on('error', () => {});
    const store = createRedisStore({ client, prefix });
    return { ...store, close: async () => client.disconnect() };
  };

  describe('contract, node-redis sentinel client', () => {
    const prefix = `s-${randomBytes(4).toString('hex')}:`;
    testSessionStore(it, () => nodeRedisStore(prefix), {
      second: () => nodeRedisStore(prefix),
      prefix: 'sentinel node-redis',
    });
  });

  describe('contract, ioredis sentinel client', () => {
    const prefix = `s-${randomBytes(4).toString('hex')}:`;
    testSessionStore(it, () => ioredisStore(prefix), {
      second: () => nodeRedisStore(prefix),
      prefix: 'sentinel ioredis',
    });
  });

  it('both clients keep working after SENTINEL FAILOVER, with the sessions written before it', async () => {
    const prefix = `f-${randomBytes(4).toString('hex')}:`;
    const stores = [await nodeRedisStore(prefix), ioredisStore(prefix)];
    try {
      const now = Date.now();
      const before = [sampleRecord({}, now), sampleRecord({}, now)];
      for (const [i, s] of stores.entries())
        await s.create(before[i]!, { maxSessionsPerUser: 5, now });
      // Let the replica catch up before the forced failover promotes it.
      await new Promise((r) => setTimeout(r, 300));
      const oldMaster = await set.currentMasterPort();
      const newMaster = await set.failover();
      assert.notEqual(newMaster, oldMaster);
      // Until the old master is reconfigured as a replica it still accepts writes, which its resync
      // then discards (Redis replicates asynchronously; `waitReplicas` is the store's answer to
      // that): the writes below are made once it no longer can.
      await eventually(async () => {
        const role = await redisCli(['-p', String(oldMaster), 'role']);
        if (!role.startsWith('slave')) throw new Error(`old master still ${role.split('\n')[0]}`);
      });
      for (const s of stores) {
        for (const r of before) {
          const found = await eventually(() => s.get(r.id, now));
          assert.ok(found.record, 'a session written before the failover is still there');
        }
        const after = sampleRecord({}, now);
        await eventually(() => s.create(after, { maxSessionsPerUser: 5, now }));
        assert.ok((await s.patch(after.id, { set: { a: 1 } }, now))?.data.a === 1);
        assert.deepEqual(await s.destroy(after.id, 'logout', now), { userId: after.userId });
        assert.equal((await s.health()).ok, true);
      }
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
