/**
 * The Redis store (`tessera-session/redis`): sessions in Redis hashes with a per-user index, an expiry
 * index and an activity index, each operation one Lua script (one round trip, atomic). Works on
 * standalone Redis, Cluster and Sentinel, with a client it creates from a `RedisConfig` or one the
 * caller already holds (node-redis or ioredis). Also a fixed-window `RateLimitStore`.
 */
import { type RedisConfig, resolveRedisConfig } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, shownValue } from '../../core/errors.js';
import { describeError, type Logger, silentLogger } from '../../core/logger.js';
import type {
  CreateOptions,
  CreateResult,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  MissReason,
  RateLimitState,
  RateLimitStore,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { byRecentActivity, expiresAt } from '../record.js';
import {
  createOwnClient,
  REDIS_STORE_NAME,
  type RedisClientKind,
  type ScriptClient,
  wrapClient,
} from './client.js';
import { DATA_FIELD_PREFIX, dataValue, recordFields, recordFromFields } from './record-hash.js';
import {
  CLEANUP,
  CREATE,
  DESTROY,
  DESTROY_USER,
  GET,
  LIST,
  LIST_USER,
  type LuaScript,
  PATCH,
  RATE_HIT,
  REGENERATE,
  STATS,
} from './scripts.js';

export { REDIS_STORE_NAME, type RedisClientKind } from './client.js';

/**
 * A client the caller already holds: a node-redis client, Cluster or Sentinel (`createClient`,
 * `createCluster`, `createSentinel`, connected) or an ioredis `Redis` (standalone or Sentinel) or
 * `Cluster`. Typed loosely so neither package is needed to compile against this module.
 */
export type RedisClientLike = object;

export interface RedisStoreOptions extends RedisConfig {
  /**
   * Use this client instead of creating one from the connection fields. The store never closes a
   * client it did not create. A node-redis client must already be connected.
   */
  client?: RedisClientLike;
  /**
   * Which library creates the connection when no `client` is given. Chosen by measurement on the
   * store's own scripts (bench/redis-client-choice.ts): both libraries reach the same throughput
   * (the server's script time bounds it) and node-redis spent the same or less client CPU per
   * operation, so it is the default.
   * @default "node-redis"
   */
  clientLibrary?: RedisClientKind;
  /**
   * Namespace of every key. Keys are `{<prefix>}…`: the braces make the whole deployment one
   * Cluster hash slot, which is what keeps the per-user limit and termination atomic there.
   * @default "tessera:"
   */
  prefix?: string;
  /** Deadline for each operation, after which it fails with `StoreUnavailableError`. @default connectTimeout (2000 ms) */
  commandTimeout?: number | string;
  /**
   * How long Redis keeps a session's hash past its expiry before deleting it by itself (a TTL
   * computed from the caller's clock). Within it an expired session is reported as
   * `expired_idle`/`expired_absolute` and counted out of the stats exactly; run `cleanup` more often
   * than this (the manager's job does) so the device counters stay exact.
   * @default 86_400_000 (24 h)
   */
  ttlGrace?: number | string;
  /** Sessions removed per cleanup script call (each call blocks Redis for its batch only). @default 500 */
  cleanupBatchSize?: number;
  /** Where corrupted records and connection errors are reported. @default silent */
  logger?: Logger;
}

/** Default library for a store-created connection: see bench/redis-client-choice.ts. */
export const DEFAULT_CLIENT_LIBRARY: RedisClientKind = 'node-redis';

function durationOption(field: string, value: number | string | undefined, fallback: number) {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms < 0)
    throw new ConfigError(field, `must be a duration, got ${shownValue(value)}`);
  return ms;
}

interface Connection {
  /** The clients, round-robin (poolSize connections when the store created them). */
  next(): Promise<ScriptClient>;
  close(): Promise<void>;
}

