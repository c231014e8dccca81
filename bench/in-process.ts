/**
 * In-process throughput of the session manager on each store (memory, Redis, SQLite, PostgreSQL):
 * create, validate (read-only), validate with touch, delta patch and destroy, at concurrency 1 and
 * 50. Each case runs for a fixed time (destroy: a fixed set of sessions created beforehand).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionManager } from '../src/core/manager-api.js';
import type { SessionStore } from '../src/core/types.js';
import { createSessionManager } from '../src/index.js';
import { createMemoryStore } from '../src/stores/memory.js';
import { createRedisStore } from '../src/stores/redis/index.js';
import { createSqlStore } from '../src/stores/sql/index.js';
import { dropPostgresTable, POSTGRES_URL } from './postgres.js';
import { type Figure, figure, log, settings } from './stats.js';

export type Operation = 'create' | 'validate' | 'validate+touch' | 'patch' | 'destroy';
export const OPERATIONS: Operation[] = ['create', 'validate', 'validate+touch', 'patch', 'destroy'];
export const CONCURRENCIES = [1, 50];

export interface InProcessRow {
  store: string;
  operation: Operation;
  concurrency: number;
  /** Operations per second. */
  opsPerSecond: Figure;
}

/** A store to measure, built fresh per case, and how to dispose of what it left behind. */
interface StoreCase {
  name: string;
  open(): SessionStore;
  /** Sessions destroyed per destroy run (slow stores get fewer, to stay within the time budget). */
  destroyBatch: number;
  /** Sessions the validate and patch cases spread their calls over. */
  pool: number;
  dispose(): Promise<void>;
}

const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const REQUEST = { ip: '203.0.113.7', userAgent: USER_AGENT };

async function timed(
  concurrency: number,
  seconds: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  const until = start + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) await fn(next++);
    }),
  );
  return next / ((performance.now() - start) / 1000);
}

async function counted(concurrency: number, n: number, fn: (i: number) => Promise<unknown>) {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function issue(manager: SessionManager, n: number) {
  const tokens: Array<{ token: string; id: string }> = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        manager.create({ userId: `bench-user-${i + j}`, ...REQUEST, data: { theme: 'dark' } }),
      ),
    );
    for (const s of batch) tokens.push({ token: s.token, id: s.session.id });
  }
  return tokens;
}

async function measureOperation(
  store: SessionStore,
  operation: Operation,
  concurrency: number,
  destroyBatch: number,
  pool: number,
): Promise<number> {
  const seconds = settings.inProcessSeconds;
  const touchAfter = operation === 'validate+touch' ? 0 : 60_000;
  const manager = createSessionManager({
    store,
    cleanupInterval: false,
    rateLimit: false,
    touchAfter,
    maxSessionsPerUser: 5,
  });
  switch (operation) {
    case 'create':
      return timed(concurrency, seconds, (i) =>
        manager.create({ userId: `bench-create-${i % 10_000}`, ...REQUEST, data: { n: i } }),
      );
    case 'validate':
    case 'validate+touch': {
      const tokens = await issue(manager, pool);
      // Warm the path so the first timed run is not a JIT run.
      for (const t of tokens) await manager.validate(t.token, REQUEST);
      return timed(concurrency, seconds, (i) =>
        manager.validate(tokens[i % tokens.length]!.token, REQUEST),
      );
    }
    case 'patch': {
      const tokens = await issue(manager, pool);
      return timed(concurrency, seconds, (i) =>
        manager.update(tokens[i % tokens.length]!.id, { set: { n: i } }),
      );
    }
    case 'destroy': {
      const tokens = await issue(manager, destroyBatch);
      return counted(concurrency, destroyBatch, (i) => manager.terminate(tokens[i]!.id));
    }
  }
}

function storeCases(redisPort: number): StoreCase[] {
  const sqliteDir = mkdtempSync(join(tmpdir(), 'tessera-bench-sqlite-'));
  const pgTable = `bench_sessions_${process.pid}`;
  return [
    {
      name: 'memory',
      open: () => createMemoryStore({ maxSessions: 1_000_000 }),
      destroyBatch: settings.quick ? 2_000 : 10_000,
      pool: 1000,
      dispose: async () => {},
    },
    {
      name: 'Redis',
      open: () => createRedisStore({ port: redisPort, prefix: 'bench-in-process:' }),
      destroyBatch: settings.quick ? 500 : 3_000,
      pool: 1000,
      dispose: async () => {},
    },
    {
      name: 'SQLite',
      open: () => createSqlStore({ dialect: 'sqlite', filename: join(sqliteDir, 'bench.db') }),
      destroyBatch: settings.quick ? 200 : 1_000,
      pool: 200,
      dispose: async () => rmSync(sqliteDir, { recursive: true, force: true }),
    },
    {
      name: 'PostgreSQL',
      open: () => createSqlStore({ url: POSTGRES_URL, table: pgTable }),
      destroyBatch: settings.quick ? 200 : 1_000,
      pool: 200,
      dispose: () => dropPostgresTable(pgTable),
    },
  ];
}

export async function runInProcess(redisPort: number): Promise<InProcessRow[]> {
  const rows: InProcessRow[] = [];
  for (const c of storeCases(redisPort)) {
    try {
      for (const operation of OPERATIONS) {
        for (const concurrency of CONCURRENCIES) {
          const runs: number[] = [];
          for (let r = 0; r < settings.runs; r++) {
            const store = c.open();
            try {
              runs.push(
                await measureOperation(store, operation, concurrency, c.destroyBatch, c.pool),
              );
            } finally {
              await store.close();
            }
          }
          const f = figure(runs);
          rows.push({ store: c.name, operation, concurrency, opsPerSecond: f });
          log(`in-process: ${c.name} ${operation} c=${concurrency}: ${Math.round(f.median)} ops/s`);
        }
      }
    } finally {
      await c.dispose();
    }
  }
  return rows;
}

/**
 * The memory store's raw read path (`store.get`, no token hashing), beside the manager's: the
 * figure for "read-only validations per second on one core".
 */
export async function memoryReadCeiling(): Promise<{ storeGet: Figure; validate: Figure }> {
  const runs = { storeGet: [] as number[], validate: [] as number[] };
  for (let r = 0; r < settings.runs; r++) {
    const store = createMemoryStore({ maxSessions: 1_000_000 });
    const manager = createSessionManager({ store, cleanupInterval: false, rateLimit: false });
    const tokens = await issue(manager, 1000);
    const now = Date.now();
    const ids = tokens.map((t) => t.id);
    for (let w = 0; w < 3; w++) for (const id of ids) await store.get(id, now);
    runs.storeGet.push(
      await timed(1, settings.inProcessSeconds, (i) => store.get(ids[i % 1000]!, now)),
    );
    runs.validate.push(
      await timed(1, settings.inProcessSeconds, (i) =>
        manager.validate(tokens[i % 1000]!.token, REQUEST),
      ),
    );
    await manager.close();
  }
  return { storeGet: figure(runs.storeGet), validate: figure(runs.validate) };
}
