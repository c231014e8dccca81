/**
 * The Redis store (`tessera-session/redis`): each session one string value (./record-value.ts)
 * read with one plain `GET`, written by Lua scripts (one round trip, atomic) that keep a per-user
 * index, an expiry index, an activity index and counters per bucket (./scripts.ts). Works on
 * standalone Redis, Sentinel and Cluster (where the buckets spread sessions over the masters:
 * ./buckets.ts), with a client it creates from a `RedisConfig` or one the caller already holds
 * (node-redis or ioredis). Walks over every bucket are in ./bucket-walks.ts; the fixed-window
 * `RateLimitStore` is in ./rate-limit.ts.
 */
import { ConfigError, DataTooLargeError, StoreUnavailableError } from '../../core/errors.js';
import { describeError, silentLogger } from '../../core/logger.js';
import { byRecentActivity } from '../../core/record.js';
import { rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  CreateOptions,
  CreateResult,
  HealthReport,
  ListQuery,
  ListResult,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
} from '../../core/types.js';
import { durationOption, positiveInteger, retentionOption } from '../options.js';
import { AGE_SAMPLE, ANALYTICS } from './analytics.js';
import { bucketWalks } from './bucket-walks.js';
import { bucketOfId, bucketOfUser, bucketTags, idMember } from './buckets.js';
import { REDIS_STORE_NAME, type ScriptClient } from './client.js';
import { connect, isClusterClient } from './connection.js';
import { layoutCheck } from './layout-check.js';
import { type LocalCacheStats, localCacheOption } from './local-cache.js';
import {
  prefixOption,
  REDIS_DEFAULTS,
  REDIS_KNOWN_KEYS,
  type RedisStoreOptions,
} from './options.js';
import { dataMember, encodeRecord, encodeString } from './record-value.js';
import { destroyReply, idsOf, lookupReply, recordsReply } from './replies.js';
import {
  CLAIM,
  CREATE,
  DESTROY,
  DESTROY_USER,
  LIST,
  LIST_USER,
  type LuaScript,
  PATCH,
  REGENERATE,
  STATS,
  TOUCH,
} from './scripts.js';
import { serverStats } from './server-info.js';
import { readSession, sessionLookup } from './session-read.js';
import { cachedReads, trackingSupported } from './tracking.js';

export { REDIS_STORE_NAME, type RedisClientKind } from './client.js';
export {
  LOCAL_CACHE_DEFAULTS,
  type LocalCacheOptions,
  type LocalCacheStats,
} from './local-cache.js';
export {
  DEFAULT_CLIENT_LIBRARY,
  REDIS_DEFAULTS,
  type RedisClientLike,
  type RedisStoreOptions,
} from './options.js';
export { createRedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit.js';

/** The Redis store: the `SessionStore` contract, and what its local cache has done. */
export interface RedisSessionStore extends SessionStore {
  /** Counters and size of the local cache (`localCache` option), or null when it is off. */
  localCacheStats(): LocalCacheStats | null;
}

const READ_ONLY: ReadonlySet<LuaScript> = new Set([LIST, LIST_USER, STATS, ANALYTICS]);

function nonNegativeInteger(field: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0)
    throw new ConfigError(field, `must be an integer 0 or more, got ${String(value)}`);
  return value as number;
}

