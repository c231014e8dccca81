/**
 * What the reliability tests share: a small Hono app with Tessera sessions on a real loopback
 * server, an HTTP client with a hard per-request deadline that classifies every answer, a bounded
 * load runner, a delaying TCP proxy, and a watch on unhandled rejections.
 *
 * Routes (JSON; API clients carry the token as a bearer header, so no CSRF token is needed):
 *   POST /login?user=u        → regenerate({ userId: u }); { token }
 *   GET  /whoami              → { id, userId, data }
 *   POST /set?key=k&value=v   → session.set(k, v); { id } of the session it was written to
 *   POST /regenerate          → session.regenerate() (privilege change, same user); { token }
 *   POST /logout              → session.destroy()
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { tesseraSession } from '../../src/adapters/hono.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';

export interface TestApp {
  url: string;
  manager: SessionManager;
  close(): Promise<void>;
}

/** Starts the app on a free loopback port over `store` (closed with the app). */
export async function startApp(
  store: SessionStore,
  options: { maxSessionsPerUser?: number } = {},
): Promise<TestApp> {
  const manager = createSessionManager({
    store,
    cleanupInterval: false,
    maxSessionsPerUser: options.maxSessionsPerUser ?? 5,
    rateLimit: false,
  });
  const app = new Hono();
  app.use('*', tesseraSession(manager, { mode: 'development', skipCsrf: ['/login'] }));
  app.post('/login', async (c) => {
    const s = c.get('session');
    await s.regenerate({ userId: c.req.query('user') ?? null });
    return c.json({ token: s.issuedToken });
  });
  app.get('/whoami', (c) => {
    const s = c.get('session');
    return c.json({ id: s.id, userId: s.userId, data: s.data });
  });
  app.post('/set', (c) => {
    const s = c.get('session');
    s.set(c.req.query('key')!, c.req.query('value')!);
    // The id the write is for: null when the token named no live session (a new one is created).
    return c.json({ ok: true, id: s.id });
  });
  app.post('/regenerate', async (c) => {
    const s = c.get('session');
    await s.regenerate();
    return c.json({ token: s.issuedToken, exists: s.exists });
  });
  app.post('/logout', async (c) => {
    await c.get('session').destroy();
    return c.json({ ok: true });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    manager,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await manager.close();
    },
  };
}

/** How an answer is judged: success, a clean 503 (clear JSON body), or a failure of the test. */
export type Outcome = 'ok' | 'unavailable' | 'bad';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  outcome: Outcome;
  ms: number;
  /** Why an answer is bad (status, body, timeout), for the assertion message. */
  problem?: string;
}

/** One request with a hard deadline; never throws. */
export async function send(
  url: string,
  method: string,
  path: string,
  token?: string | null,
  deadlineMs = 5000,
): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch(url + path, {
      method,
      headers,
      signal: AbortSignal.timeout(deadlineMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {
      return { status: res.status, body, outcome: 'bad', ms, problem: `not JSON: ${text}` };
    }
    if (res.status === 200) return { status: 200, body, outcome: 'ok', ms };
    const clear =
      res.status === 503 &&
      body.error === 'store_unavailable' &&
      typeof body.message === 'string' &&
      /session store is unreachable/.test(body.message) &&
      res.headers.get('retry-after') !== null;
    if (clear) return { status: 503, body, outcome: 'unavailable', ms };
    return { status: res.status, body, outcome: 'bad', ms, problem: `${res.status} ${text}` };
  } catch (err) {
    const ms = performance.now() - started;
    return { status: 0, body: {}, outcome: 'bad', ms, problem: `no answer: ${String(err)}` };
  }
}

/** Logs a user in over HTTP and returns the bearer token. */
export async function login(url: string, user: string): Promise<string> {
  const a = await send(url, 'POST', `/login?user=${encodeURIComponent(user)}`, null, 10_000);
  if (a.outcome !== 'ok' || typeof a.body.token !== 'string')
    throw new Error(`login failed: ${a.problem ?? a.status}`);
  return a.body.token;
}

export interface LoadRecord {
  /** ms since the load started. */
  at: number;
  answer: Answer;
  kind: 'read' | 'write';
  token: string;
  /** For writes: the key and value sent. */
  key?: string;
  value?: string;
}

/**
 * Runs `workers` concurrent request loops for `durationMs`, each request a read (GET /whoami) or
 * a write of a key unique to that request (POST /set), on a token picked in turn. `events` run at
 * their times (ms after the start) while the load goes on.
 */
export async function runLoad(options: {
  url: string;
  tokens: string[];
  workers: number;
  /** How long the load runs, in ms; a function is asked again as events finish (see `marks`). */
  durationMs: number | ((marks: Record<number, number>) => number);
  deadlineMs: number;
  events?: [number, () => Promise<void>][];
}): Promise<{ records: LoadRecord[]; marks: Record<number, number> }> {
  const { url, tokens, workers, deadlineMs } = options;
  const duration = options.durationMs;
  const durationMs = () => (typeof duration === 'number' ? duration : duration(marks));
  const start = performance.now();
  const records: LoadRecord[] = [];
  const marks: Record<number, number> = {};
  const events = (options.events ?? []).map(async ([at, fn], index) => {
    await new Promise((r) => setTimeout(r, at));
    await fn();
    marks[index] = performance.now() - start;
  });
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; performance.now() - start < durationMs(); i++) {
      const token = tokens[(w * 7 + i) % tokens.length]!;
      const at = performance.now() - start;
      if (i % 2 === 0) {
        const answer = await send(url, 'GET', '/whoami', token, deadlineMs);
        records.push({ at, answer, kind: 'read', token });
      } else {
        const key = `w${w}_${i}`;
        const value = `v${i}`;
        const answer = await send(url, 'POST', `/set?key=${key}&value=${value}`, token, deadlineMs);
        records.push({ at, answer, kind: 'write', token, key, value });
      }
    }
  });
  await Promise.all([...loops, ...events]);
  return { records, marks };
}

export function tally(records: LoadRecord[]) {
  const count = (o: Outcome) => records.filter((r) => r.answer.outcome === o).length;
  return {
    requests: records.length,
    ok: count('ok'),
    unavailable: count('unavailable'),
    bad: count('bad'),
    status500: records.filter((r) => r.answer.status >= 500 && r.answer.status !== 503).length,
    slowest: Math.round(Math.max(0, ...records.map((r) => r.answer.ms))),
    problems: [...new Set(records.flatMap((r) => (r.answer.problem ? [r.answer.problem] : [])))],
  };
}

/** Collects unhandled rejections while a test runs. */
export function watchUnhandled(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (err: unknown) => errors.push(err);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}

/**
 * A TCP proxy to `targetPort` that can hold back the server's replies by `delayMs` (a slow
 * backend, not a dead one: the connection stays open and the bytes arrive late).
 */
export interface DelayProxy {
  port: number;
  delayMs: number;
  close(): Promise<void>;
}

export async function startDelayProxy(targetPort: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const proxy: DelayProxy = {
    port: 0,
    delayMs: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    upstream.connect(targetPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    // Replies keep their order: each waits for the one before it and for its own delay.
    let previous = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const delay = proxy.delayMs;
      const due = new Promise<void>((r) => (delay === 0 ? r() : setTimeout(r, delay)));
      previous = Promise.all([previous, due]).then(() => {
        if (!client.destroyed) client.write(chunk);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}