function connect(
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

const MISS_REASONS: ReadonlySet<MissReason> = new Set([
  'not_found',
  'expired_idle',
  'expired_absolute',
  'terminated',
]);

function prefixOption(prefix: unknown): string {
  const value = prefix ?? 'tessera:';
  if (typeof value !== 'string' || value === '')
    throw new ConfigError('redis.prefix', `must be a non-empty string, got ${shownValue(value)}`);
  return value;
}

function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

export function createRedisStore(options: RedisStoreOptions = {}): SessionStore {
  const logger = options.logger ?? silentLogger;
  const base = `{${prefixOption(options.prefix)}}`;
  const grace = durationOption('redis.ttlGrace', options.ttlGrace, 86_400_000);
  const batch = options.cleanupBatchSize ?? 500;
  if (!Number.isInteger(batch) || batch < 1)
    throw new ConfigError('redis.cleanupBatchSize', 'must be a positive integer');
  const { conn } = connect(options, logger);

  const sKey = (id: string) => `${base}s:${id}`;
  const uKey = (userId: string) => `${base}u:${userId}`;
  const indexKeys = [`${base}e`, `${base}a`, `${base}st`];

  async function run(
    script: LuaScript,
    firstKey: string,
    now: number,
    args: string[],
  ): Promise<unknown> {
    const client = await conn.next();
    // Keys every script may touch are declared; the rest are built from the same base (same slot).
    return client.run(
      script,
      [firstKey, ...indexKeys],
      [base, String(now), String(grace), ...args],
    );
  }

  function corrupted(id: string): void {
    logger.warn(
      { store: REDIS_STORE_NAME, sessionId: id },
      'corrupted session record in Redis ignored (treated as no session)',
    );
  }

  /** Decodes a GET/PATCH reply. */
  function lookup(id: string, reply: unknown): LookupResult {
    const [state, touchedFlag, fields] = Array.isArray(reply) ? reply : [];
    if (state === 'live') {
      const record = recordFromFields(id, fields);
      if (record) return { record, touched: Number(touchedFlag) === 1 };
    } else if (MISS_REASONS.has(state as MissReason)) {
      return { record: null, reason: state as MissReason };
    }
    corrupted(id);
    return { record: null, reason: 'not_found' };
  }

  /** Decodes a list of id, HGETALL pairs, reporting corrupted ones. */
  function records(flat: unknown): SessionRecord[] {
    const out: SessionRecord[] = [];
    const items = Array.isArray(flat) ? flat : [];
    for (let j = 0; j + 1 < items.length; j += 2) {
      const id = String(items[j]);
      const record = recordFromFields(id, items[j + 1]);
      if (record) out.push(record);
      else corrupted(id);
    }
    return out;
  }

  function addArgs(record: SessionRecord): string[] {
    const fields = recordFields(record);
    return [
      record.id,
      String(record.lastSeenAt),
      String(expiresAt(record)),
      String(fields.length / 2),
      ...fields,
    ];
  }

  const limitArg = (options: CreateOptions) =>
    options.maxSessionsPerUser === null ? '' : String(options.maxSessionsPerUser);

  async function listUser(userId: string, now: number): Promise<SessionRecord[]> {
    const reply = await run(LIST_USER, uKey(userId), now, [userId]);
    return records(reply).sort(byRecentActivity);
  }

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  return {
    name: REDIS_STORE_NAME,
    capabilities,

    async create(record: SessionRecord, options: CreateOptions): Promise<CreateResult> {
      const reply = await run(CREATE, sKey(record.id), options.now, [
        limitArg(options),
        record.userId ?? '',
        ...addArgs(record),
      ]);
      return { evicted: strings(reply) };
    },

    async get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      const reply = await run(GET, sKey(id), now, [
        id,
        touch ? String(touch.touchAfter) : '',
        touch ? String(touch.idleTimeout) : '',
      ]);
      return lookup(id, reply);
    },

    async patch(id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
      const set: string[] = [];
      for (const [key, value] of Object.entries(patch.set ?? {})) {
        const json = dataValue(value);
        if (json !== undefined) set.push(DATA_FIELD_PREFIX + key, json);
      }
      const unset = (patch.unset ?? []).map((key) => DATA_FIELD_PREFIX + key);
      const reply = await run(PATCH, sKey(id), now, [
        id,
        patch.csrf === undefined ? '0' : '1',
        patch.csrf ?? '',
        String(set.length / 2),
        String(unset.length),
        ...set,
        ...unset,
      ]);
      return lookup(id, reply).record;
    },

    async destroy(id: string, _reason: TerminationReason, now: number): Promise<boolean> {
      return Number(await run(DESTROY, sKey(id), now, [id])) === 1;
    },

    async destroyUser(userId, { exceptId, now }): Promise<string[]> {
      return strings(await run(DESTROY_USER, uKey(userId), now, [userId, exceptId ?? '']));
    },

    async regenerate(
      oldId: string,
      record: SessionRecord,
      options: CreateOptions,
    ): Promise<RegenerateResult> {
      const reply = await run(REGENERATE, sKey(oldId), options.now, [
        oldId,
        limitArg(options),
        record.userId ?? '',
        ...addArgs(record),
      ]);
      const [ok, evicted] = Array.isArray(reply) ? reply : [];
      return Number(ok) === 1
        ? { ok: true, evicted: strings(evicted) }
        : { ok: false, evicted: [] };
    },

    listUser,

    async list(query: ListQuery, now: number): Promise<ListResult> {
      const offset = query.offset ?? 0;
      if (query.userId !== undefined) {
        const all = await listUser(query.userId, now);
        return { sessions: all.slice(offset, offset + query.limit), total: all.length };
      }
      const reply = await run(LIST, `${base}a`, now, [String(offset), String(query.limit)]);
      const [total, flat] = Array.isArray(reply) ? reply : [];
      return { sessions: records(flat), total: Number(total) };
    },

    async stats(now: number): Promise<StoreStats> {
      const reply = await run(STATS, `${base}st`, now, []);
      const [active, countersFlat, subtractFlat] = Array.isArray(reply) ? reply : [];
      const counts = new Map<string, number>();
      const c = strings(countersFlat);
      for (let j = 0; j + 1 < c.length; j += 2) counts.set(c[j]!, Number(c[j + 1]));
      const s = strings(subtractFlat);
      for (let j = 0; j + 1 < s.length; j += 2)
        counts.set(s[j]!, (counts.get(s[j]!) ?? 0) - Number(s[j + 1]));
      const stats: StoreStats = {
        activeSessions: Number(active),
        distinctUsers: Math.max(0, counts.get('users') ?? 0),
        anonymousSessions: Math.max(0, counts.get('anon') ?? 0),
        byBrowser: {},
        byOs: {},
        byDeviceType: {},
      };
      const groups = { 'b:': stats.byBrowser, 'o:': stats.byOs, 't:': stats.byDeviceType };
      for (const [field, n] of counts) {
        const group = groups[field.slice(0, 2) as keyof typeof groups];
        if (group && n > 0) group[field.slice(2)] = n;
      }
      return stats;
    },

    async cleanup(now: number): Promise<number> {
      let removed = 0;
      for (;;) {
        const n = Number(await run(CLEANUP, `${base}e`, now, [String(batch)]));
        removed += n;
        if (n < batch) return removed;
      }
    },

    async health(): Promise<HealthReport> {
      try {
        const client = await conn.next();
        const latencyMs = await client.ping(`${base}e`);
        return { ok: true, store: REDIS_STORE_NAME, latencyMs };
      } catch (err) {
        logger.debug({ store: REDIS_STORE_NAME, err: describeError(err) }, 'health check failed');
        return {
          ok: false,
          store: REDIS_STORE_NAME,
          detail: err instanceof Error ? err.message : String(err),
        };
      }
    },

    close: () => conn.close(),
  };
}

