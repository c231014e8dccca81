/**
 * One HTTP server under test, run as a child process by bench/http.ts so its CPU time per request
 * can be read with `process.cpuUsage()` (the parent asks over IPC). Every variant answers the same
 * three routes with the same JSON:
 *
 * - `GET /login`: establishes a session for a user (cookies in Set-Cookie, the CSRF token in JSON);
 * - `GET /read`: reads the user from the session (the common, read-only request);
 * - `POST /write`: sets one key in the session (Tessera checks the `x-csrf-token` header too).
 *
 *   tsx bench/http-server.ts <express|fastify|hono> <variant> <port> [redis port]
 *
 * Variants (bench/variants.ts): `plain` (no session; its routes answer constants of the same
 * shape), `tessera-redis` (local cache off), `tessera-redis-cache` (local cache on),
 * `tessera-memory`, `express-session` (with connect-redis), `fastify-session` (@fastify/session
 * with connect-redis, `rolling: false`) and `fastify-session-rolling` (its default `rolling: true`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { SessionManager } from '../src/core/manager-api.js';
import type { SessionStore } from '../src/core/types.js';
import { type Framework, REDIS_LOCAL_CACHE, type Variant } from './variants.js';

/**
 * Tessera is loaded from `BENCH_LIB` (a folder compiled from src by bench/run.ts, what users run)
 * or, without it, from the TypeScript sources through tsx.
 */
const LIB = process.env.BENCH_LIB ? pathToFileURL(`${process.env.BENCH_LIB}/`).href : '../src/';
const lib = <T>(path: string): Promise<T> => import(`${LIB}${path}`) as Promise<T>;
const { createSessionManager } = await lib<typeof import('../src/index.js')>('index.js');
const { createMemoryStore } =
  await lib<typeof import('../src/stores/memory.js')>('stores/memory.js');
const { createRedisStore } =
  await lib<typeof import('../src/stores/redis/index.js')>('stores/redis/index.js');

const [framework, variant, portArg, redisPortArg] = process.argv.slice(2) as [
  Framework,
  Variant,
  string,
  string | undefined,
];
const port = Number(portArg);
const redisPort = Number(redisPortArg ?? 6379);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const HALF_HOUR = 1_800_000;
let counter = 0;
let loginCount = 0;
/** Requests the server received, counted by node:http (the parent divides CPU and Redis calls by it). */
let served = 0;
const countRequests = (server: Server) => server.on('request', () => served++);

function tesseraManager(): SessionManager {
  const cache =
    variant === 'tessera-redis-cache'
      ? (REDIS_LOCAL_CACHE.on ?? REDIS_LOCAL_CACHE.off)
      : REDIS_LOCAL_CACHE.off;
  const store: SessionStore =
    variant === 'tessera-memory'
      ? createMemoryStore({ maxSessions: 1_000_000 })
      : createRedisStore({ port: redisPort, prefix: `bench-${framework}-${variant}:`, ...cache });
  // Every request comes from 127.0.0.1 with the same User-Agent, as in production behind a proxy.
  return createSessionManager({ store, cleanupInterval: false, rateLimit: false });
}

async function nodeRedisClient() {
  const { createClient } = await import('redis');
  const client = createClient({ socket: { host: '127.0.0.1', port: redisPort } });
  await client.connect();
  return client;
}

async function connectRedisStore() {
  const { RedisStore } = await import('connect-redis');
  return new RedisStore({ client: await nodeRedisClient(), prefix: `bench-${framework}-sess:` });
}

