/**
 * The hybrid store: a cache (any SessionStore: Redis, Memcached, memory) in front of the SQL store.
 * The database holds the truth and the audit trail; the cache only saves database reads.
 *
 * - Reads go to the cache first. On a miss (a flushed or restarted cache included) they read
 *   through from the database and refill the cache, so a cache outage logs nobody out.
 * - Every state change (create, patch, destroy, regenerate, limit evictions) is written to the
 *   database first, and a failure reaches the caller. The cache entry is then invalidated, never
 *   overwritten: the next read refills it from the truth.
 * - A refill is checked against the database after it is written: if the row changed or ended
 *   meanwhile, the entry is invalidated again. Any write racing the refill either lands before
 *   that check (the check sees it) or invalidates after the refill, so the cache cannot keep a
 *   terminated or outdated session.
 * - Touches are written to the database in the same call, or, with `writeBehind`, coalesced per
 *   session in a bounded queue and flushed on a timer; when the queue is full a touch is dropped,
 *   counted and logged (the cost: the database's idle expiry lags that session's activity).
 * - Listing, stats, the audit trail and the capabilities are the database's.
 */
import { StoreUnavailableError } from '../core/errors.js';
import { describeError, type Logger, silentLogger } from '../core/logger.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type {
  HealthReport,
  LookupResult,
  SessionStore,
  StoreCapabilities,
  TerminationReason,
  TouchPolicy,
} from '../core/types.js';
import { durationOption, positiveInteger } from './options.js';

export const HYBRID_STORE_NAME = 'hybrid';

/** The hybrid store's defaults: each option's `@default` names its entry here. */
export const HYBRID_DEFAULTS = {
  writeBehind: false,
  maxQueue: 10_000,
  flushInterval: 1000,
  concurrency: 16,
  maxSuspects: 10_000,
  cacheRetryDelay: 1000,
} as const;

export interface WriteBehindOptions {
  /** Most distinct sessions with a pending touch; past it new touches are dropped and counted. @default HYBRID_DEFAULTS.maxQueue */
  maxQueue?: number;
  /** How often pending touches are written to the database (ms or a string like `"1s"`). @default HYBRID_DEFAULTS.flushInterval */
  flushInterval?: number | string;
  /** Touches written to the database at once while flushing. @default HYBRID_DEFAULTS.concurrency */
  concurrency?: number;
}

export interface HybridStoreOptions {
  /** The cache: any session store. The hybrid store closes it on `close()`. */
  cache: SessionStore;
  /** The database holding the truth and the audit trail (the SQL store). Closed on `close()`. */
  database: SessionStore;
  /** Where cache failures and dropped touches are reported. @default silent */
  logger?: Logger;
  /** Write touches behind in a bounded queue instead of in the validating call. @default HYBRID_DEFAULTS.writeBehind */
  writeBehind?: boolean | WriteBehindOptions;
  /** Ids whose cache invalidation failed, served from the database until it succeeds. @default HYBRID_DEFAULTS.maxSuspects */
  maxSuspects?: number;
  /**
   * After the cache fails as unreachable (`StoreUnavailableError`), calls skip it for this long and
   * go straight to the database; then calls try the cache again, and the next failure starts a new
   * window. Without it every request would wait out the cache's timeout while the cache is down.
   * @default HYBRID_DEFAULTS.cacheRetryDelay
   */
  cacheRetryDelay?: number | string;
}

/** The hybrid store's option keys, and those of `writeBehind: { … }`. */
export const HYBRID_KNOWN_KEYS = {
  cache: true,
  database: true,
  logger: true,
  writeBehind: true,
  maxSuspects: true,
  cacheRetryDelay: true,
} as const satisfies KnownKeys<HybridStoreOptions>;
export const WRITE_BEHIND_KNOWN_KEYS = {
  maxQueue: true,
  flushInterval: true,
  concurrency: true,
} as const satisfies KnownKeys<WriteBehindOptions>;

export interface WriteBehindStats {
  queued: number;
  written: number;
  dropped: number;
  failed: number;
}

export interface HybridStore extends SessionStore {
  readonly cache: SessionStore;
  readonly database: SessionStore;
  /** Counters of the touch queue (all zero without `writeBehind`). */
  writeBehindStats(): WriteBehindStats;
  /** Writes every pending touch now. */
  flush(): Promise<void>;
}