export interface RedisRateLimitStoreOptions
  extends Omit<RedisStoreOptions, 'ttlGrace' | 'cleanupBatchSize'> {
  /** Namespace of the counters' keys (`<prefix>rl:<key>`). @default "tessera:" */
  prefix?: string;
}

/** Fixed-window counters in Redis: one script per hit (increment, open the window, set the TTL). */
export function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions = {},
): RateLimitStore {
  const logger = options.logger ?? silentLogger;
  const prefix = prefixOption(options.prefix);
  const { conn } = connect(options, logger);
  const key = (k: string) => `${prefix}rl:${k}`;
  return {
    name: REDIS_STORE_NAME,
    async hit(k: string, windowMs: number, now: number): Promise<RateLimitState> {
      const client = await conn.next();
      const reply = await client.run(RATE_HIT, [key(k)], [String(now), String(windowMs)]);
      const [count, resetAt] = strings(reply);
      return { count: Number(count), resetAt: Number(resetAt) };
    },
    async peek(k: string, now: number): Promise<RateLimitState | null> {
      const client = await conn.next();
      const [count, resetAt] = strings(await client.command(['HMGET', key(k), 'c', 'r'], key(k)));
      const state = { count: Number(count), resetAt: Number(resetAt) };
      if (!Number.isFinite(state.count) || !Number.isFinite(state.resetAt) || state.resetAt <= now)
        return null;
      return state;
    },
    async reset(k: string): Promise<void> {
      const client = await conn.next();
      await client.command(['DEL', key(k)], key(k));
    },
    close: () => conn.close(),
  };
}
