import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SessionStore } from '../../src/core/types.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { type RedisClusterSet, redisCli, startRedisCluster } from '../support/redis-servers.js';
import { requireCommand } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

const ok =
  (await requireCommand('redis-server', 'apt-get install -y redis-server')) &&
  (await requireCommand('redis-cli', 'apt-get install -y redis-tools'));

describe.skipIf(!ok)('redis store on a 3-master Cluster', () => {
  let cluster: RedisClusterSet;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const nodeRedisStore = async (prefix: string): Promise<SessionStore> => {
    const client = createCluster({
      rootNodes: cluster.ports.map((port) => ({ socket: { host: '127.0.0.1', port } })),
    });
    client.on('error', () => {});
    await client.connect();
    const store = createRedisStore({ client, prefix });
    return { ...store, close: async () => client.destroy() };
  };
  const ioredisStore = (prefix: string): SessionStore => {
    const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    client.on('error', () => {});
    const store = createRedisStore({ client, prefix });
    return { ...store, close: async () => client.disconnect() };
  };

  describe('contract, node-redis cluster client', () => {
    const prefix = `c-${randomBytes(4).toString('hex')}:`;
    const factory = () => nodeRedisStore(prefix);
    testSessionStore(it, factory, { second: factory, prefix: 'cluster node-redis' });
    testDestroyReturnsOwner(it, factory, 'cluster node-redis');
  });

  describe('contract, ioredis cluster client', () => {
    const prefix = `c-${randomBytes(4).toString('hex')}:`;
    const factory = () => ioredisStore(prefix);
    testSessionStore(it, factory, {
      // The second instance is the other library: both see one set of keys.
      second: () => nodeRedisStore(prefix),
      prefix: 'cluster ioredis',
    });
  });

  it('every key of a deployment is in one slot, whatever the user id or data holds', async () => {
    const prefix = `slot-${randomBytes(4).toString('hex')}:`;
    const store = await nodeRedisStore(prefix);
    try {
      const now = Date.now();
      const users = ['{a}', '}{', 'u*?[x]', 'line\nbreak', '\u{1F600}{b}', '{'];
      for (const userId of users) {
        const r = sampleRecord({ userId, data: { '{k}': '{v}', '*': '?' } }, now);
        await store.create(r, { maxSessionsPerUser: 2, now });
        await store.patch(r.id, { set: { '{z}': 1 } }, now);
        assert.deepEqual(
          (await store.listUser(userId, now)).map((s) => s.id),
          [r.id],
        );
      }
      const expected = Number(
        await redisCli(['-p', String(cluster.ports[0]), 'cluster', 'keyslot', `{${prefix}}`]),
      );
      let keys = 0;
      for (const port of cluster.ports) {
        const out = await redisCli(['-p', String(port), '--raw', 'keys', `{${prefix}}*`]);
        for (const key of out.split('\n').filter((k) => k.startsWith(`{${prefix}}`))) {
          keys++;
          const slot = Number(await redisCli(['-p', String(port), 'cluster', 'keyslot', key]));
          assert.equal(slot, expected, `${JSON.stringify(key)} is in slot ${slot}`);
        }
      }
      // Sessions, user indexes (one per user; the newline id splits in this listing), the
      // expiry and activity indexes and the counters.
      assert.ok(keys >= users.length * 2 + 3, `found ${keys} keys`);
    } finally {
      await store.close();
    }
  });
});
