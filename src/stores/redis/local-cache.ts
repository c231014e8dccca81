/**
 * The Redis store's local cache: session values kept in process memory, bounded by entries and by
 * bytes, each entry living at most `maxAge`. It holds no connection: the tracking layer
 * (./tracking.ts) tells it what Redis invalidated (`invalidate`), when the tracking connection
 * dropped (`connectionLost`), and the store tells it which keys its own writes changed.
 *
 * Exactness rests on two rules. A read is registered before it is sent (`begin`), and any
 * invalidation of its key, or any flush, between then and its reply makes the reply unfit to keep
 * (`fill` refuses it): so a reply that raced a write is never cached. And after the tracking
 * connection drops the cache is emptied and stays off (no hit, no fill) until a read begun after
 * the drop has come back, which proves the connection was re-established with tracking on (node-
 * redis turns tracking on in its handshake, before any queued command).
 */
import { ConfigError, shownValue } from '../../core/errors.js';
import { durationOption, positiveInteger } from '../options.js';

/** The local cache's defaults: each option's `@default` names its entry here. */
export const LOCAL_CACHE_DEFAULTS = {
  maxEntries: 10_000,
  /** 32 MiB. */
  maxBytes: 33_554_432,
  /** Five seconds: the backstop should an invalidation ever be lost. */
  maxAge: 5_000,
} as const;

/** Bounds of the Redis store's local cache (`RedisStoreOptions.localCache`). */
export interface LocalCacheOptions {
  /** Sessions kept at most; the least recently read is dropped first. @default LOCAL_CACHE_DEFAULTS.maxEntries */
  maxEntries?: number;
  /**
   * Approximate memory kept at most, in bytes (two per character of each key and value, plus a
   * fixed overhead per entry); the least recently read is dropped first. @default LOCAL_CACHE_DEFAULTS.maxBytes
   */
  maxBytes?: number;
  /**
   * The longest an entry is served (ms or a string like `"10s"`) even if no invalidation came: the
   * bound on staleness should an invalidation ever be lost without the connection dropping.
   * @default LOCAL_CACHE_DEFAULTS.maxAge
   */
  maxAge?: number | string;
}

export interface ResolvedLocalCacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxAge: number;
}

/** What the local cache has done since the store was created (for `stats()` and dashboards). */
export interface LocalCacheStats {
  /**
   * False until the tracking connection first answered, and from a drop of it until a read proves
   * tracking is back; meanwhile reads go through the store's other connection, uncached.
   */
  enabled: boolean;
  entries: number;
  bytes: number;
  /** Reads answered from memory. */
  hits: number;
  /** Reads that went to Redis (cache off, key absent, or entry past `maxAge`). */
  misses: number;
  /** Entries dropped because Redis or one of the store's own writes said the key changed. */
  invalidations: number;
  /** Entries dropped to stay within `maxEntries` / `maxBytes`. */
  evictions: number;
  /** Entries dropped because they reached `maxAge`. */
  expirations: number;
  /** Times the whole cache was emptied (tracking connection lost, or Redis flushed everything). */
  flushes: number;
}

/** Validates `localCache`; `false` turns the cache off. */
export function localCacheOption(value: unknown): ResolvedLocalCacheOptions | false {
  if (value === false) return false;
  const given = value === true || value === undefined ? {} : value;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new ConfigError(
      'redis.localCache',
      `must be false, true or { maxEntries, maxBytes, maxAge }, got ${shownValue(value)}`,
    );
  const o = given as LocalCacheOptions;
  for (const key of Object.keys(o))
    if (!(key in LOCAL_CACHE_DEFAULTS))
      throw new ConfigError(
        `redis.localCache.${key}`,
        'is not an option (maxEntries, maxBytes, maxAge)',
      );
  return {
    maxEntries: positiveInteger(
      'redis.localCache.maxEntries',
      o.maxEntries ?? LOCAL_CACHE_DEFAULTS.maxEntries,
    ),
    maxBytes: positiveInteger(
      'redis.localCache.maxBytes',
      o.maxBytes ?? LOCAL_CACHE_DEFAULTS.maxBytes,
    ),
    maxAge: durationOption('redis.localCache.maxAge', o.maxAge ?? LOCAL_CACHE_DEFAULTS.maxAge),
  };
}

/** Fixed cost counted per entry besides its strings (map slot, entry object). */
const ENTRY_OVERHEAD = 100;

/** Approximate bytes an entry holds in memory (UTF-16: two per character). */
export function entryBytes(key: string, value: string): number {
  return ENTRY_OVERHEAD + 2 * (key.length + value.length);
}

interface Entry {
  value: string;
  bytes: number;
  storedAt: number;
}

