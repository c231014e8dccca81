/**
 * Fail fast while the backend is down. After a connection failure the Redis store (with either
 * client library) and the Memcached store answer `StoreUnavailableError` at once for a short
 * `retryDelay`, then let one call through as a probe while the others keep failing fast; service
 * returns within 1 s of the server coming back. Without this every request waited out the whole
 * command timeout before its 503. The outage here is a black hole (connections accepted, never
 * answered), so a call that is let through waits its whole timeout and the probe is visible.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/core/types.js';
import { createMemcachedStore } from '../../src/stores/memcached/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import { startMemcached } from '../support/memcached-server.js';
import { startRedis } from '../support/redis-servers.js';
import { requireCommand } from '../support/services.js';

const redisOk = await requireCommand('redis-server', 'apt-get install -y redis-server');
const memcachedOk = await requireCommand('memcached', 'apt-get install -y memcached');

const TIMEOUT = 800;
const RETRY_DELAY = 300;

interface Server {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Replaces the server on `port` by a black hole: connections are accepted and never answered, so
 * a call waits out its whole timeout (the worst kind of outage: no refusal to learn from).
 * `start` closes it and starts the real server again.
 */
function blackHoleOn(port: number, server: Server): Server & { down(): Promise<void> } {
  let hole: NetServer | null = null;
  const sockets = new Set<Socket>();
  return {
    async down() {
      await server.stop();
      hole = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((r) => hole!.listen(port, '127.0.0.1', r));
    },
    async start() {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => (hole ? hole.close(r) : r(null)));
      hole = null;
      await server.start();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => (hole ? hole.close(r) : r(null)));
      hole = null;
      await server.stop();
    },
  };
}

/** How long one `get` takes to fail (or succeed), in ms. */
async function timedGet(store: SessionStore): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await store.get(sampleRecord().id, Date.now());
    return { ms: performance.now() - started, error: null };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

async function failsFastThenRecovers(
  server: Server & { down(): Promise<void> },
  store: SessionStore,
): Promise<void> {
  try {
    assert.equal((await timedGet(store)).error, null, 'connected');
    await server.down();
    // The first call after the failure may wait for the connection; it trips the gate.
    const first = await timedGet(store);
    assert.ok(first.error instanceof StoreUnavailableError, String(first.error));
    assert.ok(first.ms <= TIMEOUT + 250, `first failure took ${Math.round(first.ms)} ms`);
    // Within the retry delay every call fails at once.
    for (let i = 0; i < 10; i++) {
      const r = await timedGet(store);
      assert.ok(r.error instanceof StoreUnavailableError, String(r.error));
      assert.ok(r.ms < 25, `call ${i} took ${Math.round(r.ms)} ms while marked down`);
    }
    // After it, one call probes (it may wait up to the timeout) while the others still fail fast.
    await new Promise((r) => setTimeout(r, RETRY_DELAY + 50));
    const burst = await Promise.all(Array.from({ length: 20 }, () => timedGet(store)));
    assert.ok(burst.every((r) => r.error instanceof StoreUnavailableError));
    const slow = burst.filter((r) => r.ms >= 25).length;
    assert.ok(slow <= 1, `${slow} of 20 calls waited: only the probe may`);
    // Back: service returns within 1 s of the server accepting connections again.
    await server.start();
    const back = performance.now();
    for (;;) {
      const r = await timedGet(store);
      if (r.error === null) break;
      assert.ok(r.error instanceof StoreUnavailableError, String(r.error));
      assert.ok(performance.now() - back < 1000, 'not back within 1 s of the restart');
      await new Promise((res) => setTimeout(res, 10));
    }
    console.info(
      `[reliability] fail-fast ${store.name}: back ${Math.round(performance.now() - back)} ms after the restart`,
    );
  } finally {
    await store.close();
    await server.stop();
  }
}

describe.skipIf(!redisOk)('fail fast: Redis store', () => {
  for (const clientLibrary of ['node-redis', 'ioredis'] as const) {
    it(`${clientLibrary}: 503s at once while down, one probe per retry delay, back within 1 s`, async () => {
      const redis = await startRedis();
      const store = createRedisStore({
        port: redis.port,
        clientLibrary,
        prefix: `ff-${randomBytes(4).toString('hex')}:`,
        connectTimeout: TIMEOUT,
        commandTimeout: TIMEOUT,
        retryDelay: RETRY_DELAY,
      });
      await failsFastThenRecovers(blackHoleOn(redis.port, redis), store);
    });
  }
});

describe.skipIf(!memcachedOk)('fail fast: Memcached store', () => {
  it('503s at once while down, one probe per retry delay, back within 1 s', async () => {
    let server = await startMemcached();
    const port = server.port;
    const store = createMemcachedStore({
      servers: [`127.0.0.1:${port}`],
      prefix: `ff${randomBytes(4).toString('hex')}:`,
      timeout: TIMEOUT,
      retryDelay: RETRY_DELAY,
    });
    const restartable: Server = {
      stop: () => server.stop(),
      async start() {
        server = await startMemcachedOn(port);
      },
    };
    await failsFastThenRecovers(blackHoleOn(port, restartable), store);
  });
});

/** Memcached again on the port it had (the store keeps its server list). */
async function startMemcachedOn(port: number) {
  const { startServer } = await import('../support/services.js');
  return startServer(
    'memcached',
    [
      ...['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'],
      ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ],
    port,
  );
}
