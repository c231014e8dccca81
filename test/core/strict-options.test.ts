/**
 * Strict options: an unknown or misspelt key in the manager's options, any store's, any adapter's,
 * the per-call options and the CLI's config file is an `UnknownOptionError` (a `ConfigError`)
 * naming the key, the call and the nearest valid key. The check runs before anything connects, so
 * no case needs a running server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { tesseraSession as expressSession } from '../../src/adapters/express.js';
import { TesseraStore } from '../../src/adapters/express-session.js';
import { tesseraSession as fastifySession } from '../../src/adapters/fastify.js';
import { fromFetchRequest } from '../../src/adapters/fetch.js';
import { tesseraSession as honoSession } from '../../src/adapters/hono.js';
import { createAdminHandler } from '../../src/admin/index.js';
import { CREATE_KNOWN_KEYS } from '../../src/core/call-options.js';
import { ConfigError, UnknownOptionError } from '../../src/core/errors.js';
import { createSessionHttp } from '../../src/http/handler.js';
import { createSessionManager } from '../../src/index.js';
import { createCookieStore, generationsFromRateLimitStore } from '../../src/stores/cookie/index.js';
import { createFallbackRateLimitStore, createFallbackStore } from '../../src/stores/fallback.js';
import { createFileStore } from '../../src/stores/file.js';
import { createStoreFromConfig } from '../../src/stores/from-config.js';
import { createHybridStore } from '../../src/stores/hybrid.js';
import {
  createMemcachedRateLimitStore,
  createMemcachedStore,
} from '../../src/stores/memcached/index.js';
import { createMemoryRateLimitStore, createMemoryStore } from '../../src/stores/memory.js';
import { createRedisRateLimitStore, createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { testSessionStore } from '../../src/testing/index.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-strict-'));
const manager = createSessionManager({ cleanupInterval: false });
afterAll(async () => {
  await manager.close();
  rmSync(folder, { recursive: true, force: true });
});

const SECRET = 'a'.repeat(32);
const memory = () => createMemoryStore();
const counters = () => createMemoryRateLimitStore();

/** What each misspelling must produce: the call named, the key, the suggestions. */
interface Case {
  where: string;
  key: string;
  suggestions: string[];
  run: () => unknown;
}

/** Options with a key the types do not allow: what a JavaScript caller or a spread can pass. */
const loose = (options: Record<string, unknown>) => options as never;

