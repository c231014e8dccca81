/**
 * The Redis store (`tessera-session/redis`): sessions in Redis hashes with a per-user index, an expiry
 * index and an activity index, each operation one Lua script (one round trip, atomic). Works on
 * standalone Redis, Cluster and Sentinel, with a client it creates from a `RedisConfig` or one the
 * caller already holds (node-redis or ioredis). The fixed-window `RateLimitStore` is in
 * ./rate-limit.ts; options, connections, scripts and reply decoding beside it.
 */
import { DataTooLargeError, StoreUnavailableError } from '../../core/errors.js';
import { describeError, silentLogger } from '../../core/logger.js';
import { byRecentActivity, expiresAt } from '../../core/record.js';
import { rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  CreateOptions,
  CreateResult,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { positiveInteger, retentionOption } from '../options.js';
import { REDIS_STORE_NAME } from './client.js';
import { connect } from './connection.js';
import {
  prefixOption,
  REDIS_DEFAULTS,
  REDIS_KNOWN_KEYS,
  type RedisStoreOptions,
} from './options.js';
import { DATA_FIELD_PREFIX, dataValue, recordFields } from './record-hash.js';
import { destroyReply, lookupReply, recordsReply, strings } from './replies.js';
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
  REGENERATE,
  STATS,
} from './scripts.js';
import { serverStats, sessionAnalytics } from './server-info.js';

export { REDIS_STORE_NAME, type RedisClientKind } from './client.js';
export {
  DEFAULT_CLIENT_LIBRARY,
  REDIS_DEFAULTS,
  type RedisClientLike,
  type RedisStoreOptions,
} from './options.js';
export { createRedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit.js';

export function createRedisStore(options: RedisStoreOptions = {}): SessionStore {
  rejectUnknownKeys('createRedisStore()', options, REDIS_KNOWN_KEYS);
  const logger = options.logger ?? silentLogger;
  const base = `{${prefixOption(options.prefix ?? REDIS_DEFAULTS.prefix)}}`;
  const grace = retentionOption('redis.ttlGrace', options.ttlGrace ?? REDIS_DEFAULTS.ttlGrace);
  const batch = positiveInteger(
    'redis.cleanupBatchSize',
    options.cleanupBatchSize ?? REDIS_DEFAULTS.cleanupBatchSize,
  );
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

  const lookup = (id: string, reply: unknown) => lookupReply(id, reply, corrupted);
  const records = (flat: unknown) => recordsReply(flat, corrupted);

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
      const owner = patch.userId === undefined ? '0' : patch.userId === null ? '1' : '2';
      const reply = await run(PATCH, sKey(id), now, [
        id,
        patch.csrf === undefined ? '0' : '1',
        patch.csrf ?? '',
        owner,
        patch.userId ?? '',
        patch.maxDataBytes === undefined ? '' : String(patch.maxDataBytes),
        patch.replace ? '1' : '0',
        String(set.length / 2),
        String(unset.length),
        ...set,
        ...unset,
      ]);
      const [state, bytes] = Array.isArray(reply) ? reply : [];
      if (state === 'too_large' && patch.maxDataBytes !== undefined)
        throw new DataTooLargeError(Number(bytes), patch.maxDataBytes);
      return lookup(id, reply).record;
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      return destroyReply(await run(DESTROY, sKey(id), now, [id]));
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
      const client = await conn.next();
      const [analytics, server] = await Promise.all([
        // A server without ZRANDMEMBER (before Redis 6.2) still gives the counts.
        sessionAnalytics(client, base, now).catch((err: unknown) => {
          if (err instanceof StoreUnavailableError) throw err;
          logger.warn({ store: REDIS_STORE_NAME, err: describeError(err) }, 'no session analytics');
          return {};
        }),
        serverStats(client, `${base}e`),
      ]);
      return { ...stats, ...analytics, server };
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
