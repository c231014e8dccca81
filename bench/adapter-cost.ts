/**
 * The adapters' own CPU cost, in process and without sockets, so it repeats on a busy machine:
 * each framework's app, plain and with Tessera on the memory store, is driven with fake node
 * req/res objects (light-my-request, what Fastify's `inject` uses) for a fixed number of
 * sequential `GET /read` requests carrying an established session. Rounds alternate plain and
 * Tessera; the figure is CPU µs per request (user + system of this process), and the cost is the
 * difference from plain in the same round. The fake req/res cost the same in both, so they shift
 * both figures without touching the difference; the kernel's socket time is left out entirely.
 * Tessera is compiled by tsc first (bench/compile.ts), as users run it.
 *
 *   npx tsx bench/adapter-cost.ts [express,fastify,hono] [requests per round] [rounds]
 *   npx tsx bench/adapter-cost.ts express 5000 10 --profile   # + self time per request
 */
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import inject, { type DispatchFunc } from 'light-my-request';
import type { SessionManager } from '../src/core/manager-api.js';
import { compileLibrary } from './compile.js';
import { type Profile, selfTimeOver, topSelfTime } from './cpu-profile.js';
import { difference, type Figure, figure, fmtFigure } from './stats.js';
import type { Framework } from './variants.js';

type Dispatch = DispatchFunc;
type AppVariant = 'plain' | 'tessera-memory';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const frameworks = (args[0] ?? 'express,fastify,hono').split(',') as Framework[];
const requests = Number(args[1] ?? 5_000);
const rounds = Number(args[2] ?? 10);
const profile = process.argv.includes('--profile');

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

/** CPU µs per request over `n` sequential requests (a busy machine only adds: read the minimum). */
async function run(t: Target, n: number): Promise<number> {
  const options = { method: 'GET' as const, url: '/read', headers: t.headers };
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await inject(t.dispatch, options);
    if (res.statusCode !== 200) throw new Error(`${t.variant}: /read answered ${res.statusCode}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

async function measure(framework: Framework): Promise<{ plain: Figure; ours: Figure }> {
  const plain = await target(framework, 'plain');
  const ours = await target(framework, 'tessera-memory');
  // Warm-up: JIT both paths before any round counts.
  await run(plain, requests / 2);
  await run(ours, requests / 2);
  const p: number[] = [];
  const o: number[] = [];
  for (let r = 0; r < rounds; r++) {
    p.push(await run(plain, requests));
    o.push(await run(ours, requests));
  }
  if (profile) {
    const n = requests * 2;
    const base = await profiled(() => run(plain, n));
    const mine = await profiled(() => run(ours, n));
    console.log(`${framework} Tessera (memory), self time:`);
    console.log(topSelfTime(mine, n, 25).join('\n'));
    console.log(selfTimeOver(mine, n, base, n, 40).join('\n'));
  }
  return { plain: figure(p), ours: figure(o) };
}

for (const framework of frameworks) {
  const { plain, ours } = await measure(framework);
  console.log(
    `${framework.padEnd(8)} plain ${fmtFigure(plain, 1)} µs/req, Tessera (memory) ${fmtFigure(ours, 1)} µs/req, ` +
      `adapter + session: +${fmtFigure(difference(ours, plain), 1)} µs/req, ` +
      `difference of the minimums +${(ours.min - plain.min).toFixed(1)} µs/req (${requests} requests × ${rounds} rounds)`,
  );
}