export function createRedisStore(options: RedisStoreOptions = {}): RedisSessionStore {
  rejectUnknownKeys('createRedisStore()', options, REDIS_KNOWN_KEYS);
  const logger = options.logger ?? silentLogger;
  const prefix = prefixOption(options.prefix ?? REDIS_DEFAULTS.prefix);
  const grace = retentionOption('redis.ttlGrace', options.ttlGrace ?? REDIS_DEFAULTS.ttlGrace);
  const batch = positiveInteger(
    'redis.cleanupBatchSize',
    options.cleanupBatchSize ?? REDIS_DEFAULTS.cleanupBatchSize,
  );
  const cluster = options.client !== undefined && isClusterClient(options.client);
  const buckets = positiveInteger(
    'redis.buckets',
    options.buckets ?? (cluster ? REDIS_DEFAULTS.clusterBuckets : REDIS_DEFAULTS.buckets),
  );
  const tags = bucketTags(prefix, buckets);
  const waitReplicas = nonNegativeInteger(
    'redis.waitReplicas',
    options.waitReplicas ?? REDIS_DEFAULTS.waitReplicas,
  );
  const waitTimeout = durationOption(
    'redis.waitTimeout',
    options.waitTimeout ?? REDIS_DEFAULTS.waitTimeout,
  );
  if (waitReplicas > 0 && (options.client as { isCluster?: unknown } | undefined)?.isCluster)
    throw new ConfigError(
      'redis.waitReplicas',
      'needs a node-redis client on a Cluster (createCluster): an ioredis Cluster may send WAIT to another node than the one written',
    );
  // Every option is checked before a connection is opened: a refused one leaves none behind.
  const cacheBounds = localCacheOption(options.localCache ?? REDIS_DEFAULTS.localCache);
  const { conn, timeout, retryDelay, source } = connect(options, logger);
  let tracked = false;
  try {
    tracked = cacheBounds !== false && trackingSupported(source, options.localCache !== undefined);
  } catch (err) {
    void conn.close();
    throw err;
  }
  const reads =
    cacheBounds && tracked
      ? cachedReads(
          async () =>
            source.kind === 'client' ? source.client : ((await conn.next()).nodeRedis ?? {}),
          cacheBounds,
          timeout,
          retryDelay,
          logger,
        )
      : null;
  const checkLayout = layoutCheck(prefix, buckets);

  async function client(): Promise<ScriptClient> {
    const c = await conn.next();
    await checkLayout(c);
    return c;
  }

  const tagOf = (id: string) => tags[bucketOfId(id, buckets)]!;
  const keyOf = (id: string) => `${tagOf(id)}s:${idMember(id)}`;

  async function run(script: LuaScript, tag: string, now: number, args: string[]) {
    const c = await client();
    // Keys a script touches are built from the tag (one slot); the declared one routes it.
    const route = `${tag}e`;
    const reply = await c.run(script, [route], [tag, String(now), String(grace), ...args]);
    // With local caches about, a write answers only after one more round trip on its connection:
    // without it, the invalidations a script's writes cause were seen to reach other processes'
    // tracking connections tens of ms after the script's reply (Redis 7.0, a loaded machine), so a
    // request sent after a logout could still be answered from another process's copy
    // (test/reliability/redis-termination.test.ts failed about 1 round in 70). After the PING
    // the invalidations have been written out.
    if (reads && !READ_ONLY.has(script)) await c.ping(route);
    if (waitReplicas > 0 && !READ_ONLY.has(script)) {
      const acknowledged = await c.wait(route, waitReplicas, waitTimeout);
      if (acknowledged < waitReplicas)
        throw new StoreUnavailableError(
          REDIS_STORE_NAME,
          c.address,
          `the write reached ${acknowledged} of ${waitReplicas} replicas within ${waitTimeout} ms (waitReplicas): a failover may lose it`,
        );
    }
    return reply;
  }

  /**
   * Every write reports here the ids whose stored value it may have changed (written, ended,
   * evicted): the one place a client-side cache of session reads drops its copies.
   */
  const onWritten: ((keys: string[]) => void)[] = reads ? [(keys) => reads.written(keys)] : [];
  function wrote(ids: string[]): void {
    if (onWritten.length === 0 || ids.length === 0) return;
    const keys = ids.map(keyOf);
    for (const fn of onWritten) fn(keys);
  }

  function corrupted(id: string): void {
    logger.warn(
      { store: REDIS_STORE_NAME, sessionId: id },
      'corrupted session record in Redis ignored (treated as no session)',
    );
  }

  const lookup = (id: string, reply: unknown) => lookupReply(id, reply, corrupted);
  const limitArg = (o: CreateOptions) =>
    o.maxSessionsPerUser === null ? '' : String(o.maxSessionsPerUser);
  let warnedNoSample = false;
  function noAnalytics(why: 'no_sample' | Error): void {
    if (why === 'no_sample') {
      // Once per store: a dashboard polling stats() would repeat it every few seconds.
      if (warnedNoSample) return;
      warnedNoSample = true;
      logger.warn(
        { store: REDIS_STORE_NAME },
        `stats() leaves sessionAge out: past ${AGE_SAMPLE} live sessions the ages are a sample, and this Redis server has no ZRANDMEMBER (Redis 6.2 or later)`,
      );
    } else
      logger.warn(
        { store: REDIS_STORE_NAME, err: describeError(why) },
        'stats() leaves the session analytics out',
      );
  }
  const walks = bucketWalks({ tags, batch, run, corrupted, noAnalytics });

  async function create(record: SessionRecord, options: CreateOptions): Promise<CreateResult> {
    const reply = await run(CREATE, tagOf(record.id), options.now, [
      limitArg(options),
      idMember(record.id),
      encodeRecord(record),
    ]);
    const evicted = idsOf(reply);
    wrote([record.id, ...evicted]);
    return { evicted };
  }

  async function listUser(userId: string, now: number): Promise<SessionRecord[]> {
    const replies = await Promise.all(
      tags.map((tag) => run(LIST_USER, tag, now, [encodeString(userId)])),
    );
    return replies.flatMap((r) => recordsReply(r, corrupted)).sort(byRecentActivity);
  }

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  const get = sessionLookup({
    read: async (key) => {
      const c = await client();
      return reads ? reads.read(key, () => readSession(c, key)) : readSession(c, key);
    },
    keyOf,
    corrupted,
    touch: async (id, now, touch) => {
      const reply = await run(TOUCH, tagOf(id), now, [
        idMember(id),
        String(touch.touchAfter),
        String(touch.idleTimeout),
        touch.setWindow ? '1' : '0',
      ]);
      wrote([id]);
      return lookup(id, reply);
    },
  });

  const store: RedisSessionStore = {
    name: REDIS_STORE_NAME,
    capabilities,
    create,

    get,

    async patch(id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
      const set: string[] = [];
      for (const [key, value] of Object.entries(patch.set ?? {})) {
        if (dataMember(key, value) !== undefined)
          set.push(JSON.stringify(key), JSON.stringify(value));
      }
      const unset = (patch.unset ?? []).map((key) => JSON.stringify(key));
      const reply = await run(PATCH, tagOf(id), now, [
        idMember(id),
        patch.csrf === undefined ? '0' : '1',
        encodeString(patch.csrf ?? null),
        patch.userId === undefined ? '0' : '1',
        patch.userId === undefined ? '' : encodeString(patch.userId),
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
      wrote([id]);
      return lookup(id, reply).record;
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      const reply = await run(DESTROY, tagOf(id), now, [idMember(id)]);
      wrote([id]);
      return destroyReply(reply);
    },

    async destroyUser(userId, { exceptId, now }): Promise<string[]> {
      // The user's sessions are in the home bucket when the manager made them; a caller's own ids
      // (the express-session store) may be anywhere, so every bucket is asked.
      const except = exceptId === undefined ? '' : idMember(exceptId);
      const replies = await Promise.all(
        tags.map((tag) => run(DESTROY_USER, tag, now, [encodeString(userId), except])),
      );
      const ended = replies.flatMap(idsOf);
      wrote(ended);
      return ended;
    },

    async regenerate(oldId, record, options): Promise<RegenerateResult> {
      const [oldTag, newTag] = [tagOf(oldId), tagOf(record.id)];
      if (oldTag !== newTag) {
        // Two slots cannot share a script: the old session is ended first (of concurrent
        // regenerates exactly one wins here), then the new one is created. Nobody holds the new
        // token yet, so only a failure between the two steps is seen: the session is gone.
        const won = Number(await run(CLAIM, oldTag, options.now, [idMember(oldId)])) === 1;
        wrote([oldId]);
        if (!won) return { ok: false, evicted: [] };
        return { ok: true, evicted: (await create(record, options)).evicted };
      }
      const reply = await run(REGENERATE, oldTag, options.now, [
        idMember(oldId),
        limitArg(options),
        idMember(record.id),
        encodeRecord(record),
      ]);
      const [ok, evicted] = Array.isArray(reply) ? reply : [];
      const ended = idsOf(evicted);
      wrote([oldId, record.id, ...ended]);
      return Number(ok) === 1 ? { ok: true, evicted: ended } : { ok: false, evicted: [] };
    },

    listUser,

    async list(query: ListQuery, now: number): Promise<ListResult> {
      const offset = query.offset ?? 0;
      if (query.userId !== undefined) {
        const all = await listUser(query.userId, now);
        return { sessions: all.slice(offset, offset + query.limit), total: all.length };
      }
      return walks.list(offset, query.limit, now);
    },

    async stats(now: number): Promise<StoreStats> {
      const [stats, server] = await Promise.all([
        walks.stats(now),
        client().then((c) => serverStats(c)),
      ]);
      return { ...stats, server };
    },

    async cleanup(now: number): Promise<number> {
      return walks.cleanup(now);
    },

    async health(): Promise<HealthReport> {
      try {
        const latencyMs = await (await conn.next()).ping(`${tags[0]}e`);
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

    localCacheStats: () => reads?.stats() ?? null,

    async close() {
      await Promise.all([conn.close(), reads?.close()]);
    },
  };
  if (buckets > 1)
    store.idFitsUser = (id, userId) => bucketOfId(id, buckets) === bucketOfUser(userId, buckets);
  return store;
}
