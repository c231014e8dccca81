/**
 * The Redis store's connections: the caller's client wrapped as it is, or `poolSize` clients the
 * store creates and uses in turn, each call under the store's deadline.
 */
import { resolveRedisConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type ScriptClient, wrapClient } from './client.js';
import { DEFAULT_CLIENT_LIBRARY, durationOption, type RedisStoreOptions } from './options.js';
import { createOwnClient } from './own-client.js';

export interface Connection {
  /** The clients, round-robin (poolSize connections when the store created them). */
  next(): Promise<ScriptClient>;
  close(): Promise<void>;
}

export function connect(
  options: RedisStoreOptions,
  logger: Logger,
): { conn: Connection; timeout: number } {
  if (options.client !== undefined) {
    const timeout = durationOption(
      'redis.commandTimeout',
      options.commandTimeout,
      durationOption('redis.connectTimeout', options.connectTimeout, 2000),
    );
    const client = wrapClient(options.client, timeout, logger);
    return {
      timeout,
      conn: { next: async () => client, close: () => client.close() },
    };
  }
  const { client: _c, clientLibrary, prefix: _p, commandTimeout, ttlGrace: _t, ...cfg } = options;
  const { cleanupBatchSize: _b, logger: _l, ...redisConfig } = cfg;
  const config = resolveRedisConfig(redisConfig);
  const timeout = durationOption('redis.commandTimeout', commandTimeout, config.connectTimeout);
  const kind = clientLibrary ?? DEFAULT_CLIENT_LIBRARY;
  if (kind !== 'ioredis' && kind !== 'node-redis')
    throw new ConfigError('redis.clientLibrary', 'must be "ioredis" or "node-redis"');
  const pool = Promise.all(
    Array.from({ length: config.poolSize }, () => createOwnClient(kind, config, timeout, logger)),
  );
  pool.catch(() => {}); // reported by each call that awaits it
  let turn = 0;
  return {
    timeout,
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
