import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import {
  createMemcachedRateLimitStore,
  createMemcachedStore,
  ttlSeconds,
} from '../../src/stores/memcached/index.js';
import { randomUserId, sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { currentItems, startMemcached } from '../support/memcached-server.js';
import { type ChildServer, freePort, requireCommand } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

const ok = await requireCommand('memcached', 'apt-get install -y memcached');
const prefix = `t${randomBytes(4).toString('hex')}:`;

describe.skipIf(!ok)('memcached store', () => {
  let a: ChildServer;
  let b: ChildServer;
  const servers = () => [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
  const make = () => createMemcachedStore({ servers: servers(), prefix });

  beforeAll(async () => {
    [a, b] = await Promise.all([startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  describe('contract on two servers', () => {
    testSessionStore(it, make, {
      second: make,
      unreachable: async () =>
        createMemcachedStore({ servers: [`127.0.0.1:${await freePort()}`], timeout: 1000 }),
      unavailableWithinMs: 1500,
    });
    testDestroyReturnsOwner(it, make);
  });

  it('spreads sessions over both servers', async () => {
    const store = make();
    const before = [await currentItems(a.port), await currentItems(b.port)];
    const now = Date.now();
    for (let i = 0; i < 40; i++)
      await store.create(sampleRecord({ userId: null }, now), { maxSessionsPerUser: null, now });
    const after = [await currentItems(a.port), await currentItems(b.port)];
    await store.close();
    assert.ok(after[0]! - before[0]! >= 5, `server A got ${after[0]! - before[0]!} of 40 items`);
    assert.ok(after[1]! - before[1]! >= 5, `server B got ${after[1]! - before[1]!} of 40 items`);
  });

  it('a user id longer than 250 bytes is hashed into a valid key', async () => {
    const store = make();
    const now = Date.now();
    const userId = `${'ü'.repeat(200)} ${randomUserId()}`;
    const rs = Array.from({ length: 3 }, (_, i) =>
      sampleRecord({ userId, lastSeenAt: now - i }, now),
    );
    for (const r of rs) await store.create(r, { maxSessionsPerUser: 2, now });
    // The newest session is always kept; the limit evicted the least recently active other one.
    assert.deepEqual(
      (await store.listUser(userId, now)).map((r) => r.id),
      [rs[0]!.id, rs[2]!.id],
    );
    await store.close();
  });

  it('cleanup reads only expiry buckets and counts exactly the expired sessions', async () => {
    const store = createMemcachedStore({ servers: servers(), prefix: `${prefix}c:` });
    const now = Date.now();
    for (let i = 0; i < 100; i++)
      await store.create(sampleRecord({ userId: null }, now), { maxSessionsPerUser: null, now });
    const userId = randomUserId();
    const expired = Array.from({ length: 7 }, () =>
      sampleRecord({ userId, idleExpiresAt: now + 5_000 }, now),
    );
    for (const r of expired) await store.create(r, { maxSessionsPerUser: null, now });
    assert.equal(await store.cleanup(now + 120_000), 7);
    assert.equal(await store.cleanup(now + 120_000), 0);
    assert.deepEqual(await store.listUser(userId, now), []);
    await store.close();
  });

  it('relative TTLs: whole seconds rounded up, a Unix time past 30 days', () => {
    assert.equal(ttlSeconds(1_500, 0), 2);
    assert.equal(ttlSeconds(0, 10_000), 1);
    const far = ttlSeconds(40 * 86_400_000, 0);
    assert.ok(Math.abs(far - (Math.ceil(Date.now() / 1000) + 40 * 86_400)) <= 2);
  });
});

describe.skipIf(!ok)('memcached store: losing one of two servers', () => {
  it("loses only that server's share and keeps serving the rest", async () => {
    const [x, y] = await Promise.all([startMemcached(), startMemcached()]);
    const store = createMemcachedStore({
      servers: [`127.0.0.1:${x.port}`, `127.0.0.1:${y.port}`],
      prefix,
      timeout: 1000,
    });
    try {
      const now = Date.now();
      const rs = Array.from({ length: 40 }, () => sampleRecord({ userId: null }, now));
      for (const r of rs) await store.create(r, { maxSessionsPerUser: null, now });
      await y.stop();
      let found = 0;
      let unavailable = 0;
      for (const r of rs) {
        try {
          if ((await store.get(r.id, now)).record) found++;
        } catch (err) {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.equal(err.address, `127.0.0.1:${y.port}`);
          unavailable++;
        }
      }
      assert.equal(found + unavailable, 40, 'every session is either served or reported down');
      assert.ok(found >= 5 && unavailable >= 5, `served ${found}, unavailable ${unavailable}`);
      // New sessions whose keys belong to the surviving server are created and read back.
      let created = 0;
      for (let i = 0; i < 20; i++) {
        const r = sampleRecord({ userId: null }, now);
        try {
          await store.create(r, { maxSessionsPerUser: null, now });
        } catch (err) {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          continue;
        }
        assert.ok((await store.get(r.id, now)).record);
        created++;
      }
      assert.ok(created > 0);
      const health = await store.health();
      assert.equal(health.ok, false);
      assert.match(health.detail ?? '', new RegExp(`127\\.0\\.0\\.1:${y.port}`));
    } finally {
      await store.close();
      await Promise.all([x.stop(), y.stop()]);
    }
  });
});

describe('memcached store: a server that accepts connections but never answers', () => {
  it('fails with StoreUnavailableError within the timeout and health reports it', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const store = createMemcachedStore({ servers: [`127.0.0.1:${port}`], timeout: 300 });
    try {
      const started = Date.now();
      await assert.rejects(store.get(sampleRecord().id, Date.now()), (err: unknown) => {
        assert.ok(err instanceof StoreUnavailableError);
        assert.match(err.message, /no reply within 300 ms/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 1000, `took ${took} ms`);
      assert.equal((await store.health()).ok, false);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe.skipIf(!ok)('memcached rate-limit store', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const make = () =>
    createMemcachedRateLimitStore({ servers: `127.0.0.1:${server.port}`, prefix: `${prefix}rl:` });

  it("counts within a window and resets after it, by the caller's clock", async () => {
    const store = make();
    const key = randomUserId('ip');
    const now = Date.now();
    assert.deepEqual(await store.hit(key, 1000, now), { count: 1, resetAt: now + 1000 });
    assert.deepEqual(await store.hit(key, 1000, now + 500), { count: 2, resetAt: now + 1000 });
    assert.deepEqual(await store.peek(key, now + 999), { count: 2, resetAt: now + 1000 });
    assert.equal(await store.peek(key, now + 1000), null);
    assert.deepEqual(await store.hit(key, 1000, now + 1000), { count: 1, resetAt: now + 2000 });
    await store.reset(key);
    assert.equal(await store.peek(key, now + 1000), null);
    await store.close();
  });

  it('concurrent hits from two clients are all counted', async () => {
    const [s1, s2] = [make(), make()];
    const key = `user name with spaces ${randomUserId()}`;
    const now = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? s1 : s2).hit(key, 60_000, now)),
    );
    assert.equal((await s1.peek(key, now + 1))?.count, 50);
    await Promise.all([s1.close(), s2.close()]);
  });
});
