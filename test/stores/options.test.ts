/**
 * Store options follow one rule per kind (src/stores/options.ts), whichever store reads them: a
 * timeout, interval or retry delay is more than zero and at most what a timer can wait; a grace
 * period or retention may be zero; a count is a whole number of at least 1. Each case is checked
 * when the store is built, as a `ConfigError` naming the field. No case needs a running server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { MAX_TIMER_MS } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { createFallbackRateLimitStore, createFallbackStore } from '../../src/stores/fallback.js';
import { createFileStore } from '../../src/stores/file.js';
import { createHybridStore } from '../../src/stores/hybrid.js';
import { createMemcachedStore } from '../../src/stores/memcached/index.js';
import { createMemoryRateLimitStore, createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-options-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A closed loopback port: building these stores must not need a server. */
const nowhere = { servers: ['127.0.0.1:1'] };

function rejects(field: string, build: () => { close(): Promise<void> }): void {
  assert.throws(build, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `${field}: ${String(err)}`);
    assert.equal(err.field, field);
    return true;
  });
}

async function accepts(build: () => { close(): Promise<void> }): Promise<void> {
  await build().close();
}

const memory = () => createMemoryStore();

describe('store options: one rule per kind', () => {
  it('a timeout, interval or retry delay of zero is refused in every store', () => {
    rejects('redis.commandTimeout', () =>
      createRedisStore({ port: 1, commandTimeout: 0, connectTimeout: 100 }),
    );
    rejects('memcached.retryDelay', () => createMemcachedStore({ ...nowhere, retryDelay: 0 }));
    rejects('redis.retryDelay', () =>
      createRedisStore({ port: 1, retryDelay: 0, connectTimeout: 100 }),
    );
    rejects('memcached.cleanupBucket', () =>
      createMemcachedStore({ ...nowhere, cleanupBucket: 0 }),
    );
    rejects('file.lockTimeout', () => createFileStore({ path: folder, lockTimeout: 0 }));
    rejects('file.staleLockAfter', () => createFileStore({ path: folder, staleLockAfter: 0 }));
    rejects('cacheRetryDelay', () =>
      createHybridStore({ cache: memory(), database: memory(), cacheRetryDelay: 0 }),
    );
    rejects('writeBehind.flushInterval', () =>
      createHybridStore({ cache: memory(), database: memory(), writeBehind: { flushInterval: 0 } }),
    );
    rejects('fallback.probeInterval', () =>
      createFallbackStore({ primary: memory(), secondary: memory(), probeInterval: 0 }),
    );
    rejects('fallback.retryInterval', () =>
      createFallbackRateLimitStore({
        primary: createMemoryRateLimitStore(),
        secondary: createMemoryRateLimitStore(),
        retryInterval: 0,
      }),
    );
  });

  it('a delay that drives a timer is capped at what a Node timer can wait', () => {
    rejects('writeBehind.flushInterval', () =>
      createHybridStore({
        cache: memory(),
        database: memory(),
        writeBehind: { flushInterval: MAX_TIMER_MS + 1 },
      }),
    );
    rejects('fallback.probeInterval', () =>
      createFallbackStore({ primary: memory(), secondary: memory(), probeInterval: '30d' }),
    );
  });

  it('durations are milliseconds or strings like "2s" everywhere', async () => {
    await accepts(() => createFileStore({ path: folder, lockTimeout: '2s', staleLockAfter: '1m' }));
    await accepts(() =>
      createFallbackStore({ primary: memory(), secondary: memory(), probeInterval: '500ms' }),
    );
    await accepts(() =>
      createHybridStore({
        cache: memory(),
        database: memory(),
        cacheRetryDelay: '1s',
        writeBehind: { flushInterval: '2s' },
      }),
    );
    rejects('file.lockTimeout', () => createFileStore({ path: folder, lockTimeout: 'soon' }));
  });

  it('a grace period or retention of zero is accepted in every store', async () => {
    await accepts(() => createMemcachedStore({ ...nowhere, ttlGrace: 0 }));
    await accepts(() => createRedisStore({ port: 1, ttlGrace: 0, connectTimeout: 100 }));
    await accepts(() =>
      createSqlStore({ url: `sqlite:${join(folder, 'options.db')}`, auditRetention: 0 }),
    );
    rejects('redis.ttlGrace', () => createRedisStore({ port: 1, ttlGrace: -1 }));
    rejects('memcached.ttlGrace', () => createMemcachedStore({ ...nowhere, ttlGrace: 'later' }));
  });

  it('a count is a whole number of at least 1', () => {
    rejects('file.batchSize', () => createFileStore({ path: folder, batchSize: 1.5 }));
    rejects('memcached.maxCasAttempts', () =>
      createMemcachedStore({ ...nowhere, maxCasAttempts: 0 }),
    );
    rejects('fallback.maxPendingTerminations', () =>
      createFallbackStore({ primary: memory(), secondary: memory(), maxPendingTerminations: 0.5 }),
    );
    rejects('maxKeys', () => createMemoryRateLimitStore({ maxKeys: 0 }));
  });

  it('a choice among names refuses any other', () => {
    rejects('fallback.readThrough', () =>
      createFallbackStore({
        primary: memory(),
        secondary: memory(),
        readThrough: 'sometimes' as never,
      }),
    );
    rejects('redis.clientLibrary', () =>
      createRedisStore({ port: 1, clientLibrary: 'jedis' as never }),
    );
  });
});
