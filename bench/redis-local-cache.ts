/**
 * What does the Redis store's local cache buy? 200 sessions, validated again and again through the
 * manager (the read-only path of a request: touchAfter is longer than the run), with the cache on
 * and off, against a redis-server this script starts on a free port. Prints validations per
 * second and this process's CPU time per validation, at 1 request in flight (latency) and at 64.
 *
 *   npx tsx bench/redis-local-cache.ts [seconds per case, default 3]
 */
import { createSessionManager } from '../src/index.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { startRedis } from '../test/support/redis-servers.js';

const seconds = Number(process.argv[2] ?? 3);
const SESSIONS = 200;

async function measure(
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ perSecond: number; cpuUs: number; meanUs: number }> {
  const until = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  let done = 0;
  let busy = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await fn(done++);
        busy += performance.now() - t;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    perSecond: Math.round(done / seconds),
    cpuUs: Math.round((used.user + used.system) / done),
    meanUs: Math.round((busy * 1000) / done),
  };
}

const redis = await startRedis();
try {
  const rows: string[] = [];
  // Each setting twice, interleaved, so a warm-up or a noisy neighbour does not decide.
  for (const round of [1, 2]) {
    for (const localCache of [true, false]) {
      const store = createRedisStore({ port: redis.port, prefix: `lc${round}:`, localCache });
      const manager = createSessionManager({ store, cleanupInterval: false, touchAfter: '10m' });
      const tokens: string[] = [];
      for (let i = 0; i < SESSIONS; i++)
        tokens.push((await manager.create({ userId: `user-${i % 50}` })).token);
      // Until the tracking connection answers, reads go uncached: warm up past that.
      const validate = async (i: number) => {
        const result = await manager.validate(tokens[i % SESSIONS]!);
        if (!result.session) throw new Error('a session was refused');
      };
      for (let i = 0; i < SESSIONS * 3; i++) await validate(i);
      for (const concurrency of [1, 64]) {
        const r = await measure(concurrency, validate);
        rows.push(
          `| ${round} | ${localCache ? 'on' : 'off'} | ${concurrency} | ${r.perSecond} | ${r.meanUs} | ${r.cpuUs} |`,
        );
      }
      const stats = store.localCacheStats();
      if (stats)
        rows.push(
          `|   |    | cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.entries} entries, ${stats.bytes} bytes | | | |`,
        );
      await manager.close();
      await store.close();
    }
  }
  console.log(
    '| round | local cache | in flight | validations/s | mean latency µs | CPU µs/validation |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await redis.stop();
}
