/**
 * HTTP throughput with autocannon at 50 connections: each framework plain, with its usual session
 * library on Redis, and with Tessera on Redis (local cache on and off) and on memory, all in the
 * same run and interleaved
 * round by round, so every figure is also a ratio to its own framework's plain baseline. Servers
 * are child processes (bench/http-server.ts); each reports its own CPU time, which gives server
 * CPU µs per request, steadier than req/s on a shared machine. Redis commands per request come
 * from `INFO commandstats` around each run. autocannon sends fixed, prebuilt requests (one per
 * session, no per-request callback), so the generator's own cost does not dilute the ratios.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon, { type RawRequest } from 'autocannon';
import { freePort } from '../test/support/services.js';
import { commandCounts, commandDelta } from './redis-commands.js';
import { type Figure, figure, log, settings } from './stats.js';
import { FRAMEWORKS, type Framework, usesRedis, VARIANT_LABEL, type Variant } from './variants.js';

/**
 * `read-paced`: the read at a fixed rate (`PACED_RATE`), the same for plain and Tessera on the
 * memory store: the adapters' CPU over plain when both meet the same load generator (at full load
 * a slower server leaves it idle more often, and each response then also pays the kernel's cost
 * of waking it). Shown beside the full-load figure.
 */
export type Scenario = 'read' | 'write' | 'read-paced';

/** Requests per second of the paced read: well below every variant's capacity on 2 cores. */
export const PACED_RATE = 2_000;

export interface HttpRow {
  framework: Framework;
  variant: Variant;
  scenario: Scenario;
  /** Successful (2xx) responses per second. */
  rps: Figure;
  /** Server process CPU (user + system) per request, µs. */
  cpuUs: Figure;
  /** Redis round trips per request (null: the variant does not use Redis). */
  roundTrips: Figure | null;
  /** Redis commands executed per request, script-internal ones included. */
  executed: Figure | null;
  /** Commands per request by name, from the last run. */
  commands: Record<string, number>;
  /** Non-2xx answers, errors and timeouts over all runs (should be 0). */
  failures: number;
}

const CONNECTIONS = 50;
const SESSIONS_PER_SERVER = 200;
const SERVER_SCRIPT = fileURLToPath(new URL('./http-server.ts', import.meta.url));

interface Server {
  variant: Variant;
  port: number;
  child: ChildProcess;
  /** `Cookie` header values and matching CSRF tokens of established sessions. */
  sessions: Array<{ cookie: string; csrf: string }>;
  /** CPU time (µs) the server has used and requests it has received so far. */
  stats(): Promise<{ cpu: number; served: number }>;
  stop(): Promise<void>;
}

