/**
 * Just the HTTP part of the benchmark, printed as a table (no results.md): for looking at one
 * framework or variant while working on it.
 *
 *   BENCH_FRAMEWORKS=express BENCH_VARIANTS=plain,tessera-memory npx tsx bench/http-only.ts
 */
import { startRedis } from '../test/support/redis-servers.js';
import { compileLibrary } from './compile.js';
import { runHttp } from './http.js';

process.env.BENCH_LIB ??= compileLibrary();
const redis = await startRedis(['--maxmemory', '0']);
try {
  const rows = await runHttp(redis.port);
  console.table(
    rows.map((r) => ({
      framework: r.framework,
      variant: r.variant,
      scenario: r.scenario,
      rps: Math.round(r.rps.median),
      cpuUs: r.cpuUs.median.toFixed(1),
      roundTrips: r.roundTrips?.median.toFixed(2) ?? '',
      commands: JSON.stringify(r.commands),
      failures: r.failures,
    })),
  );
} finally {
  await redis.stop();
}
