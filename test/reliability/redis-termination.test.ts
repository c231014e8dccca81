/**
 * "Termination is final" across processes, with the Redis store's local cache on and off, on a
 * standalone Redis and on a 3-master Cluster: two
 * server processes on one Redis, a user logs in and both processes read the session (so each has
 * it in memory when the cache is on), then a logout through one process and the very next request
 * through the other must be refused. Looped many times, alternating the processes, and again while
 * a loop keeps killing the processes' tracking connections.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { call, Jar, type RunningApp } from '../http/http-client.js';
import {
  type RedisClusterSet,
  type StandaloneRedis,
  startRedis,
  startRedisCluster,
} from '../support/redis-servers.js';
import { startRedisSessionApp } from '../support/redis-session-process.js';
import { requireCommand } from '../support/services.js';

const ok = await requireCommand('redis-server', 'apt-get install -y redis-server');
/**
 * Rounds per test: fewer on the Cluster, whose three nodes, two app processes and kill loop load
 * the 2-core CI machine enough to upset timing tests running beside it.
 */
const ROUNDS = { standalone: 150, cluster: 50 } as const;

interface CacheStats {
  enabled: boolean;
  hits: number;
  invalidations: number;
  flushes: number;
}

for (const topology of ['standalone', 'cluster'] as const)
  describe.skipIf(!ok)(
    `termination is final across two server processes (Redis, ${topology})`,
    () => {
      let redis: StandaloneRedis | undefined;
      let cluster: RedisClusterSet | undefined;
      /** One admin connection per node (every node of the Cluster). */
      const connectAdmin = async (port: number) => {
        const admin = createClient({ socket: { port, host: '127.0.0.1' } });
        admin.on('error', () => {});
        await admin.connect();
        return admin;
      };
      let admins: Awaited<ReturnType<typeof connectAdmin>>[] = [];
      beforeAll(async () => {
        if (topology === 'standalone') redis = await startRedis();
        else cluster = await startRedisCluster(3);
        const ports = redis ? [redis.port] : cluster!.ports;
        admins = await Promise.all(ports.map(connectAdmin));
      }, 60_000);
      afterAll(async () => {
        for (const admin of admins) admin.destroy();
        await redis?.stop();
        await cluster?.stop();
      });

      /** Kills every tracking connection (flag `t` in CLIENT LIST) on every node; returns how many. */
      async function killTracking(): Promise<number> {
        let killed = 0;
        for (const admin of admins) {
          const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
          for (const line of list.split('\n')) {
            const id = / flags=\S*t/.test(line) ? /id=(\d+)/.exec(line)?.[1] : undefined;
            if (id && Number(await admin.sendCommand(['CLIENT', 'KILL', 'ID', id])) === 1) killed++;
          }
        }
        return killed;
      }

      async function rounds(a: RunningApp, b: RunningApp, label: string): Promise<void> {
        for (let i = 0; i < ROUNDS[topology]; i++) {
          const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
          const jar = new Jar();
          await call(first, jar, 'GET', '/hello');
          const login = await call(first, jar, 'POST', '/login', {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: `u${i}` }),
          });
          assert.equal(login.res.status, 200, `${label} round ${i}: login`);
          const stale = new Jar();
          stale.cookies = new Map(jar.cookies);
          // Both processes read the session twice: with the cache on, each now holds it in memory.
          for (const app of [second, first, second, first]) {
            const me = await call(app, jar, 'GET', '/me');
            assert.equal(me.res.status, 200, `${label} round ${i}: logged in`);
          }
          const out = await call(first, jar, 'POST', '/logout');
          assert.equal(out.res.status, 200, `${label} round ${i}: logout`);
          // The logged-in cookie, presented to the other process right after the logout, by a burst
          // of requests at once (they share one read of the session when it is not cached).
          const burst = await Promise.all(
            Array.from({ length: 20 }, () => call(second, stale, 'GET', '/me')),
          );
          for (const next of burst)
            assert.equal(next.res.status, 401, `${label} round ${i}: the other process refuses`);
        }
      }

      for (const cache of [true, false]) {
        describe(cache ? 'local cache on' : 'local cache off', () => {
          let a: RunningApp;
          let b: RunningApp;
          beforeAll(async () => {
            const prefix = `xp-${randomBytes(4).toString('hex')}:`;
            const where = redis ? redis.port : cluster!.ports;
            [a, b] = await Promise.all([
              startRedisSessionApp(where, prefix, cache),
              startRedisSessionApp(where, prefix, cache),
            ]);
          }, 30_000);
          afterAll(async () => {
            await Promise.all([a?.close(), b?.close()]);
          });

          it(`a logout through one process is final in the other (${ROUNDS[topology]} rounds)`, async () => {
            await rounds(a, b, 'quiet');
            for (const app of [a, b]) {
              const stats = (await call(app, null, 'GET', '/cache')).body as CacheStats | null;
              if (cache) {
                assert.ok(
                  stats && stats.hits >= ROUNDS[topology],
                  `served from memory: ${JSON.stringify(stats)}`,
                );
                assert.ok(stats.invalidations >= ROUNDS[topology] / 2, JSON.stringify(stats));
              } else assert.equal(stats, null);
            }
          }, 120_000);

          it('and while a loop keeps killing the tracking connections', async () => {
            let running = true;
            let kills = 0;
            const killer = (async () => {
              while (running) {
                kills += await killTracking();
                await new Promise((r) => setTimeout(r, 2 + Math.random() * 4));
              }
            })();
            try {
              await rounds(a, b, 'killing');
            } finally {
              running = false;
              await killer;
            }
            if (cache) assert.ok(kills >= 10, `${kills} tracking connections killed`);
          }, 120_000);
        });
      }
    },
  );
