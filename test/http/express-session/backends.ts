/**
 * Support for the express-session store tests: the four backends they run on (memory, Redis,
 * SQLite, PostgreSQL — real servers, each store on its own key prefix, file or table, dropped
 * afterwards), promisified Store calls, and an express app on loopback with a cookie-keeping client.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Express } from 'express';
import session from 'express-session';
import pg from 'pg';
import { TesseraStore, type TesseraStoreOptions } from '../../../src/adapters/express-session.js';
import type { SessionStore } from '../../../src/core/types.js';
import { createMemoryStore } from '../../../src/stores/memory.js';
import { createRedisStore } from '../../../src/stores/redis/index.js';
import { createSqlStore } from '../../../src/stores/sql/index.js';
import { requireService } from '../../support/services.js';

declare module 'express-session' {
  interface SessionData {
    views?: number;
    userId?: string;
  }
}

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface Backend {
  name: 'memory' | 'Redis' | 'SQLite' | 'PostgreSQL';
  /** false when the server is not running (outside CI the suite is then skipped). */
  enabled: boolean;
  /** A fresh, empty Tessera store on this backend. */
  make(): Promise<SessionStore>;
}

const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'tessera-es-'));
const pgTables: string[] = [];
let counter = 0;

/** The four backends; call once per test file (top-level await). */
export async function backends(): Promise<Backend[]> {
  const redisUp = await requireService('Redis', '127.0.0.1', 6379, 'redis-server --port 6379');
  const pgUp = await requireService('PostgreSQL', '127.0.0.1', 5432, 'a local PostgreSQL');
  return [
    { name: 'memory', enabled: true, make: async () => createMemoryStore() },
    {
      name: 'Redis',
      enabled: redisUp,
      make: async () => createRedisStore({ prefix: `es-${run}-${++counter}:` }),
    },
    {
      name: 'SQLite',
      enabled: true,
      make: async () => {
        const store = createSqlStore({ url: `sqlite:${join(dir, `s${++counter}.sqlite`)}` });
        await store.migrate();
        return store;
      },
    },
    {
      name: 'PostgreSQL',
      enabled: pgUp,
      make: async () => {
        const table = `es_${run}_${++counter}`;
        pgTables.push(table);
        const store = createSqlStore({ url: PG_URL, table, poolSize: 4 });
        await store.migrate();
        return store;
      },
    },
  ];
}

/** Removes what the stores left: the SQLite files and the PostgreSQL tables (Redis keys expire). */
export async function cleanUpBackends(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  if (pgTables.length === 0) return;
  const client = new pg.Client(PG_URL);
  await client.connect();
  for (const t of pgTables.splice(0))
    await client.query(`DROP TABLE IF EXISTS "${t}", "${t}_user_locks", "${t}_migrations"`);
  await client.end();
}

/** A callback-style call as a promise. */
export function call<T = void>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    fn((err, value) => (err ? reject(err) : resolve(value as T))),
  );
}

/** A TesseraStore over a fresh backing store, with its Store methods as promises. */
export async function tesseraStore(backend: Backend, options: Partial<TesseraStoreOptions> = {}) {
  const backing = await backend.make();
  const store = new TesseraStore({ store: backing, ...options });
  return {
    backing,
    store,
    get: (sid: string) => call<session.SessionData | null>((cb) => store.get(sid, cb)),
    set: (sid: string, sess: object) =>
      call((cb) => store.set(sid, sess as session.SessionData, cb)),
    touch: (sid: string, sess: object) =>
      call((cb) => store.touch(sid, sess as session.SessionData, () => cb())),
    destroy: (sid: string) => call((cb) => store.destroy(sid, cb)),
    all: () => call<(session.SessionData & { id: string })[]>((cb) => store.all(cb as never)),
    length: () => call<number>((cb) => store.length(cb)),
    clear: () => call((cb) => store.clear(cb)),
    close: () => backing.close(),
  };
}

/** A session as express-session hands it to the store: a cookie expiring `inMs` from `now`. */
export function sessionFor(
  data: Record<string, unknown>,
  inMs = 60_000,
  now = Date.now(),
): session.SessionData {
  return {
    cookie: {
      originalMaxAge: inMs,
      expires: new Date(now + inMs),
      httpOnly: true,
      path: '/',
    },
    ...data,
  } as unknown as session.SessionData;
}

export interface RunningApp {
  url: string;
  /** Errors the server emitted (express-session reports a failed save after the response there). */
  errors: unknown[];
  close(): Promise<void>;
}

/** An express app with express-session over `store`, listening on loopback. */
export async function startApp(
  store: TesseraStore,
  options: Partial<session.SessionOptions>,
  routes: (app: Express) => void,
): Promise<RunningApp> {
  const app = express();
  app.use(session({ store, secret: 'test secret', resave: false, ...options }));
  routes(app);
  const errors: unknown[] = [];
  app.use(
    (err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      errors.push(err);
      if (res.headersSent) return next(err);
      res.status(500).json({ error: String(err) });
    },
  );
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.on('error', (err) => errors.push(err));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client that keeps the session cookie, as a browser would. */
export function browser(url: string) {
  let cookie: string | undefined;
  return {
    get cookie() {
      return cookie;
    },
    set cookie(value: string | undefined) {
      cookie = value;
    },
    /** The express-session id inside the signed cookie. */
    get sid(): string | undefined {
      if (!cookie) return undefined;
      return decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0];
    },
    async get(path: string) {
      const res = await fetch(url + path, { headers: cookie ? { cookie } : {} });
      const set = res.headers.getSetCookie()[0]?.split(';')[0];
      if (set) cookie = set;
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body: body as Record<string, unknown>, setCookie: set };
    },
  };
}