export function createHybridStore(options: HybridStoreOptions): HybridStore {
  rejectUnknownKeys('createHybridStore()', options, HYBRID_KNOWN_KEYS);
  rejectUnknownKeys(
    'createHybridStore()',
    options?.writeBehind,
    WRITE_BEHIND_KNOWN_KEYS,
    'writeBehind',
  );
  const { cache, database } = options;
  const logger = options.logger ?? silentLogger;
  const defaults = HYBRID_DEFAULTS;
  const writeBehind = options.writeBehind ?? defaults.writeBehind;
  const wb = writeBehind === true ? {} : writeBehind === false ? undefined : writeBehind;
  const maxQueue = positiveInteger('writeBehind.maxQueue', wb?.maxQueue ?? defaults.maxQueue);
  const flushInterval = durationOption(
    'writeBehind.flushInterval',
    wb?.flushInterval ?? defaults.flushInterval,
  );
  const concurrency = positiveInteger(
    'writeBehind.concurrency',
    wb?.concurrency ?? defaults.concurrency,
  );
  const maxSuspects = positiveInteger('maxSuspects', options.maxSuspects ?? defaults.maxSuspects);
  const cacheRetryDelay = durationOption(
    'cacheRetryDelay',
    options.cacheRetryDelay ?? defaults.cacheRetryDelay,
  );
  // Wall-clock (monotonic) time until which the cache is taken as down; not the sessions' `now`.
  let cacheDownUntil = 0;
  const cacheUp = () => performance.now() >= cacheDownUntil;

  const capabilities: StoreCapabilities = { ...database.capabilities };

  // Ids whose invalidation failed: the cache may hold a stale copy, so skip it for them.
  const suspects = new Set<string>();
  const pending = new Map<string, { now: number; policy: TouchPolicy }>();
  const counters: WriteBehindStats = { queued: 0, written: 0, dropped: 0, failed: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  let flushing: Promise<void> | undefined;

  function cacheFailed(operation: string, id: string | undefined, err: unknown): void {
    if (err instanceof StoreUnavailableError) {
      if (!cacheUp()) return; // already known down: one log line per retry window
      cacheDownUntil = performance.now() + cacheRetryDelay;
    }
    logger.warn(
      {
        store: HYBRID_STORE_NAME,
        cache: cache.name,
        operation,
        sessionId: id,
        err: describeError(err),
      },
      'tessera: hybrid cache operation failed; the database answers instead',
    );
  }

  /** Drops the cache's copy. A failure marks the id suspect (reads skip the cache) and is retried. */
  async function invalidate(id: string, now: number): Promise<void> {
    if (!cacheUp()) return suspect(id);
    try {
      await cache.destroy(id, 'admin', now);
      suspects.delete(id);
    } catch (err) {
      cacheFailed('invalidate', id, err);
      suspect(id);
    }
  }

  /** Remembers that the cache may hold a stale copy of `id`: reads skip the cache for it. */
  function suspect(id: string): void {
    if (suspects.has(id)) return;
    if (suspects.size >= maxSuspects) {
      // Out of room to remember: forget the oldest; logged so an operator sees the cache is down.
      const oldest = suspects.values().next().value;
      if (oldest !== undefined) suspects.delete(oldest);
      logger.error(
        { store: HYBRID_STORE_NAME, maxSuspects },
        'tessera: hybrid cache unreachable for too many invalidations',
      );
    }
    suspects.add(id);
  }

  /** Reads the truth; on a hit refills the cache and checks the refill against the database. */
  async function readThrough(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
    const found = await database.get(id, now, touch);
    if (!found.record || suspects.has(id) || !cacheUp()) return found;
    try {
      await cache.create(found.record, { maxSessionsPerUser: null, now });
    } catch (err) {
      cacheFailed('refill', id, err);
      await invalidate(id, now); // a half-written refill must not stay
      return found;
    }
    try {
      const check = await database.get(id, now);
      if (!check.record || check.record.version !== found.record.version) await invalidate(id, now);
    } catch (err) {
      // Cannot prove the refill current: drop it rather than risk a stale entry.
      await invalidate(id, now);
      logger.warn(
        { store: HYBRID_STORE_NAME, sessionId: id, err: describeError(err) },
        'tessera: hybrid refill check failed',
      );
    }
    return found;
  }

  function enqueueTouch(id: string, now: number, policy: TouchPolicy): void {
    const queued = pending.get(id);
    if (queued) {
      if (now > queued.now) pending.set(id, { now, policy });
      return;
    }
    if (pending.size >= maxQueue) {
      counters.dropped++;
      // Logged on the first drop and then every 1000th, so a flood does not flood the log too.
      if (counters.dropped % 1000 === 1)
        logger.warn(
          { store: HYBRID_STORE_NAME, dropped: counters.dropped, maxQueue },
          'tessera: hybrid write-behind queue full; touches dropped',
        );
      return;
    }
    pending.set(id, { now, policy });
    counters.queued++;
  }

  async function flushOnce(): Promise<void> {
    const batch = [...pending];
    pending.clear();
    for (let i = 0; i < batch.length; i += concurrency) {
      await Promise.all(
        batch.slice(i, i + concurrency).map(async ([id, { now, policy }]) => {
          try {
            const result = await database.get(id, now, policy);
            counters.written++;
            if (!result.record) await invalidate(id, now);
          } catch (err) {
            counters.failed++;
            logger.warn(
              { store: HYBRID_STORE_NAME, sessionId: id, err: describeError(err) },
              'tessera: hybrid write-behind touch failed',
            );
          }
        }),
      );
    }
  }

  function flush(): Promise<void> {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  if (wb) {
    timer = setInterval(() => void flush(), flushInterval);
    timer.unref?.();
  }

  return {
    name: HYBRID_STORE_NAME,
    capabilities,
    cache,
    database,
    writeBehindStats: () => ({ ...counters, queued: pending.size }),
    flush,

    async create(record, createOptions) {
      const result = await database.create(record, createOptions);
      // The id itself too: a create replaces whatever it held, and the cache may hold that.
      await Promise.all(
        [record.id, ...result.evicted].map((id) => invalidate(id, createOptions.now)),
      );
      return result;
    },

    async get(id, now, touch) {
      if (!cacheUp()) return database.get(id, now, touch);
      if (suspects.has(id)) {
        await invalidate(id, now); // retry; the database answers either way
        return database.get(id, now, touch);
      }
      let cached: LookupResult;
      try {
        cached = await cache.get(id, now, touch);
      } catch (err) {
        cacheFailed('get', id, err);
        return database.get(id, now, touch);
      }
      if (!cached.record) return readThrough(id, now, touch);
      if (!cached.touched || !touch) return cached;
      if (wb) {
        enqueueTouch(id, now, touch);
        return cached;
      }
      // A due touch goes to the database in the same call, and doubles as a check of the truth.
      const truth = await database.get(id, now, touch);
      if (!truth.record) await invalidate(id, now);
      return truth.record ? { record: truth.record, touched: true } : truth;
    },

    async patch(id, patch, now) {
      const updated = await database.patch(id, patch, now);
      await invalidate(id, now);
      return updated;
    },

    async destroy(id: string, reason: TerminationReason, now: number) {
      const ended = await database.destroy(id, reason, now);
      pending.delete(id);
      await invalidate(id, now);
      return ended;
    },

    async destroyUser(userId, destroyOptions) {
      const ended = await database.destroyUser(userId, destroyOptions);
      await Promise.all(ended.map((id) => invalidate(id, destroyOptions.now)));
      return ended;
    },

    async regenerate(oldId, record, createOptions) {
      const result = await database.regenerate(oldId, record, createOptions);
      if (result.ok) {
        pending.delete(oldId);
        await Promise.all(
          [oldId, ...result.evicted].map((id) => invalidate(id, createOptions.now)),
        );
      }
      return result;
    },

    listUser: (userId, now) => database.listUser(userId, now),
    ...(database.list && { list: database.list.bind(database) }),
    ...(database.listTerminated && { listTerminated: database.listTerminated.bind(database) }),
    ...(database.stats && { stats: database.stats.bind(database) }),

    async cleanup(now) {
      const removed = await database.cleanup(now);
      try {
        await cache.cleanup(now);
      } catch (err) {
        cacheFailed('cleanup', undefined, err);
      }
      return removed;
    },

    async health(): Promise<HealthReport> {
      const [db, c] = await Promise.all([
        database.health(),
        cache
          .health()
          .catch((err): HealthReport => ({ ok: false, store: cache.name, detail: String(err) })),
      ]);
      // The database is the truth: with it up the store works (slower while the cache is down).
      return {
        ok: db.ok,
        store: HYBRID_STORE_NAME,
        latencyMs: db.latencyMs,
        detail: `database ${db.store}: ${db.ok ? 'ok' : `down (${db.detail ?? ''})`}; cache ${c.store}: ${c.ok ? 'ok' : `down (${c.detail ?? ''})`}`,
      };
    },

    async close() {
      if (timer) clearInterval(timer);
      await flush().catch(() => {});
      await Promise.allSettled([cache.close(), database.close()]);
    },
  };
}