async function startServer(
  framework: Framework,
  variant: Variant,
  redisPort: number,
): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SERVER_SCRIPT, framework, variant, String(port), String(redisPort)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${framework}/${variant} did not start`)),
      30_000,
    );
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} exited ${code}`)));
    child.on('message', (m: { ready?: boolean }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const stats = () =>
    new Promise<{ cpu: number; served: number }>((resolve) => {
      const onMessage = (m: { cpu?: NodeJS.CpuUsage; served?: number }) => {
        if (!m.cpu) return;
        child.off('message', onMessage);
        resolve({ cpu: m.cpu.user + m.cpu.system, served: m.served ?? 0 });
      };
      child.on('message', onMessage);
      child.send('stats');
    });
  const sessions: Server['sessions'] = [];
  for (let i = 0; i < SESSIONS_PER_SERVER; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/login`);
    const body = (await res.json()) as { csrf: string };
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    if (variant !== 'plain' && cookie === '')
      throw new Error(`${framework}/${variant}: /login set no cookie`);
    sessions.push({ cookie, csrf: body.csrf });
  }
  return {
    variant,
    port,
    child,
    sessions,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Sample {
  rps: number;
  cpuUs: number;
  roundTrips: number;
  executed: number;
  commands: Record<string, number>;
  failures: number;
}

/**
 * The requests autocannon sends: one fixed request per established session, built into a buffer
 * once; every connection walks the list in turn. No `setupRequest`, so the generator spends no
 * JavaScript of ours per request and its own cost stays as small as a plain route's.
 */
function requestList(server: Server, scenario: Scenario): RawRequest[] {
  return server.sessions.map(
    (s): RawRequest =>
      scenario !== 'write'
        ? { method: 'GET', path: '/read', headers: { cookie: s.cookie } }
        : { method: 'POST', path: '/write', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } },
  );
}

async function load(server: Server, scenario: Scenario, seconds: number, redisPort: number) {
  const before = await server.stats();
  const redisBefore = await commandCounts(redisPort);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: requestList(server, scenario === 'read-paced' ? 'read' : scenario),
    ...(scenario === 'read-paced' ? { overallRate: PACED_RATE } : {}),
  });
  // Let the requests still in flight when the load stopped finish, so the counts line up.
  await new Promise((r) => setTimeout(r, 200));
  const after = await server.stats();
  const redis = commandDelta(redisBefore, await commandCounts(redisPort));
  // Per request the server received (autocannon's total leaves out the ones cut off at the end).
  const total = Math.max(1, after.served - before.served);
  const perRequest = (n: number) => n / total;
  const sample: Sample = {
    rps: result['2xx'] / result.duration,
    cpuUs: (after.cpu - before.cpu) / total,
    roundTrips: perRequest(redis.roundTrips),
    executed: perRequest(redis.executed),
    commands: Object.fromEntries(
      Object.entries(redis.byName).map(([k, v]) => [k, Math.round(perRequest(v) * 100) / 100]),
    ),
    failures: result.non2xx + result.errors + result.timeouts,
  };
  return sample;
}

/** Runs every framework × variant × scenario, `settings.runs` interleaved rounds each. */
export async function runHttp(redisPort: number): Promise<HttpRow[]> {
  const rows: HttpRow[] = [];
  const only = process.env.BENCH_FRAMEWORKS?.split(',');
  for (const [framework, all] of Object.entries(FRAMEWORKS) as [Framework, Variant[]][]) {
    if (only && !only.includes(framework)) continue;
    const variants = all.filter((v) => !settings.variants || settings.variants.includes(v));
    log(`http: starting ${framework} servers (${variants.join(', ')})`);
    const servers: Server[] = [];
    try {
      for (const v of variants) servers.push(await startServer(framework, v, redisPort));
      const samples = new Map<string, Sample[]>();
      for (const scenario of ['read', 'write', 'read-paced'] as Scenario[]) {
        // The paced read is for the adapters' cost: plain and Tessera on the memory store.
        const measured = servers.filter(
          (s) =>
            scenario !== 'read-paced' || s.variant === 'plain' || s.variant === 'tessera-memory',
        );
        // Warm-up: JIT, connection pools, script cache.
        for (const s of measured) await load(s, scenario, 1, redisPort);
        for (let round = 1; round <= settings.runs; round++) {
          for (const s of measured) {
            const sample = await load(s, scenario, settings.httpSeconds, redisPort);
            const key = `${s.variant}/${scenario}`;
            samples.set(key, [...(samples.get(key) ?? []), sample]);
            log(
              `http: ${framework} ${VARIANT_LABEL[s.variant]} ${scenario} #${round}: ` +
                `${Math.round(sample.rps)} req/s, ${sample.cpuUs.toFixed(1)} µs CPU/req, ` +
                `${sample.roundTrips.toFixed(2)} Redis round trips/req`,
            );
          }
        }
        for (const s of measured) {
          const list = samples.get(`${s.variant}/${scenario}`)!;
          const redis = usesRedis(s.variant);
          rows.push({
            framework,
            variant: s.variant,
            scenario,
            rps: figure(list.map((x) => x.rps)),
            cpuUs: figure(list.map((x) => x.cpuUs)),
            roundTrips: redis ? figure(list.map((x) => x.roundTrips)) : null,
            executed: redis ? figure(list.map((x) => x.executed)) : null,
            commands: redis ? list[list.length - 1]!.commands : {},
            failures: list.reduce((n, x) => n + x.failures, 0),
          });
        }
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  return rows;
}