/** A read registered before it is sent; `fill` keeps its reply only if nothing changed since. */
export interface ReadTicket {
  readonly key: string;
  readonly generation: number;
  readonly version: number;
}

export class LocalCache {
  readonly #options: ResolvedLocalCacheOptions;
  readonly #clock: () => number;
  // Map order is recency order: a hit moves its entry to the end, eviction takes from the front.
  readonly #entries = new Map<string, Entry>();
  // Reads in flight per key, and a version bumped by every invalidation of that key meanwhile.
  readonly #inflight = new Map<string, { count: number; version: number }>();
  #bytes = 0;
  // Bumped by every flush: a reply to a read begun before it is never kept.
  #generation = 0;
  // Off from a drop of the tracking connection until a read begun after it comes back; off at
  // first too, until the tracking connection has answered once.
  #off = true;
  #hits = 0;
  #misses = 0;
  #invalidations = 0;
  #evictions = 0;
  #expirations = 0;
  #flushes = 0;

  constructor(options: ResolvedLocalCacheOptions, clock: () => number = () => performance.now()) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Whether `key` has an entry that `lookup` would serve now (counts nothing, moves nothing). */
  has(key: string): boolean {
    const entry = this.#off ? undefined : this.#entries.get(key);
    return entry !== undefined && this.#clock() - entry.storedAt < this.#options.maxAge;
  }

  /** The cached value of `key`, or undefined (a miss: read Redis, between `begin` and `fill`). */
  lookup(key: string): string | undefined {
    const entry = this.#off ? undefined : this.#entries.get(key);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    if (this.#clock() - entry.storedAt >= this.#options.maxAge) {
      this.#drop(key, entry);
      this.#expirations++;
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#hits++;
    return entry.value;
  }

  /** Registers a read of `key` about to be sent. Pair with exactly one `fill` or `abandon`. */
  begin(key: string): ReadTicket {
    let slot = this.#inflight.get(key);
    if (slot === undefined) {
      slot = { count: 0, version: 0 };
      this.#inflight.set(key, slot);
    }
    slot.count++;
    return { key, generation: this.#generation, version: slot.version };
  }

  /**
   * The reply to the read of `ticket` came back: keep it if no invalidation or flush came in
   * between (`value` null: the key does not exist, nothing to keep). A reply to a read begun after
   * a drop proves tracking is back and turns the cache on again.
   */
  fill(ticket: ReadTicket, value: string | null): void {
    const slot = this.#release(ticket);
    // Begun before the last flush: the reply may predate an invalidation that flush stood for.
    if (ticket.generation !== this.#generation) return;
    this.#off = false;
    if (value === null || slot.version !== ticket.version) return;
    const bytes = entryBytes(ticket.key, value);
    if (bytes > this.#options.maxBytes) return;
    const old = this.#entries.get(ticket.key);
    if (old !== undefined) this.#drop(ticket.key, old);
    this.#entries.set(ticket.key, { value, bytes, storedAt: this.#clock() });
    this.#bytes += bytes;
    this.#evictOverflow();
  }

  /** The read of `ticket` failed: nothing to keep. */
  abandon(ticket: ReadTicket): void {
    this.#release(ticket);
  }

  /** `key` changed (Redis said so, or one of this process's writes did): drop it at once. */
  invalidate(key: string): void {
    const slot = this.#inflight.get(key);
    if (slot !== undefined) slot.version++;
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#drop(key, entry);
    this.#invalidations++;
  }

  /** Redis asked to drop everything (FLUSHALL, or tracking memory full): empty the cache. */
  flush(): void {
    this.#generation++;
    this.#flushes++;
    this.#entries.clear();
    this.#bytes = 0;
    // In-flight reads are refused by the generation; their slots stay until they are released.
  }

  /** The tracking connection dropped: empty the cache and keep it off until tracking is back. */
  connectionLost(): void {
    this.flush();
    this.#off = true;
  }

  /** Whether the tracking connection is known to be up (false: read elsewhere, and probe it). */
  get enabled(): boolean {
    return !this.#off;
  }

  stats(): LocalCacheStats {
    return {
      enabled: !this.#off,
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.#hits,
      misses: this.#misses,
      invalidations: this.#invalidations,
      evictions: this.#evictions,
      expirations: this.#expirations,
      flushes: this.#flushes,
    };
  }

  #release(ticket: ReadTicket): { count: number; version: number } {
    const slot = this.#inflight.get(ticket.key) ?? { count: 1, version: ticket.version };
    if (--slot.count <= 0) this.#inflight.delete(ticket.key);
    return slot;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #evictOverflow(): void {
    const { maxEntries, maxBytes } = this.#options;
    while (this.#entries.size > maxEntries || this.#bytes > maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) return;
      this.#drop(oldest.value[0], oldest.value[1]);
      this.#evictions++;
    }
  }
}
