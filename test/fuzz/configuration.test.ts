/**
 * Configuration objects and environment variables as a careless or hostile deployment writes them:
 * every constructor either builds something that works or throws `ConfigError` naming the field;
 * no other exception, and no timer that Node would silently clamp.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';
import { tesseraSession } from '../../src/adapters/hono.js';
import {
  resolveMemcachedConfig,
  resolveRedisConfig,
  resolveSqlConfig,
} from '../../src/core/config.js';
import { configFromEnv } from '../../src/core/env-config.js';
import { ConfigError } from '../../src/core/errors.js';
import { createSessionHttp } from '../../src/http/handler.js';
import { createSessionManager } from '../../src/index.js';
import { createCookieStore } from '../../src/stores/cookie/index.js';
import { createFileStore } from '../../src/stores/file.js';
import { createStoreFromConfig, storeOptionsFromEnv } from '../../src/stores/from-config.js';
import { createMemcachedStore } from '../../src/stores/memcached/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { RUNS } from './runs.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-fuzz-config-'));
const sqlite = new Database(join(folder, 'config.db'));
// Never connected: the Redis store only wraps it, so no option reaches the network.
const idleRedis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
afterAll(() => {
  sqlite.close();
  idleRedis.disconnect();
  rmSync(folder, { recursive: true, force: true });
});

/** Anything a config file, an env-var parser or a typo could produce. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 31,
    2 ** 53,
    1e20,
    Number.MAX_VALUE,
    '',
    ' ',
    '0',
    '30m',
    '1e3',
    '12h',
    '-5m',
    '999999999999d',
    'Infinity',
    'NaN',
    'true',
    true,
    false,
    null,
    undefined,
    [],
    {},
    // What JSON/YAML loaders without a prototype give: it cannot be put in a template string.
    Object.create(null),
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.anything({ maxDepth: 2 }),
);

function expectConfigError(err: unknown): void {
  assert.ok(err instanceof ConfigError, `threw ${err instanceof Error ? err.stack : String(err)}`);
  assert.ok(err.field.length > 0);
}

/** Runs `fn` while recording the process warnings it causes (a clamped timer is one). */
async function noWarnings(fn: () => Promise<void>): Promise<void> {
  const warnings: Error[] = [];
  const listen = (w: Error) => warnings.push(w);
  process.on('warning', listen);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', listen);
  }
  assert.deepStrictEqual(
    warnings.map((w) => `${w.name}: ${w.message}`),
    [],
  );
}

