/**
 * The adapters' own cost per read, in process and without sockets: each framework's app, plain and
 * with Tessera on the memory store, is driven with fake node req/res objects (light-my-request,
 * what Fastify's `inject` uses) with sequential `GET /read` requests carrying an established
 * session. Each app runs in its own child process (no JIT state shared with the other variant),
 * warms up, then times many chunks of 10 requests by the clock. On a shared machine every
 * interruption only adds time, so the figures are the fastest chunks (minimum and 5th percentile
 * per request): what the request path costs when it runs uncontended. Young-generation
 * collections per 1,000 requests (16 MB semi-spaces) show what it allocates. The fake req/res cost
 * the same in both variants; the kernel's socket time is left out entirely. Tessera is compiled by
 * tsc first (bench/compile.ts; `BENCH_LIB` names a compiled folder, e.g. an older build).
 *
 *   npx tsx bench/adapter-cost.ts [express,fastify,hono] [chunks of 10 requests] [rounds]
 *   npx tsx bench/adapter-cost.ts express 3000 2 --profile   # + where Tessera's time goes
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import inject, { type DispatchFunc } from 'light-my-request';
import type { SessionManager } from '../src/core/manager-api.js';
import { compileLibrary } from './compile.js';
import { type Profile, selfTimeOver, topSelfTime } from './cpu-profile.js';
import { figure, fmt, fmtFigure } from './stats.js';
import type { Framework } from './variants.js';

type Dispatch = DispatchFunc;
type AppVariant = 'plain' | 'tessera-memory';

const CHUNK = 10;
const WARM_UP = 3_000;
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const child = process.argv.includes('--child');
const profile = process.argv.includes('--profile');
const PROFILES = fileURLToPath(new URL('../test-output/profiles/', import.meta.url));

/** The library as users run it: compiled by tsc (`BENCH_LIB` names a folder compiled already). */
process.env.BENCH_LIB ??= compileLibrary();
const LIB = pathToFileURL(`${process.env.BENCH_LIB}/`).href;
const lib = <T>(path: string): Promise<T> => import(`${LIB}${path}`) as Promise<T>;
const { createSessionManager } = await lib<typeof import('../src/index.js')>('index.js');
const { createMemoryStore } =
  await lib<typeof import('../src/stores/memory.js')>('stores/memory.js');

function manager(): SessionManager {
  return createSessionManager({
    store: createMemoryStore({ maxSessions: 100_000 }),
    cleanupInterval: false,
    rateLimit: false,
  });
}

/** The app's node request listener, with the same routes as bench/http-server.ts. */
async function build(framework: Framework, variant: AppVariant): Promise<Dispatch> {
  if (framework === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    if (variant === 'plain') {
      app.get('/login', (_req, res) => res.json({ csrf: '' }));
      app.get('/read', (_req, res) => res.json({ user: 'user-1' }));
    } else {
      const { tesseraSession, sessionOf } =
        await lib<typeof import('../src/adapters/express.js')>('adapters/express.js');
      const sessions = tesseraSession(manager());
      app.use(sessions);
      app.get('/login', async (req, res) => {
        await sessionOf(req).regenerate({ userId: 'user-1' });
        sessionOf(req).set('user', 'user-1');
        res.json({ csrf: sessionOf(req).csrfToken });
      });
      app.get('/read', (req, res) => res.json({ user: sessionOf(req).get('user') }));
      app.use(sessions.errors);
    }
    return app as unknown as Dispatch;
  }
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    if (variant === 'plain') {
      app.get('/login', async () => ({ csrf: '' }));
      app.get('/read', async () => ({ user: 'user-1' }));
    } else {
      const { tesseraSession } =
        await lib<typeof import('../src/adapters/fastify.js')>('adapters/fastify.js');
      await app.register(tesseraSession, { manager: manager() });
      app.get('/login', async (request) => {
        await request.session.regenerate({ userId: 'user-1' });
        request.session.set('user', 'user-1');
        return { csrf: request.session.csrfToken };
      });
      app.get('/read', async (request) => ({ user: request.session.get('user') }));
    }
    await app.ready();
    return app.server.listeners('request')[0] as Dispatch;
  }
  const { Hono } = await import('hono');
  const { getRequestListener } = await import('@hono/node-server');
  if (variant === 'plain') {
    const app = new Hono();
    app.get('/login', (c) => c.json({ csrf: '' }));
    app.get('/read', (c) => c.json({ user: 'user-1' }));
    return getRequestListener(app.fetch) as Dispatch;
  }
  const { tesseraSession } =
    await lib<typeof import('../src/adapters/hono.js')>('adapters/hono.js');
  const app = new Hono();
  app.use(tesseraSession(manager()));
  app.get('/login', async (c) => {
    await c.get('session').regenerate({ userId: 'user-1' });
    c.get('session').set('user', 'user-1');
    return c.json({ csrf: c.get('session').csrfToken });
  });
  app.get('/read', (c) => c.json({ user: c.get('session').get('user') }));
  return getRequestListener(app.fetch) as Dispatch;
}

interface Target {
  variant: AppVariant;
  dispatch: Dispatch;
  headers: Record<string, string>;
}

