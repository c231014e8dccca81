/**
 * Figures as the report shows them: the median of several runs with their min and max, and the
 * settings every bench module reads (`BENCH_QUICK=1` shortens everything for a try-out).
 */

/** One measured quantity over several runs. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function figure(runs: number[]): Figure {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs };
}

/** `a / b` run by run, as a figure (runs paired by index: same round, same conditions). */
export function ratio(a: Figure, b: Figure): Figure {
  return figure(a.runs.map((x, i) => x / (b.runs[i] ?? b.median)));
}

/** `a - b` run by run. */
export function difference(a: Figure, b: Figure): Figure {
  return figure(a.runs.map((x, i) => x - (b.runs[i] ?? b.median)));
}

const QUICK = process.env.BENCH_QUICK === '1';
// While developing, BENCH_FRAMEWORKS=fastify,hono and BENCH_VARIANTS=plain,tessera-memory narrow
// the HTTP part; BENCH_RUNS and BENCH_HTTP_SECONDS change the run count and length;
// BENCH_ALLOW_BUSY=1 runs on a busy machine (see bench/quiet.ts).

export const settings = {
  quick: QUICK,
  /** Runs per figure (the median of these is reported). */
  runs: Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3)),
  /**
   * Seconds of load per HTTP run: 3 keeps the whole run near 11 minutes with 15 server variants
   * (each run is still tens of thousands of requests).
   */
  httpSeconds: Number(process.env.BENCH_HTTP_SECONDS ?? (QUICK ? 1 : 3)),
  /** The highest 1-minute load average of a quiet machine (bench/quiet.ts). */
  maxLoad: Number(process.env.BENCH_MAX_LOAD ?? 0.5),
  /** Run on a busy machine anyway, with a warning (`BENCH_ALLOW_BUSY=1`). */
  allowBusy: process.env.BENCH_ALLOW_BUSY === '1',
  /** Seconds per in-process timed case. */
  inProcessSeconds: QUICK ? 0.3 : 1,
  /** Sessions written for the bytes-per-session figure. */
  memorySessions: QUICK ? 10_000 : 100_000,
  /** Stored-session counts for cleanup growth; 10,000 of each are expired. */
  cleanupSizes: QUICK ? [10_000, 20_000, 50_000] : [10_000, 100_000, 1_000_000],
  /**
   * Redis is filled through the store's own create script, a few thousand per second on a busy
   * 2-core machine, so its largest size is 200,000 rather than 1,000,000 (the time budget).
   */
  redisCleanupSizes: QUICK ? [10_000, 20_000, 50_000] : [10_000, 100_000, 200_000],
  cleanupExpired: QUICK ? 2_000 : 10_000,
  /** While developing: only these variants (`BENCH_VARIANTS=plain,tessera-memory`). */
  variants: process.env.BENCH_VARIANTS?.split(','),
};

/** `1234567.8` → `1,234,568`; small numbers keep `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `median (min–max)`. */
export function fmtFigure(f: Figure, digits = 0): string {
  return `${fmt(f.median, digits)} (${fmt(f.min, digits)}–${fmt(f.max, digits)})`;
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