const CASES: Case[] = [
  // The manager and its per-call options.
  {
    where: 'createSessionManager()',
    key: 'idleTimout',
    suggestions: ['idleTimeout'],
    run: () => createSessionManager(loose({ idleTimout: '5m' })),
  },
  {
    where: 'createSessionManager()',
    key: 'ttl',
    suggestions: ['idleTimeout', 'absoluteTimeout'],
    run: () => createSessionManager(loose({ ttl: '1h' })),
  },
  {
    where: 'createSessionManager()',
    key: 'rateLimit.windw',
    suggestions: ['rateLimit.window'],
    run: () => createSessionManager(loose({ rateLimit: { windw: '5m' } })),
  },
  {
    where: 'createSessionManager()',
    key: 'on.create',
    suggestions: ['on.created'],
    run: () => createSessionManager(loose({ on: { create: () => {} } })),
  },
  {
    where: 'manager.create()',
    key: 'userID',
    suggestions: ['userId'],
    run: () => manager.create(loose({ userID: 'u1' })),
  },
  {
    // `ttl` names a timeout: it suggests the per-session timeouts the call takes (the ones
    // CREATE_KNOWN_KEYS lists; none until create() takes its own idleTimeout/absoluteTimeout).
    where: 'manager.create()',
    key: 'ttl',
    suggestions: ['idleTimeout', 'absoluteTimeout'].filter((k) =>
      Object.hasOwn(CREATE_KNOWN_KEYS, k),
    ),
    run: () => manager.create(loose({ userId: 'u1', ttl: 60_000 })),
  },
  {
    where: 'manager.validate()',
    key: 'userAgnet',
    suggestions: ['userAgent'],
    run: () => manager.validate('x'.repeat(43), loose({ userAgnet: 'curl' })),
  },
  {
    where: 'manager.regenerate()',
    key: 'keepdata',
    suggestions: ['keepData'],
    run: () => manager.regenerate('x'.repeat(43), loose({ keepdata: false })),
  },
  {
    where: 'manager.terminateUser()',
    key: 'exceptID',
    suggestions: ['exceptId'],
    run: () => manager.terminateUser('u1', loose({ exceptID: 'abc' })),
  },
  {
    where: 'manager.attemptLogin()',
    key: 'usename',
    suggestions: ['username'],
    run: () => manager.attemptLogin(loose({ usename: 'ann' }), () => null),
  },
  {
    where: 'manager.checkLoginAttempt()',
    key: 'success',
    suggestions: [],
    run: () => manager.checkLoginAttempt(loose({ success: true })),
  },
  {
    where: 'manager.trackLoginAttempt()',
    key: 'sucess',
    suggestions: ['success'],
    run: () => manager.trackLoginAttempt(loose({ sucess: true })),
  },
  // Every store factory.
  {
    where: 'createMemoryStore()',
    key: 'maxSesions',
    suggestions: ['maxSessions'],
    run: () => createMemoryStore(loose({ maxSesions: 10 })),
  },
  {
    where: 'createMemoryRateLimitStore()',
    key: 'maxKey',
    suggestions: ['maxKeys'],
    run: () => createMemoryRateLimitStore(loose({ maxKey: 10 })),
  },
  {
    where: 'createRedisStore()',
    key: 'commandTimout',
    suggestions: ['commandTimeout'],
    run: () => createRedisStore(loose({ port: 1, commandTimout: 100 })),
  },
  {
    where: 'createRedisRateLimitStore()',
    key: 'prefex',
    suggestions: ['prefix'],
    run: () => createRedisRateLimitStore(loose({ port: 1, prefex: 'x:' })),
  },
  {
    where: 'createMemcachedStore()',
    key: 'maxCasAttempt',
    suggestions: ['maxCasAttempts'],
    run: () => createMemcachedStore(loose({ servers: ['127.0.0.1:1'], maxCasAttempt: 5 })),
  },
  {
    where: 'createMemcachedRateLimitStore()',
    key: 'server',
    suggestions: ['servers'],
    run: () => createMemcachedRateLimitStore(loose({ server: '127.0.0.1:1' })),
  },
  {
    where: 'createSqlStore()',
    key: 'auditRetension',
    suggestions: ['auditRetention'],
    run: () => createSqlStore(loose({ url: 'sqlite::memory:', auditRetension: '7d' })),
  },
  {
    where: 'createFileStore()',
    key: 'lockTimout',
    suggestions: ['lockTimeout'],
    run: () => createFileStore(loose({ path: folder, lockTimout: 100 })),
  },
  {
    where: 'createCookieStore()',
    key: 'secret',
    suggestions: ['secrets'],
    run: () => createCookieStore(loose({ secret: SECRET })),
  },
  {
    where: 'createCookieStore()',
    key: 'cookie.secrets.1.secrte',
    suggestions: ['cookie.secrets.1.secret'],
    run: () => createCookieStore(loose({ secrets: [SECRET, { id: 'k2', secrte: SECRET }] })),
  },
  {
    where: 'generationsFromRateLimitStore()',
    key: 'lifeTime',
    suggestions: ['lifetime'],
    run: () => generationsFromRateLimitStore(counters(), loose({ lifeTime: 1000 })),
  },
  {
    where: 'createHybridStore()',
    key: 'maxSuspect',
    suggestions: ['maxSuspects'],
    run: () => createHybridStore(loose({ cache: memory(), database: memory(), maxSuspect: 5 })),
  },
  {
    where: 'createHybridStore()',
    key: 'writeBehind.flushIntervall',
    suggestions: ['writeBehind.flushInterval'],
    run: () =>
      createHybridStore(
        loose({ cache: memory(), database: memory(), writeBehind: { flushIntervall: 100 } }),
      ),
  },
  {
    where: 'createFallbackStore()',
    key: 'probeIntervall',
    suggestions: ['probeInterval'],
    run: () =>
      createFallbackStore(loose({ primary: memory(), secondary: memory(), probeIntervall: 5 })),
  },
  {
    where: 'createFallbackRateLimitStore()',
    key: 'retryIntervall',
    suggestions: ['retryInterval'],
    run: () =>
      createFallbackRateLimitStore(
        loose({ primary: counters(), secondary: counters(), retryIntervall: 5 }),
      ),
  },
  {
    where: 'createStoreFromConfig()',
    key: 'filepath',
    suggestions: ['filePath'],
    run: () => createStoreFromConfig({ storage: 'memory' }, loose({ filepath: folder })),
  },
  // The HTTP layer, every adapter, the express-session store and the dashboard.
  {
    where: 'createSessionHttp()',
    key: 'sameSit',
    suggestions: ['sameSite'],
    run: () => createSessionHttp(manager, loose({ sameSit: 'strict' })),
  },
  {
    where: 'tesseraSession() (Express)',
    key: 'cookiename',
    suggestions: ['cookieName'],
    run: () => expressSession(manager, loose({ cookiename: 'sid' })),
  },
  {
    where: 'tesseraSession() (Hono)',
    key: 'remoteAdress',
    suggestions: ['remoteAddress'],
    run: () => honoSession(manager, loose({ remoteAdress: () => null })),
  },
  {
    where: 'tesseraSession() (Fastify)',
    key: 'errorHandlr',
    suggestions: ['errorHandler'],
    run: async () => {
      const app = Fastify();
      try {
        await app.register(fastifySession, loose({ manager, errorHandlr: false }));
        await app.ready();
      } finally {
        await app.close().catch(() => {});
      }
    },
  },
  {
    where: 'new TesseraStore()',
    key: 'userIdof',
    suggestions: ['userIdOf'],
    run: () => new TesseraStore(loose({ store: memory(), userIdof: () => null })),
  },
  {
    where: 'createAdminHandler()',
    key: 'basepath',
    suggestions: ['basePath'],
    run: () => createAdminHandler(loose({ manager, authorize: () => true, basepath: '/a' })),
  },
  {
    where: 'createAdminHandler()',
    key: 'appLink.lable',
    suggestions: ['appLink.label'],
    run: () =>
      createAdminHandler(
        loose({ manager, authorize: () => true, appLink: { href: '/', lable: 'Home' } }),
      ),
  },
  {
    where: 'testSessionStore()',
    key: 'capabilities.listall',
    suggestions: ['capabilities.listAll'],
    run: () => testSessionStore(() => {}, memory, loose({ capabilities: { listall: false } })),
  },
];

