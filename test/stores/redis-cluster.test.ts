import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { crc16 } from '../../src/stores/redis/buckets.js';
import { createRedisStore, type RedisSessionStore } from '../../src/stores/redis/index.js';
import { fitted } from '../../src/testing/contract/assertions.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import {
  clusterRoles,
  type RedisClusterSet,
  redisCli,
  startRedisCluster,
} from '../support/redis-servers.js';
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

  const nodeRedisStore = async (prefix: string, localCache = true): Promise<RedisSessionStore> => {
    const client = createCluster({
      rootNodes: cluster.ports.map((port) => ({ socket: { host: '127.0.0.1', port } })),
    });
    client.on('error', () => {});
    await client.connect();
    const store = createRedisStore({ client, prefix, localCache });
    return {
      ...store,
      // The store closes its own tracking connections; the caller's client is this test's to close.
      close: async () => {
        await store.close();
        client.destroy();
      },
    };
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

  describe('contract, node-redis cluster client, local cache off', () => {
    const prefix = `c-${randomBytes(4).toString('hex')}:`;
    const factory = () => nodeRedisStore(prefix, false);
    testSessionStore(it, factory, { second: factory, prefix: 'cluster node-redis no cache' });
  });

  it('local cache on a Cluster: a write from elsewhere invalidates, a killed node connection flushes', async () => {
    const prefix = `lc-${randomBytes(4).toString('hex')}:`;
    const [a, b] = [await nodeRedisStore(prefix), await nodeRedisStore(prefix, false)];
    const stats = () => a.localCacheStats()!;
    const until = async (what: string, check: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      const now = Date.now();
      // Sessions of several users: their buckets spread over the three masters.
      const records = Array.from({ length: 12 }, () => sampleRecord({}, now));
      for (const r of records) await a.create(r, { maxSessionsPerUser: 5, now });
      // The tracking client discovers the slots and connects to every master first: under load
      // that takes longer than a fixed number of reads, so wait by the clock.
      const ready = Date.now() + 10_000;
      while (!stats().enabled && Date.now() < ready) {
        await a.get(records[0]!.id, now);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(stats().enabled, true, 'the tracking connections answered');
      for (const r of records) await a.get(r.id, now);
      const hits = stats().hits;
      for (const r of records) assert.ok((await a.get(r.id, now)).record);
      assert.equal(stats().hits, hits + records.length, 'every master serves from memory');

      for (const r of records.slice(0, 6)) await b.destroy(r.id, 'admin', now);
      await until('six invalidations', () => stats().entries === records.length - 6);
      for (const r of records.slice(0, 6)) assert.equal((await a.get(r.id, now)).record, null);

      const flushes = stats().flushes;
      for (const port of cluster.ports) {
        const list = await redisCli(['-p', String(port), 'client', 'list']);
        for (const line of list.split('\n'))
          if (/ flags=\S*t/.test(line))
            await redisCli([
              '-p',
              String(port),
              'client',
              'kill',
              'id',
              /id=(\d+)/.exec(line)![1]!,
            ]);
      }
      await until('the drop was seen', () => stats().flushes > flushes);
      assert.equal(stats().entries, 0);
      const live = records.slice(6);
      for (const r of live) await b.patch(r.id, { set: { theme: 'after-kill' } }, now);
      for (const r of live) assert.equal((await a.get(r.id, now)).record?.data.theme, 'after-kill');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
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

  /** Every key under a prefix on each master, by scanning it. */
  async function keysByMaster(prefix: string): Promise<string[][]> {
    return Promise.all(
      cluster.ports.map(async (port) => {
        const out = await redisCli([
          '-p',
          String(port),
          '--raw',
          '--scan',
          '--pattern',
          `{${prefix}*`,
        ]);
        return out.split('\n').filter((k) => k.startsWith(`{${prefix}`));
      }),
    );
  }

  it('10,000 sessions of 1,000 users spread over every master; stats and cleanup see them all', async () => {
    const prefix = `spread-${randomBytes(4).toString('hex')}:`;
    const store = await nodeRedisStore(prefix);
    const second = ioredisStore(prefix);
    try {
      assert.ok(store.idFitsUser, 'a Cluster store places sessions by id');
      const now = Date.now();
      const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
      // Each user's ids drawn to fit the user's bucket, as the manager draws them; three of each
      // user's ten sessions expire after a second.
      const records = Array.from({ length: 10_000 }, (_, i) =>
        fitted(
          store,
          sampleRecord(
            { userId: users[i % 1000]!, ...(i < 3000 ? { idleExpiresAt: now + 1000 } : {}) },
            now,
          ),
        ),
      );
      let started = Date.now();
      for (let i = 0; i < records.length; i += 500)
        await Promise.all(
          records
            .slice(i, i + 500)
            .map((r, j) => (j % 2 ? second : store).create(r, { maxSessionsPerUser: 10, now })),
        );

      const createMs = Date.now() - started;
      const sessionKeys = (await keysByMaster(prefix)).map((keys) =>
        keys.filter((k) => k.includes('}s:')),
      );
      const shares = sessionKeys.map((keys) => keys.length / records.length);
      assert.equal(
        sessionKeys.reduce((n, keys) => n + keys.length, 0),
        records.length,
        `every session is stored once (created in ${createMs} ms)`,
      );
      for (const share of shares)
        assert.ok(share >= 0.2 && share <= 0.45, `shares per master: ${shares.join(', ')}`);

      // A user's sessions and user index share one slot (the slot computed as Redis does, checked
      // against CLUSTER KEYSLOT on a few keys).
      const all = (await keysByMaster(prefix)).flat();
      const slotOf = (key: string) =>
        crc16(key.slice(key.indexOf('{') + 1, key.indexOf('}'))) % 16384;
      for (const key of all.slice(0, 3))
        assert.equal(
          slotOf(key),
          Number(await redisCli(['-p', String(cluster.ports[0]), 'cluster', 'keyslot', key])),
        );
      const byMember = new Map(all.map((k) => [k.slice(k.indexOf('}s:') + 3), k]));
      for (const userId of users.slice(0, 50)) {
        const listed = await store.listUser(userId, now);
        assert.equal(listed.length, 10, userId);
        const keys = [
          ...all.filter((k) => k.endsWith(`}u:${userId}`)),
          ...listed.map((r) => byMember.get(Buffer.from(r.id, 'hex').toString('base64url'))!),
        ];
        assert.equal(keys.length, 11);
        const slots = new Set(keys.map(slotOf));
        assert.equal(slots.size, 1, `${userId}'s keys are in slots ${[...slots].join(', ')}`);
      }

      const stats = await store.stats!(now);
      assert.equal(stats.activeSessions, 10_000);
      assert.equal(stats.distinctUsers, 1000);
      assert.equal(stats.byBrowser.Safari, 10_000);
      const later = now + 2000;
      const before = await second.stats!(later);
      assert.deepEqual(
        [before.activeSessions, before.distinctUsers, before.byBrowser.Safari],
        [7000, 1000, 7000],
        'expired ones are not counted',
      );
      started = Date.now();
      assert.equal(await store.cleanup(later), 3000);
      const cleanupMs = Date.now() - started;
      const after = await second.stats!(later);
      assert.deepEqual(
        [after.activeSessions, after.distinctUsers, after.anonymousSessions, after.byDeviceType],
        [7000, 1000, 0, { desktop: 7000 }],
      );
      const left = (await keysByMaster(prefix)).map((keys) =>
        keys.filter((k) => k.includes('}s:')),
      );
      assert.equal(
        left.reduce((n, keys) => n + keys.length, 0),
        7000,
        `cleanup removed the expired sessions on every master (${cleanupMs} ms)`,
      );
      assert.ok(left.every((keys) => keys.length > 0));
      const page = await store.list!({ limit: 5, offset: 10 }, later);
      assert.equal(page.total, 7000);
      assert.equal(page.sessions.length, 5);
    } finally {
      await store.close();
      await second.close();
    }
  }, 120_000);

  it('a user id or data holding hash-tag characters keeps the user in one slot', async () => {
    const prefix = `slot-${randomBytes(4).toString('hex')}:`;
    const store = await nodeRedisStore(prefix);
    try {
      const now = Date.now();
      const users = ['{a}', '}{', 'u*?[x]', 'line\nbreak', '\u{1F600}{b}', '{'];
      for (const userId of users) {
        const r = fitted(store, sampleRecord({ userId, data: { '{k}': '{v}', '*': '?' } }, now));
        await store.create(r, { maxSessionsPerUser: 2, now });
        await store.patch(r.id, { set: { '{z}': 1 } }, now);
        assert.deepEqual(
          (await store.listUser(userId, now)).map((s) => s.id),
          [r.id],
        );
        assert.deepEqual(await store.destroyUser(userId, { reason: 'logout-all', now }), [r.id]);
      }
      const keys = (await keysByMaster(prefix)).flat();
      assert.deepEqual(
        keys.filter((k) => !/}(e|a|st|v|lg:\d+)$/.test(k)),
        [],
        'only indexes, counters and the hourly login counts are left',
      );
    } finally {
      await store.close();
    }
  });

  it('the manager draws ids that fit the user, so the per-user limit is exact under concurrent logins', async () => {
    const prefix = `mgr-${randomBytes(4).toString('hex')}:`;
    const [a, b] = [await nodeRedisStore(prefix), ioredisStore(prefix)];
    const managers = [a, b].map((store) =>
      createSessionManager({ store, maxSessionsPerUser: 3, cleanupInterval: false }),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const userId = `racer-${round}-${randomBytes(3).toString('hex')}`;
        const created = await Promise.all(
          Array.from({ length: 12 }, (_, i) => managers[i % 2]!.create({ userId })),
        );
        for (const c of created) assert.ok(a.idFitsUser!(c.session.id, userId));
        const evicted = created.flatMap((c) => c.evicted);
        assert.equal(evicted.length, 9, 'every session over the limit is reported evicted');
        assert.equal((await a.listUser(userId, Date.now())).length, 3);
      }
    } finally {
      for (const m of managers) await m.close();
      await a.close();
      await b.close();
    }
  });
});

describe.skipIf(!ok)(
  'redis store on a Cluster with replicas: writes acknowledged with WAIT',
  () => {
    let cluster: RedisClusterSet;
    beforeAll(async () => {
      cluster = await startRedisCluster(3, 1);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    const connectStore = async (prefix: string, waitReplicas: number) => {
      const client = createCluster({
        rootNodes: cluster.ports.map((port) => ({ socket: { host: '127.0.0.1', port } })),
      });
      client.on('error', () => {});
      await client.connect();
      const store = createRedisStore({ client, prefix, waitReplicas, waitTimeout: 1000 });
      return { ...store, close: async () => client.destroy() } satisfies SessionStore;
    };

    it('a write no replica acknowledges in time fails with StoreUnavailableError', async () => {
      const store = await connectStore(`wait-${randomBytes(4).toString('hex')}:`, 1);
      const replicas = (await clusterRoles(cluster.ports[0]!)).filter((r) => !r.master);
      try {
        const now = Date.now();
        await store.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now });
        for (const r of replicas) cluster.servers.get(r.port)!.process.kill('SIGSTOP');
        const started = Date.now();
        await assert.rejects(
          store.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now }),
          (err: unknown) => {
            assert.ok(err instanceof StoreUnavailableError, String(err));
            assert.match(err.message, /reached 0 of 1 replicas within 1000 ms/);
            return true;
          },
        );
        assert.ok(Date.now() - started < 3000);
      } finally {
        for (const r of replicas) cluster.servers.get(r.port)!.process.kill('SIGCONT');
        await store.close();
      }
    });

    it('every write acknowledged with waitReplicas survives a takeover failover of all masters', async () => {
      const prefix = `failover-${randomBytes(4).toString('hex')}:`;
      const store = await connectStore(prefix, 1);
      const now = Date.now();
      const records = Array.from({ length: 200 }, (_, i) =>
        fitted(store, sampleRecord({ userId: `user-${i % 40}` }, now)),
      );
      try {
        for (const r of records) {
          await store.create(r, { maxSessionsPerUser: 10, now });
          await store.patch(r.id, { set: { acknowledged: true } }, now);
        }
        // Each replica takes over at once, without waiting to catch up with its master.
        const replicas = (await clusterRoles(cluster.ports[0]!)).filter((r) => !r.master);
        for (const r of replicas)
          await redisCli(['-p', String(r.port), 'cluster', 'failover', 'takeover']);
        const deadline = Date.now() + 20_000;
        for (;;) {
          const roles = await clusterRoles(cluster.ports[0]!);
          const promoted = replicas.every((r) => roles.find((n) => n.port === r.port)?.master);
          const states = await Promise.all(
            cluster.ports.map((port) => redisCli(['-p', String(port), 'cluster', 'info'])),
          );
          if (promoted && states.every((s) => s.includes('cluster_state:ok'))) break;
          assert.ok(Date.now() < deadline, 'the failover did not finish within 20 s');
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await store.close();
      }
      const after = await connectStore(prefix, 0);
      try {
        for (const r of records) {
          const found = await after.get(r.id, now);
          assert.deepEqual(found.record?.data, { ...r.data, acknowledged: true }, r.id);
        }
        const stats = await after.stats!(now);
        assert.equal(stats.activeSessions, 200);
        assert.equal(stats.distinctUsers, 40);
      } finally {
        await after.close();
      }
    }, 120_000);
  },
);
