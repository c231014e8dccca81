/**
 * `npm run bench`: the whole benchmark set, on loopback, started and stopped here. Compiles src
 * for the HTTP servers, starts a redis-server of its own on a free port, then runs the HTTP,
 * in-process, Redis memory and cleanup-growth parts, prints the target tables and writes
 * bench/results.md. PostgreSQL is the shared local server, in tables named for this run. It first
 * waits for a quiet machine (1-minute load average ≤ 0.5) and refuses to run on a busy one unless
 * told to (bench/quiet.ts).
 *
 *   npm run bench                    (about 11 minutes)
 *   BENCH_QUICK=1 npm run bench      (1 s runs, one round, small sizes; figures not for quoting)
 *   BENCH_ALLOW_BUSY=1 npm run bench (on a busy machine; results.md says so)
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisCli, startRedis } from '../test/support/redis-servers.js';
import { runCleanupGrowth } from './cleanup-growth.js';
import { compileLibrary } from './compile.js';
import { runHttp } from './http.js';
import { memoryReadCeiling, runInProcess } from './in-process.js';
import { postgresVersion } from './postgres.js';
import { awaitQuietMachine, type Quietness } from './quiet.js';
import { measureRedisMemory } from './redis-memory.js';
import { checkTargets, type Machine, markdown } from './report.js';
import { log, settings } from './stats.js';
import { checkIssue16Targets } from './targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();

async function machine(redisPort: number, quietness: Quietness): Promise<Machine> {
  const info = await redisCli(['-p', String(redisPort), 'info', 'server']);
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    memoryGb: totalmem() / 2 ** 30,
    node: process.version,
    redis: info.match(/redis_version:(\S+)/)?.[1] ?? 'unknown',
    postgres: await postgresVersion().catch(() => 'unavailable'),
    loadAverage: quietness.loadAverage.map((l) => l.toFixed(2)).join(', '),
    quiet: quietness.quiet,
    maxLoad: quietness.limit,
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  };
}

// Before anything of ours loads the CPU (the compile included).
const quietness = await awaitQuietMachine();
process.env.BENCH_LIB ??= compileLibrary();
const redis = await startRedis(['--maxmemory', '0']);
try {
  const m = await machine(redis.port, quietness);
  log(
    `machine: ${m.cores} cores, Node ${m.node}, Redis ${m.redis}, PostgreSQL ${m.postgres}${settings.quick ? ' (BENCH_QUICK)' : ''}`,
  );
  const http = await runHttp(redis.port);
  await redisCli(['-p', String(redis.port), 'flushall']);
  const inProcess = await runInProcess(redis.port);
  const memoryCeiling = await memoryReadCeiling();
  log('redis memory: writing sessions with Tessera and connect-redis');
  const redisMemory = await measureRedisMemory(settings.memorySessions);
  const cleanup = await runCleanupGrowth();
  const results = {
    machine: m,
    http,
    inProcess,
    memoryCeiling,
    redisMemory,
    cleanup,
    durationSeconds: (performance.now() - started) / 1000,
  };
  m.loadAverageEnd = loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  const checks = checkTargets(results);
  for (const list of [checkIssue16Targets(http), checks])
    console.table(
      list.map((c) => ({ target: c.target, measured: c.measured, met: c.met ? 'yes' : 'NO' })),
    );
  const file = join(root, 'bench', 'results.md');
  writeFileSync(file, markdown(results, checks));
  writeFileSync(join(root, 'test-output', 'bench-results.json'), JSON.stringify(results, null, 2));
  log(`wrote ${file} in ${Math.round(results.durationSeconds)} s`);
} finally {
  await redis.stop();
}