/** The request session's own options, reached through the HTTP layer as every adapter does. */
async function requestSession() {
  const http = createSessionHttp(manager, { mode: 'development' });
  return http.load(fromFetchRequest(new Request('http://localhost/')));
}

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('strict options: an unknown key is a ConfigError naming the nearest valid one', () => {
  it.each(CASES)('$where refuses "$key"', async ({ where, key, suggestions, run }) => {
    const err = await outcome(run);
    assert.ok(err instanceof UnknownOptionError, `${where} ${key}: ${String(err)}`);
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.key, key);
    assert.equal(err.field, key);
    assert.equal(err.where, where);
    assert.deepEqual(err.suggestions, suggestions);
    assert.equal(err.suggestion, suggestions[0]);
    if (suggestions.length > 0) {
      const hint = suggestions.map((s) => `"${s}"`).join(' or ');
      assert.equal(
        err.message,
        `[tessera] Unknown option "${key}" in ${where}: did you mean ${hint}?`,
      );
    } else {
      assert.match(err.message, new RegExp(`Unknown option "${key}" in .*: the options are "`));
    }
  });

  it('the message is the one the docs show', () => {
    expect(() => createSessionManager(loose({ idleTimout: '5m' }))).toThrow(
      'Unknown option "idleTimout" in createSessionManager(): did you mean "idleTimeout"?',
    );
  });

  it("the request session's regenerate, login and destroyAll options are checked too", async () => {
    const session = await requestSession();
    for (const [call, key, suggestion] of [
      [() => session.regenerate(loose({ userid: 'u1' })), 'userid', 'userId'],
      [() => session.login('ann', () => null, loose({ keepDat: true })), 'keepDat', 'keepData'],
      [() => session.destroyAll(loose({ exceptcurrent: true })), 'exceptcurrent', 'exceptCurrent'],
    ] as const) {
      const err = await outcome(call);
      assert.ok(err instanceof UnknownOptionError, String(err));
      assert.equal(err.key, key);
      assert.equal(err.suggestion, suggestion);
    }
  });

  it('a key far from every option gets no guess, but the list of the options', () => {
    const err = outcome(() => createMemoryStore(loose({ colour: 'blue' })));
    return err.then((e) => {
      assert.ok(e instanceof UnknownOptionError);
      assert.equal(e.suggestion, undefined);
      assert.equal(
        e.message,
        '[tessera] Unknown option "colour" in createMemoryStore(): the options are "maxSessions", "maxTombstones"',
      );
    });
  });

  it('a key set to undefined is still unknown; the known keys set to undefined are fine', async () => {
    assert.ok(
      (await outcome(() => createMemoryStore(loose({ maxSesions: undefined })))) instanceof
        UnknownOptionError,
    );
    await createMemoryStore({ maxSessions: undefined, maxTombstones: undefined }).close();
  });

  it('the options that pass a caller-built client or store through are known, and not inspected', async () => {
    const store = createHybridStore({ cache: memory(), database: memory(), writeBehind: true });
    await store.close();
    const app = express();
    app.use(expressSession(manager, { formLimit: 10 }));
    // Fastify's own register options reach the plugin in the same object.
    const fastify = Fastify();
    await fastify.register(fastifySession, loose({ manager, prefix: '/app', logLevel: 'warn' }));
    await fastify.ready();
    await fastify.close();
  });
});
