/**
 * Cleanup cost growth: the time to clean 10,000 expired sessions out of 10,000, 100,000 and
 * 1,000,000 stored (memory, Redis, PostgreSQL). The live sessions are written once per size; each
 * run adds a fresh set of expired ones and times `cleanup()`, so the runs share the same live set.
 * If cost follows the expired count, the figures for the three sizes are close.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, SessionStore } from '../src/core/types.js';
import { createMemoryStore } from '../src/stores/memory.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { createSqlStore } from '../src/stores/sql/index.js';
import { startRedis } from '../test/support/redis-servers.js';
import { dropPostgresTable, POSTGRES_URL, postgresQuery } from './postgres.js';
import { type Figure, figure, log, settings } from './stats.js';

export interface CleanupRow {
  store: string;
  stored: number;
  expired: number;
  /** Milliseconds per cleanup of `expired` sessions. */
  ms: Figure;
  /** How the live sessions were written. */
  note: string;
}

const HOUR = 3_600_000;
const DEVICE = {
  browser: 'Chrome',
  browserVersion: '120.0',
  os: 'Windows',
  osVersion: '10',
  type: 'desktop' as const,
};

let serial = 0;
/** A record at `at` (30 min idle, 12 h absolute); ids are unique and cheap to make. */
function record(at: number): SessionRecord {
  const n = serial++;
  return {
    id: createHash('sha256').update(`bench-${process.pid}-${n}`).digest('hex'),
    userId: `cleanup-user-${n}`,
    data: { theme: 'dark' },
    createdAt: at,
    lastSeenAt: at,
    idleExpiresAt: at + HOUR / 2,
    absoluteExpiresAt: at + 12 * HOUR,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0',
    device: DEVICE,
    csrf: randomBytes(16).toString('base64url'),
    version: 1,
  };
}

async function createMany(store: SessionStore, n: number, at: number, parallel: number) {
  for (let i = 0; i < n; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - i) }, () => record(at));
    await Promise.all(batch.map((r) => store.create(r, { maxSessionsPerUser: null, now: at })));
  }
}

/** Adds `expired` sessions that ended an hour ago and times one cleanup; checks the count. */
async function timeCleanup(
  store: SessionStore,
  expired: number,
  now: number,
  addExpired: (n: number, at: number) => Promise<void>,
): Promise<number> {
  await addExpired(expired, now - 2 * HOUR);
  const start = performance.now();
  const removed = await store.cleanup(now);
  const ms = performance.now() - start;
  if (removed !== expired) throw new Error(`cleanup removed ${removed}, expected ${expired}`);
  return ms;
}

async function measure(
  name: string,
  stored: number,
  open: () => Promise<{
    store: SessionStore;
    addLive: (n: number, at: number) => Promise<void>;
    addExpired: (n: number, at: number) => Promise<void>;
    note: string;
    dispose: () => Promise<void>;
  }>,
): Promise<CleanupRow> {
  const expired = settings.cleanupExpired;
  const now = Date.now();
  const { store, addLive, addExpired, note, dispose } = await open();
  try {
    const fill = performance.now();
    await addLive(stored - expired, now);
    log(
      `cleanup: ${name} ${stored - expired} live sessions written in ${Math.round(performance.now() - fill)} ms`,
    );
    const runs: number[] = [];
    for (let r = 0; r < settings.runs; r++)
      runs.push(await timeCleanup(store, expired, now, addExpired));
    const ms = figure(runs);
    log(`cleanup: ${name} ${expired} expired of ${stored}: ${ms.median.toFixed(1)} ms`);
    return { store: name, stored, expired, ms, note };
  } finally {
    await store.close();
    await dispose();
  }
}

function memoryCase() {
  return async () => {
    const store = createMemoryStore({ maxSessions: 2_000_000 });
    const add = (n: number, at: number) => createMany(store, n, at, 1000);
    return { store, addLive: add, addExpired: add, note: 'store.create', dispose: async () => {} };
  };
}

function redisCase() {
  return async () => {
    // A server of its own: a million sessions must not land in anyone else's Redis.
    const redis = await startRedis();
    const store = createRedisStore({ port: redis.port, prefix: 'bench-cleanup:' });
    const add = (n: number, at: number) => createMany(store, n, at, 500);
    return {
      store,
      addLive: add,
      addExpired: add,
      note: 'store.create (the Lua create script)',
      dispose: () => redis.stop(),
    };
  };
}

/**
 * PostgreSQL: rows by one INSERT … SELECT generate_series each (a million `create` calls would not
 * fit the time budget); the rows are what the store writes (see sql/postgres.sql).
 */
function postgresCase() {
  return async () => {
    const table = `bench_cleanup_${process.pid}`;
    const store = createSqlStore({ url: POSTGRES_URL, table });
    await store.migrate();
    let batch = 0;
    const bulk = async (n: number, at: number) => {
      const tag = `${process.pid}-${batch++}-`;
      await postgresQuery(
        `INSERT INTO "${table}" (id, user_id, data, created_at, last_seen_at, idle_expires_at,
           absolute_expires_at, expires_at, ip, user_agent, device_browser, device_browser_version,
           device_os, device_os_version, device_type, csrf, version, status)
         SELECT md5($5 || g) || md5('bulk-' || $5 || g), 'bulk-user-' || $5 || g, '{"theme":"dark"}',
           $1::bigint, $1::bigint, $2::bigint, $3::bigint, $2::bigint, '203.0.113.7',
           'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0', 'Chrome', '120.0', 'Windows',
           '10', 'desktop', md5('csrf-' || $5 || g), 1, 'active'
         FROM generate_series(1, $4::int) AS g`,
        [at, at + HOUR / 2, at + 12 * HOUR, n, tag],
      );
      await postgresQuery(`ANALYZE "${table}"`);
    };
    return {
      store,
      addLive: bulk,
      addExpired: bulk,
      note: 'rows written by INSERT … SELECT generate_series',
      dispose: () => dropPostgresTable(table),
    };
  };
}

export async function runCleanupGrowth(): Promise<CleanupRow[]> {
  const rows: CleanupRow[] = [];
  const cases: Array<[string, () => ReturnType<ReturnType<typeof memoryCase>>]> = [
    ['memory', memoryCase()],
    ['Redis', redisCase()],
    ['PostgreSQL', postgresCase()],
  ];
  for (const [name, open] of cases) {
    const sizes = name === 'Redis' ? settings.redisCleanupSizes : settings.cleanupSizes;
    for (const stored of sizes) rows.push(await measure(name, stored, open));
  }
  return rows;
}