async function target(framework: Framework, variant: AppVariant): Promise<Target> {
  const dispatch = await build(framework, variant);
  const login = await inject(dispatch, { method: 'GET', url: '/login' });
  const setCookie = login.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [])
    .map((c) => c.split(';')[0]!)
    .join('; ');
  if (variant !== 'plain' && cookie === '') throw new Error(`${framework}: /login set no cookie`);
  const headers = { cookie, 'user-agent': 'bench', host: 'localhost' };
  const check = await inject(dispatch, { method: 'GET', url: '/read', headers });
  if (check.statusCode !== 200 || check.json().user !== 'user-1')
    throw new Error(`${framework}/${variant}: /read answered ${check.statusCode} ${check.payload}`);
  return { variant, dispatch, headers };
}

/** A CPU profile of `work`, sampled every 100 µs by V8's profiler. */
async function profiled(work: () => Promise<unknown>): Promise<Profile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await work();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile as unknown as Profile;
}

async function requests(t: Target, n: number): Promise<void> {
  const options = { method: 'GET' as const, url: '/read', headers: t.headers };
  for (let i = 0; i < n; i++) {
    const res = await inject(t.dispatch, options);
    if (res.statusCode !== 200) throw new Error(`${t.variant}: /read answered ${res.statusCode}`);
  }
}

interface ChildResult {
  /** µs per request of the fastest chunk, of the 5th percentile and of the median chunk. */
  min: number;
  p5: number;
  p50: number;
  /** Young-generation collections per 1,000 requests. */
  scavenges: number;
}

/** In a child: one app, warmed up, then `chunks` timed chunks. */
async function runChild(framework: Framework, variant: AppVariant, chunks: number) {
  const t = await target(framework, variant);
  await requests(t, WARM_UP);
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (
        (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR
      )
        scavenges++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const times: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const start = performance.now();
    await requests(t, CHUNK);
    times.push(((performance.now() - start) * 1000) / CHUNK);
  }
  // Let the observer see the last collections.
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
  const result: ChildResult = {
    min: at(0),
    p5: at(0.05),
    p50: at(0.5),
    scavenges: (scavenges * 1000) / (chunks * CHUNK),
  };
  if (profile) {
    mkdirSync(PROFILES, { recursive: true });
    const p = await profiled(() => requests(t, chunks * CHUNK));
    writeFileSync(join(PROFILES, `adapter-cost-${framework}-${variant}.json`), JSON.stringify(p));
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** In the parent: one child process per app and round. */
function measureInChild(framework: Framework, variant: AppVariant, chunks: number): ChildResult {
  const out = execFileSync(
    process.execPath,
    [
      '--min-semi-space-size=16',
      '--max-semi-space-size=16',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      ...(profile ? ['--profile'] : []),
      framework,
      variant,
      String(chunks),
    ],
    { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

if (child) {
  const [framework, variant, chunks] = args as [Framework, AppVariant, string];
  await runChild(framework, variant, Number(chunks));
  process.exit(0);
}

const frameworks = (args[0] ?? 'express,fastify,hono').split(',') as Framework[];
const chunks = Number(args[1] ?? 3_000);
const rounds = Number(args[2] ?? 2);
console.log(`Tessera from ${process.env.BENCH_LIB}`);
for (const framework of frameworks) {
  const results: Record<AppVariant, ChildResult[]> = { plain: [], 'tessera-memory': [] };
  for (let r = 0; r < rounds; r++)
    for (const v of ['plain', 'tessera-memory'] as AppVariant[])
      results[v].push(measureInChild(framework, v, chunks));
  const best = (v: AppVariant, k: keyof ChildResult) => Math.min(...results[v].map((x) => x[k]));
  const over = (k: keyof ChildResult) => fmt(best('tessera-memory', k) - best('plain', k), 1);
  console.log(
    `${framework.padEnd(8)} µs/req plain min ${fmt(best('plain', 'min'), 1)} / p5 ${fmt(best('plain', 'p5'), 1)}, ` +
      `Tessera (memory) min ${fmt(best('tessera-memory', 'min'), 1)} / p5 ${fmt(best('tessera-memory', 'p5'), 1)}: ` +
      `adapter + session +${over('min')} (min) / +${over('p5')} (p5) µs per read; ` +
      `young-generation GCs per 1,000 reads ${fmtFigure(figure(results.plain.map((x) => x.scavenges)), 1)} plain, ` +
      `${fmtFigure(figure(results['tessera-memory'].map((x) => x.scavenges)), 1)} Tessera ` +
      `(${chunks * CHUNK} timed requests × ${rounds} rounds, best round)`,
  );
  if (profile) {
    const read = (v: AppVariant) =>
      JSON.parse(
        readFileSync(join(PROFILES, `adapter-cost-${framework}-${v}.json`), 'utf8'),
      ) as Profile;
    const n = chunks * CHUNK;
    console.log(topSelfTime(read('tessera-memory'), n, 25).join('\n'));
    console.log(selfTimeOver(read('tessera-memory'), n, read('plain'), n, 40).join('\n'));
  }
}