async function startExpress(): Promise<AddressInfo> {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  if (variant === 'express-session') {
    const { default: session } = await import('express-session');
    app.use(
      session({
        store: await connectRedisStore(),
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        rolling: false,
        cookie: { maxAge: HALF_HOUR, httpOnly: true, sameSite: 'lax' },
      }),
    );
    app.get('/login', (req, res) => {
      const s = req.session as unknown as Record<string, unknown>;
      s.user = `user-${++loginCount}`;
      s.theme = 'dark';
      res.json({ csrf: '' });
    });
    app.get('/read', (req, res) => {
      res.json({ user: (req.session as unknown as Record<string, unknown>).user });
    });
    app.post('/write', (req, res) => {
      (req.session as unknown as Record<string, unknown>).n = ++counter;
      res.json({ ok: true });
    });
  } else if (variant === 'plain') {
    app.get('/login', (_req, res) => res.json({ csrf: '' }));
    app.get('/read', (_req, res) => res.json({ user: 'user-1' }));
    app.post('/write', (_req, res) => res.json({ ok: true }));
  } else {
    const { tesseraSession, sessionOf } =
      await lib<typeof import('../src/adapters/express.js')>('adapters/express.js');
    const sessions = tesseraSession(tesseraManager());
    app.use(sessions);
    app.get('/login', async (req, res) => {
      const session = sessionOf(req);
      await session.regenerate({ userId: `user-${++loginCount}` });
      session.set('user', session.userId).set('theme', 'dark');
      res.json({ csrf: session.csrfToken });
    });
    app.get('/read', (req, res) => {
      res.json({ user: sessionOf(req).get('user') });
    });
    app.post('/write', (req, res) => {
      sessionOf(req).set('n', ++counter);
      res.json({ ok: true });
    });
    app.use(sessions.errors);
  }
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server.address() as AddressInfo));
    countRequests(server);
  });
}

async function startFastify(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (variant === 'fastify-session' || variant === 'fastify-session-rolling') {
    const { default: cookie } = await import('@fastify/cookie');
    const { default: session } = await import('@fastify/session');
    await app.register(cookie);
    await app.register(session, {
      secret: SECRET,
      store: (await connectRedisStore()) as never,
      saveUninitialized: false,
      // Its default, rolling: true, saves the session on every request (GET + SET); rolling: false
      // is the kinder anchor (one GET).
      rolling: variant === 'fastify-session-rolling',
      cookie: { maxAge: HALF_HOUR, secure: false, httpOnly: true, sameSite: 'lax' },
    });
    app.get('/login', async (request) => {
      const s = request.session as unknown as { set(k: string, v: unknown): void };
      s.set('user', `user-${++loginCount}`);
      s.set('theme', 'dark');
      return { csrf: '' };
    });
    app.get('/read', async (request) => ({
      user: (request.session as unknown as { get(k: string): unknown }).get('user'),
    }));
    app.post('/write', async (request) => {
      (request.session as unknown as { set(k: string, v: unknown): void }).set('n', ++counter);
      return { ok: true };
    });
  } else if (variant === 'plain') {
    app.get('/login', async () => ({ csrf: '' }));
    app.get('/read', async () => ({ user: 'user-1' }));
    app.post('/write', async () => ({ ok: true }));
  } else {
    const { tesseraSession } =
      await lib<typeof import('../src/adapters/fastify.js')>('adapters/fastify.js');
    await app.register(tesseraSession, { manager: tesseraManager() });
    app.get('/login', async (request) => {
      await request.session.regenerate({ userId: `user-${++loginCount}` });
      request.session.set('user', request.session.userId).set('theme', 'dark');
      return { csrf: request.session.csrfToken };
    });
    app.get('/read', async (request) => ({ user: request.session.get('user') }));
    app.post('/write', async (request) => {
      request.session.set('n', ++counter);
      return { ok: true };
    });
  }
  await app.listen({ port, host: '127.0.0.1' });
  countRequests(app.server);
}

async function startHono(): Promise<void> {
  const { Hono } = await import('hono');
  const { getRequestListener } = await import('@hono/node-server');
  const app = new Hono();
  if (variant === 'plain') {
    app.get('/login', (c) => c.json({ csrf: '' }));
    app.get('/read', (c) => c.json({ user: 'user-1' }));
    app.post('/write', (c) => c.json({ ok: true }));
  } else {
    const { tesseraSession } =
      await lib<typeof import('../src/adapters/hono.js')>('adapters/hono.js');
    app.use(tesseraSession(tesseraManager()));
    app.get('/login', async (c) => {
      const session = c.get('session');
      await session.regenerate({ userId: `user-${++loginCount}` });
      session.set('user', session.userId).set('theme', 'dark');
      return c.json({ csrf: session.csrfToken });
    });
    app.get('/read', (c) => c.json({ user: c.get('session').get('user') }));
    app.post('/write', (c) => {
      c.get('session').set('n', ++counter);
      return c.json({ ok: true });
    });
  }
  // getRequestListener is what @hono/node-server's serve() mounts; here on an explicit loopback host.
  const server = createServer(getRequestListener(app.fetch));
  countRequests(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

const start = { express: startExpress, fastify: startFastify, hono: startHono }[framework];
await start();
process.on('message', (message) => {
  if (message === 'stats') process.send?.({ cpu: process.cpuUsage(), served });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
