/**
 * Which Redis client should the Redis store create by default? Runs the store's own operations
 * (get, get+touch, patch, create) over one connection with each library against a redis-server
 * this script starts on a free port, and prints operations per second.
 *
 *   npx tsx bench/redis-client-choice.ts [seconds per case, default 3]
 */

import type { RedisClientKind } from '../src/stores/redis/index.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { sampleRecord } from '../src/testing/fixtures.js';
import { startRedis } from '../test/support/redis-servers.js';

const seconds = Number(process.argv[2] ?? 3);
const CONCURRENCY = 64;
const HOUR = 3_600_000;

/** Operations per second, and this process's CPU time per operation in µs (steadier on a busy machine). */
async function measure(fn: (i: number) => Promise<unknown>): Promise<[number, number]> {
  const until = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) await fn(done++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return [Math.round(done / seconds), Math.round((used.user + used.system) / done)];
}

const redis = await startRedis();
try {
  const results: Record<string, Record<string, string>> = {};
  // Each library twice, interleaved, so a warm-up or a noisy neighbour does not pick the winner.
  for (const round of [1, 2]) {
    for (const lib of ['node-redis', 'ioredis'] as RedisClientKind[]) {
      const store = createRedisStore({
        port: redis.port,
        clientLibrary: lib,
        prefix: `bench-${lib}:`,
      });
      const now = Date.now();
      const records = Array.from({ length: 1000 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      const row: Record<string, string> = {};
      const cell = ([ops, us]: [number, number]) => `${ops}/s ${us}µs`;
      row.get = cell(await measure((i) => store.get(records[i % 1000]!.id, now)));
      row['get+touch'] = cell(
        await measure((i) =>
          store.get(records[i % 1000]!.id, now + i, { touchAfter: 0, idleTimeout: HOUR }),
        ),
      );
      row.patch = cell(
        await measure((i) => store.patch(records[i % 1000]!.id, { set: { n: i } }, now)),
      );
      row.create = cell(
        await measure(() => store.create(sampleRecord({}, now), { maxSessionsPerUser: 5, now })),
      );
      await store.close();
      results[`${lib} #${round}`] = row;
    }
  }
  console.table(results);
} finally {
  await redis.stop();
}
