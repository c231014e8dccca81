/**
 * Bytes per session in Redis: 100,000 sessions written by the Tessera Redis store (value, user
 * index, expiry and activity indexes, counters) and the same session content written by
 * connect-redis (one JSON string per session, no index), each into its own fresh redis-server.
 * The figure is the `used_memory` delta divided by the number of sessions.
 *
 *   npx tsx bench/redis-memory.ts [sessions, default 100000] [extra redis-server args…]
 *
 * e.g. `npx tsx bench/redis-memory.ts 100000 --hash-max-listpack-value 256` to see the effect of the
 * server keeping session hashes in their compact (listpack) encoding.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { SessionRecord } from '../src/core/types.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { randomUserId, sampleRecord } from '../src/testing/fixtures.js';
import { redisCli, startRedis } from '../test/support/redis-servers.js';

const PER_USER = 4; // a user with a laptop, a phone, …
const BATCH = 500;

async function usedMemory(port: number): Promise<number> {
  const info = await redisCli(['-p', String(port), 'info', 'memory']);
  return Number(info.match(/used_memory:(\d+)/)?.[1]);
}

async function inBatches(N: number, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < N; i += BATCH)
    await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => fn(i + j)));
}

async function tessera(
  N: number,
  SERVER_ARGS: string[],
  record: (i: number) => SessionRecord,
  now: number,
): Promise<number> {
  const redis = await startRedis(SERVER_ARGS);
  try {
    const store = createRedisStore({ port: redis.port });
    await store.health();
    const before = await usedMemory(redis.port);
    await inBatches(N, (i) => store.create(record(i), { maxSessionsPerUser: 5, now }));
    const after = await usedMemory(redis.port);
    await store.close();
    return (after - before) / N;
  } finally {
    await redis.stop();
  }
}

async function connectRedis(
  N: number,
  SERVER_ARGS: string[],
  record: (i: number) => SessionRecord,
): Promise<number> {
  const redis = await startRedis(SERVER_ARGS);
  try {
    const client = createClient({ socket: { port: redis.port, host: '127.0.0.1' } });
    await client.connect();
    const store = new RedisStore({ client });
    const before = await usedMemory(redis.port);
    await inBatches(N, (i) => {
      const r = record(i);
      // express-session's cookie plus the same content Tessera keeps for a session.
      const session = {
        cookie: {
          originalMaxAge: 1_800_000,
          expires: new Date(r.idleExpiresAt).toISOString(),
          secure: true,
          httpOnly: true,
          path: '/',
          sameSite: 'lax',
        },
        userId: r.userId,
        createdAt: r.createdAt,
        lastSeenAt: r.lastSeenAt,
        absoluteExpiresAt: r.absoluteExpiresAt,
        ip: r.ip,
        userAgent: r.userAgent,
        device: r.device,
        csrf: r.csrf,
        ...r.data,
      };
      // express-session's default ids: 24 random bytes, base64url (32 characters).
      return store.set(randomBytes(24).toString('base64url'), session as never);
    });
    const after = await usedMemory(redis.port);
    await client.quit();
    return (after - before) / N;
  } finally {
    await redis.stop();
  }
}

export interface RedisMemoryResult {
  sessions: number;
  /** used_memory delta per session, bytes. */
  tessera: number;
  connectRedis: number;
}

/** Writes `n` sessions with each library into its own fresh redis-server and compares. */
export async function measureRedisMemory(
  n: number,
  serverArgs: string[] = [],
): Promise<RedisMemoryResult> {
  const now = Date.now();
  const users = Array.from({ length: Math.ceil(n / PER_USER) }, () => randomUserId());
  const record = (i: number) => sampleRecord({ userId: users[Math.floor(i / PER_USER)]! }, now);
  return {
    sessions: n,
    tessera: await tessera(n, serverArgs, record, now),
    connectRedis: await connectRedis(n, serverArgs, record),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const N = Number(process.argv[2] ?? 100_000);
  const { tessera: ours, connectRedis: theirs } = await measureRedisMemory(
    N,
    process.argv.slice(3),
  );
  console.log(`${N} sessions, ${PER_USER} per user, jemalloc used_memory delta per session:`);
  console.log(
    `  tessera (value + user index + expiry index + activity index + counters): ${Math.round(ours)} B`,
  );
  console.log(
    `  connect-redis (one JSON string, no index):                              ${Math.round(theirs)} B`,
  );
}