describe('fuzz: configuration objects', () => {
  it('createSessionManager: builds a working manager or throws ConfigError', async () => {
    const options = fc.record(
      {
        idleTimeout: anyValue,
        absoluteTimeout: anyValue,
        touchAfter: anyValue,
        maxSessionsPerUser: anyValue,
        csrf: anyValue,
        bindUserAgent: anyValue,
        ipChange: fc.oneof(anyValue, fc.constantFrom('allow', 'log', 'terminate')),
        rateLimit: fc.oneof(
          anyValue,
          fc.record(
            { maxAttempts: anyValue, maxAttemptsPerIp: anyValue, window: anyValue },
            { requiredKeys: [] },
          ),
        ),
        cleanupInterval: anyValue,
        maxDataBytes: anyValue,
        store: fc.oneof(anyValue, fc.constant(null)),
        logger: anyValue,
        on: anyValue,
      },
      { requiredKeys: [] },
    );
    // One key at a time, so most cases build and the built manager is exercised.
    const single = fc
      .constantFrom(
        'idleTimeout',
        'absoluteTimeout',
        'touchAfter',
        'cleanupInterval',
        'maxDataBytes',
        'maxSessionsPerUser',
      )
      .chain((key) => anyValue.map((value) => ({ [key]: value })));
    await noWarnings(async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(options, single, anyValue), async (given) => {
          let manager: ReturnType<typeof createSessionManager>;
          try {
            manager = createSessionManager(given as never);
          } catch (err) {
            expectConfigError(err);
            return;
          }
          try {
            const s = await manager.create({ userId: 'config-fuzz' });
            const found = await manager.validate(s.token);
            // A timeout of a millisecond or less may already have ended it: that is the config.
            if (found.session) assert.equal(found.session.id, s.session.id);
            else assert.match(found.reason, /^expired_(idle|absolute)$/);
          } finally {
            await manager.close();
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('the HTTP layer and the Hono middleware: build and serve, or ConfigError', async () => {
    const manager = createSessionManager({ rateLimit: false, cleanupInterval: false });
    // trustProxy, tokenHeader, csrfHeader and cookieName take any value: a string trustProxy such
    // as "loopback" once threw on every forwarded request (a 500), a Symbol cookieName a TypeError.
    const options = fc.record(
      {
        mode: fc.oneof(anyValue, fc.constantFrom('production', 'development')),
        cookieName: fc.oneof(anyValue, fc.string({ unit: 'binary-ascii', maxLength: 70 })),
        sameSite: fc.oneof(anyValue, fc.constantFrom('lax', 'strict', 'none')),
        trustProxy: fc.oneof(
          anyValue,
          fc.constantFrom('loopback', '127.0.0.1', '10.0.0.1, loopback', 'junk', ''),
          fc.array(anyValue, { maxLength: 3 }),
          fc.boolean(),
          fc.integer({ min: -2, max: 5 }),
          fc.array(fc.constantFrom('127.0.0.1', '::1', '10.0.0.1', 'junk', '')),
          fc.constant((_a: string, hop: number) => hop < 1),
        ),
        bearer: anyValue,
        tokenHeader: fc.oneof(
          anyValue,
          fc.constantFrom(undefined, 'x-session-token', 'Authorization', 'X-Token', ''),
        ),
        skipCsrf: anyValue,
        csrfField: anyValue,
        csrfHeader: fc.oneof(
          anyValue,
          fc.constantFrom(undefined, 'x-csrf-token', 'X-CSRF', 'x-xsrf-token'),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(options, async (given) => {
        try {
          createSessionHttp(manager, given as never);
        } catch (err) {
          expectConfigError(err);
          return;
        }
        const app = new Hono();
        app.use('*', tesseraSession(manager, given as never));
        app.get('/', (c) => c.json({ csrf: c.get('session').csrfToken }));
        app.post('/', (c) => c.json({ ok: true }));
        const get = await app.request('http://localhost/', {
          headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' },
        });
        assert.equal(get.status, 200);
        const post = await app.request('http://localhost/', { method: 'POST' });
        assert.ok(post.status < 500, `POST answered ${post.status}`);
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
    await manager.close();
  });

  it('store constructors: a store or ConfigError, never another exception', async () => {
    const secrets = fc.oneof(
      anyValue,
      fc.array(
        fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.record({ id: anyValue, secret: fc.oneof(anyValue, fc.string({ minLength: 32 })) }),
        ),
        { maxLength: 3 },
      ),
    );
    const build = fc.oneof(
      fc
        .record({ maxSessions: anyValue, maxTombstones: anyValue }, { requiredKeys: [] })
        .map((o) => () => createMemoryStore(o as never)),
      fc
        .record(
          {
            path: fc.oneof(anyValue, fc.constant(folder)),
            lockTimeout: anyValue,
            staleLockAfter: anyValue,
            batchSize: anyValue,
          },
          { requiredKeys: [] },
        )
        .map((o) => () => createFileStore(o as never)),
      fc
        .record(
          { secrets, cookieName: anyValue, chunkSize: anyValue, maxChunks: anyValue },
          { requiredKeys: [] },
        )
        .map((o) => () => createCookieStore(o as never).sessionStore()),
      fc
        .record(
          {
            table: anyValue,
            timeout: anyValue,
            auditRetention: anyValue,
            cleanupBatchSize: anyValue,
            migrate: fc.constant(false),
          },
          { requiredKeys: [] },
        )
        .map(
          (o) => () =>
            createSqlStore({ dialect: 'sqlite', database: sqlite, ...(o as object) } as never),
        ),
      fc
        .record(
          {
            prefix: anyValue,
            commandTimeout: anyValue,
            connectTimeout: anyValue,
            ttlGrace: anyValue,
            cleanupBatchSize: anyValue,
          },
          { requiredKeys: [] },
        )
        .map((o) => () => createRedisStore({ ...(o as object), client: idleRedis } as never)),
      fc
        .record(
          {
            prefix: anyValue,
            ttlGrace: anyValue,
            cleanupBucket: anyValue,
            retryDelay: anyValue,
            maxCasAttempts: anyValue,
            poolSize: anyValue,
            timeout: anyValue,
          },
          { requiredKeys: [] },
        )
        // A closed port on loopback: construction must not need a server.
        .map(
          (o) => () =>
            createMemcachedStore({ ...(o as object), servers: ['127.0.0.1:1'] } as never),
        ),
    );
    await fc.assert(
      fc.asyncProperty(build, async (make) => {
        let store: { close(): Promise<void> };
        try {
          store = make();
        } catch (err) {
          expectConfigError(err);
          return;
        }
        await store.close();
      }),
      { numRuns: RUNS },
    );
  });

  it('backend connection configs: resolved or ConfigError naming a field', () => {
    const fields = fc.record(
      {
        url: fc.oneof(
          anyValue,
          fc.webUrl(),
          fc.constantFrom(
            'redis://',
            'rediss://:@',
            'redis://h:99999',
            'postgres://',
            'sqlite:',
            'mysql://x',
            'redis://[::1]:6379/-1',
          ),
        ),
        host: anyValue,
        port: anyValue,
        db: anyValue,
        username: anyValue,
        password: anyValue,
        tls: anyValue,
        poolSize: anyValue,
        connectTimeout: anyValue,
        servers: fc.oneof(anyValue, fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })),
        timeout: anyValue,
        dialect: fc.oneof(anyValue, fc.constantFrom('postgres', 'mysql', 'sqlite')),
        filename: anyValue,
        table: anyValue,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fields,
        fc.constantFrom(resolveRedisConfig, resolveMemcachedConfig, resolveSqlConfig),
        (config, resolve) => {
          try {
            resolve(config as never);
          } catch (err) {
            expectConfigError(err);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: environment variables', () => {
  const NAMES = [
    'SESSION_STORAGE',
    'SESSION_FALLBACK',
    'REDIS_URL',
    'REDIS_HOST',
    'REDIS_PORT',
    'REDIS_DB',
    'REDIS_USERNAME',
    'REDIS_PASSWORD',
    'REDIS_SSL',
    'MEMCACHED_SERVERS',
    'DATABASE_URL',
    'SESSION_IDLE_TIMEOUT',
    'MAX_SESSIONS_PER_USER',
    'SESSION_KEY_PREFIX',
    'SESSION_FILE_DIR',
    'SESSION_COOKIE_SECRETS',
  ];
  const envValue = fc.oneof(
    fc.constantFrom(
      'memory',
      'cookie',
      'file',
      'redis',
      'sql',
      'hybrid',
      'database',
      'MEMORY',
      ' redis ',
      'sqlite:x.db',
      'redis://127.0.0.1:1',
      '0',
      '-1',
      '1e3',
      '30m',
      'yes',
      '',
    ),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );

  it('configFromEnv and storeOptionsFromEnv: parsed, or ConfigError naming a variable', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...NAMES), envValue), (env) => {
        try {
          configFromEnv(env);
        } catch (err) {
          expectConfigError(err);
          assert.ok(NAMES.includes((err as ConfigError).field), (err as ConfigError).field);
        }
        storeOptionsFromEnv(env);
      }),
      { numRuns: RUNS },
    );
  });

  it('createStoreFromConfig for the backends that need no server: a store or ConfigError', async () => {
    const env = fc.record(
      {
        SESSION_STORAGE: fc.constantFrom('memory', 'cookie', 'file'),
        SESSION_COOKIE_SECRETS: fc.oneof(envValue, fc.string({ minLength: 32, maxLength: 60 })),
        SESSION_FILE_DIR: fc.oneof(envValue, fc.constant(folder)),
        SESSION_KEY_PREFIX: envValue,
      },
      { requiredKeys: ['SESSION_STORAGE'] },
    );
    await fc.assert(
      fc.asyncProperty(env, async (vars) => {
        let store: { close(): Promise<void> };
        try {
          store = await createStoreFromConfig(configFromEnv(vars), storeOptionsFromEnv(vars));
        } catch (err) {
          expectConfigError(err);
          return;
        }
        await store.close();
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
  });
});
