/**
 * The Redis store's connections: the caller's client wrapped as it is, or `poolSize` clients the
 * store creates and uses in turn, each call under the store's deadline.
 */
import { resolveRedisConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { durationOption, oneOf } from '../options.js';
import { type RedisClientKind, type ScriptClient, wrapClient } from './client.js';
import { REDIS_DEFAULTS, type RedisStoreOptions } from './options.js';
import { createOwnClient } from './own-client.js';

/** Whether a caller's client is a Cluster client (node-redis `createCluster`, ioredis `Cluster`). */
export function isClusterClient(client: unknown): boolean {
  const c = client as { masters?: unknown; isCluster?: unknown };
  return c.masters !== undefined || c.isCluster === true;
}

/** Where the store's connections come from: what a second, tracking connection is made from. */
export type ConnectionSource =
  | { kind: 'client'; client: object }
  | { kind: 'config'; library: RedisClientKind };

export interface Connection {
  /** The clients, round-robin (poolSize connections when the store created them). */
  next(): Promise<ScriptClient>;
  close(): Promise<void>;
}

export function connect(
  options: RedisStoreOptions,
  logger: Logger,
): { conn: Connection; timeout: number; retryDelay: number; source: ConnectionSource } {
  const retryDelay = durationOption(
    'redis.retryDelay',
    options.retryDelay ?? REDIS_DEFAULTS.retryDelay,
  );
  if (options.client !== undefined) {
    // The caller's client has its own connection settings; only the timeouts are read from ours.
    const { connectTimeout } = resolveRedisConfig({ connectTimeout: options.connectTimeout });
    const timeout = durationOption(
      'redis.commandTimeout',
      options.commandTimeout ?? connectTimeout,
    );
    const client = wrapClient(options.client, timeout, retryDelay, logger);
    return {
      timeout,
      retryDelay,
      source: { kind: 'client', client: options.client },
      conn: { next: async () => client, close: () => client.close() },
    };
  }
  const { client: _c, clientLibrary, prefix: _p, commandTimeout, ttlGrace: _t, ...cfg } = options;
  const { retryDelay: _r, ...connectionFields } = cfg;
  const {
    cleanupBatchSize: _b,
    logger: _l,
    buckets: _n,
    localCache: _lc,
    ...storeFields
  } = connectionFields;
  const { waitReplicas: _w, waitTimeout: _wt, ...redisConfig } = storeFields;
  const config = resolveRedisConfig(redisConfig);
  const timeout = durationOption('redis.commandTimeout', commandTimeout ?? config.connectTimeout);
  const kind = oneOf('redis.clientLibrary', clientLibrary ?? REDIS_DEFAULTS.clientLibrary, [
    'ioredis',
    'node-redis',
  ]);
  const pool = Promise.all(
    Array.from({ length: config.poolSize }, () =>
      createOwnClient(kind, config, timeout, retryDelay, logger),
    ),
  );
  pool.catch(() => {}); // reported by each call that awaits it
  let turn = 0;
  return {
    timeout,
    retryDelay,
    source: { kind: 'config', library: kind },
    conn: {
      async next() {
        const clients = await pool;
        turn = (turn + 1) % clients.length;
        return clients[turn]!;
      },
      async close() {
        const clients = await pool.catch(() => []);
        await Promise.all(clients.map((c) => c.close()));
      },
    },
  };
}
