/**
 * The session reads of a Redis store with a local cache: a dedicated node-redis connection in RESP3
 * with `CLIENT TRACKING ON` (node-redis sends it in the handshake of every connection, before any
 * queued command), which performs the `GET` of a cache miss and on which Redis pushes an
 * invalidation for every key that connection read, whoever changes it afterwards (a write from any
 * process, an expiry, an eviction, a flush). Reads, invalidations and connection drops feed the
 * `LocalCache` (./local-cache.ts); the store reports its own writes through `written`.
 *
 * The tracking connection is a `duplicate()` of the store's own node-redis client or of the caller's
 * node-redis client, Cluster or Sentinel (one more connection per server). ioredis speaks
 * only RESP2, so there is no local cache with it (a `ConfigError` when asked for).
 *
 * node-redis's own cache (`clientSideCache`) is not used to hold data: it has no byte bound, clones
 * every hit, and keys entries by command. Its provider interface is used only as the hook through
 * which node-redis hands over the invalidation pushes and the connection events.
 */
import { ConfigError, StoreError, StoreUnavailableError } from '../../core/errors.js';
import { describeError, type Logger } from '../../core/logger.js';
import {
  addressOf,
  isIoRedis,
  isNodeRedis,
  type NodeRedisLike,
  outageGate,
  type ScriptClient,
  wrapNodeRedis,
} from './client.js';
import type { ConnectionSource } from './connection.js';
import { LocalCache, type LocalCacheStats, type ResolvedLocalCacheOptions } from './local-cache.js';
import { errorListener, readyWaiter } from './own-client.js';
import { isWrongType, type SessionRead } from './session-read.js';

/** The session reads through the local cache. */
export interface CachedReads {
  /**
   * The value of session key `key`: from memory when Redis has not said it changed, else a `GET`
   * on the tracking connection, or `untracked()` (a `GET` on the store's other connection, not
   * cached) while the tracking connection is down.
   */
  read(key: string, untracked: () => Promise<SessionRead>): Promise<SessionRead>;
  /** This process changed (or may have changed) these keys: drop their copies at once. */
  written(keys: readonly string[]): void;
  stats(): LocalCacheStats;
  close(): Promise<void>;
}

/**
 * Whether the local cache can run over this source: only with node-redis. `explicit`: the caller
 * asked for it, so ioredis is a `ConfigError`; otherwise (the default) the cache is just off.
 */
export function trackingSupported(source: ConnectionSource, explicit: boolean): boolean {
  const ioredis =
    source.kind === 'config' ? source.library === 'ioredis' : isIoRedis(source.client);
  if (!ioredis) return true;
  if (explicit)
    throw new ConfigError(
      'redis.localCache',
      'needs a node-redis client (RESP3 client tracking); ioredis speaks only RESP2: use clientLibrary "node-redis" or a node-redis client, or set localCache: false',
    );
  return false;
}

/**
 * Three turns of the event loop: every byte the process had already received when a request came
 * in has been handled by then, an invalidation push (read in the first turn) and the end of a
 * killed tracking connection too. The end takes longest: the EOF is read in one turn's poll phase,
 * the socket's shutdown completes in the next one's, and node-redis hears of it only in that
 * turn's close phase, after its check phase; so the third `setImmediate` is the first to run after
 * it. (With two, a request could still be answered from a copy its tracking connection had died
 * holding: an outside test killing the tracking connections every 2 ms saw about one logout in 200
 * served stale on another process.) All hits of one turn share one wait.
 */
let settling: Promise<void> | undefined;
function settle(): Promise<void> {
  settling ??= new Promise((resolve) =>
    setImmediate(() =>
      setImmediate(() =>
        setImmediate(() => {
          settling = undefined;
          resolve();
        }),
      ),
    ),
  );
  return settling;
}

/** node-redis's cache-provider hooks, forwarding what they hear to `cache`. */
async function trackingHooks(cache: LocalCache): Promise<object> {
  const { BasicPooledClientSideCache } = await import('redis');
  type Base = InstanceType<typeof BasicPooledClientSideCache>;
  // The pooled base class is what a Cluster or Sentinel client requires; a plain client takes it too.
  class TrackingHooks extends BasicPooledClientSideCache {
    // Reads use sendCommand, which never comes here; typed commands on this connection pass through.
    override async handleCache(
      ...[, parser, fn, transformReply, typeMapping]: Parameters<Base['handleCache']>
    ) {
      const reply = await fn();
      return transformReply ? transformReply(reply, parser.preserve, typeMapping) : reply;
    }
    override trackingOn() {
      return ['CLIENT', 'TRACKING', 'ON'];
    }
    override invalidate(key: Parameters<Base['invalidate']>[0]) {
      if (key === null) cache.flush();
      else cache.invalidate(key.toString());
    }
    override clear() {
      cache.flush();
    }
    override size() {
      return cache.stats().entries;
    }
    override onError() {
      cache.connectionLost();
    }
    override onClose() {
      cache.connectionLost();
    }
    override onPoolClose() {
      cache.connectionLost();
    }
    // A Cluster disables the cache while it rediscovers its topology; a read proves it is back.
    override disable() {
      cache.connectionLost();
    }
    override enable() {}
  }
  return new TrackingHooks();
}

interface Duplicable extends NodeRedisLike {
  duplicate(overrides: object): NodeRedisLike & {
    connect(): Promise<unknown>;
    on(event: string, listener: (...args: unknown[]) => void): unknown;
    off?(event: string, listener: (...args: unknown[]) => void): unknown;
  };
}

/**
 * The tracking connection: the store's (or the caller's) node-redis client duplicated in RESP3 with
 * the hooks. A duplicate reuses the client's command class; a new client would build it again
 * (tens of ms of CPU).
 */
function duplicateClient(
  client: object,
  hooks: object,
  timeoutMs: number,
  retryDelay: number,
  logger: Logger,
): ScriptClient {
  if (!isNodeRedis(client) || typeof (client as Partial<Duplicable>).duplicate !== 'function')
    throw new StoreError(
      'redis',
      'the client option is neither a node-redis nor an ioredis client',
    );
  const address = addressOf(client);
  const reader = (client as Duplicable).duplicate({ RESP: 3, clientSideCache: hooks });
  const gate = outageGate(address, retryDelay);
  reader.on('error', errorListener(logger, address));
  reader.on('ready', () => gate.open());
  const connected = reader.connect().then(() => {});
  connected.catch(() => {}); // each read that awaits it reports the failure
  const ready =
    reader.isReady === undefined
      ? () => connected
      : readyWaiter(
          () => reader.isReady === true,
          (fn) => {
            reader.on('ready', fn);
            return () => reader.off?.('ready', fn);
          },
        );
  return wrapNodeRedis(reader, `${address} (tracking)`, {
    timeoutMs,
    logger,
    owned: true,
    ready: async () => {
      await connected;
      await ready();
    },
    gate,
  });
}

/** Opens the tracking connection and returns the cached session reads over it. */
export function cachedReads(
  /** The node-redis client to duplicate: the caller's, or one the store created. */
  nodeRedisClient: () => Promise<object>,
  options: ResolvedLocalCacheOptions,
  timeoutMs: number,
  retryDelay: number,
  logger: Logger,
): CachedReads {
  const cache = new LocalCache(options);
  // Opened at the first read, so a store that only writes (or a process that is starting) does
  // not pay for a second connection before it needs it.
  let opened: Promise<ScriptClient> | undefined;
  let closed = false;
  const reader = () => {
    if (closed) return Promise.reject(new StoreError('redis', 'the store is closed'));
    if (opened === undefined) {
      opened = Promise.all([trackingHooks(cache), nodeRedisClient()]).then(([hooks, client]) =>
        duplicateClient(client, hooks, timeoutMs, retryDelay, logger),
      );
      // Reads then stay uncached, through the store's other connection; say why once.
      opened.catch((err: unknown) =>
        logger.warn(
          { store: 'redis', err: describeError(err) },
          'the local cache cannot open its tracking connection: reads are not cached',
        ),
      );
    }
    return opened;
  };

  /**
   * Tracked reads in flight, by key. Requests that miss the same key while its read is in flight
   * wait for that read instead of sending their own (a burst of requests of one session would
   * otherwise all go to Redis), then take the hit path as any later request would: the settle
   * wait drops the copy if an invalidation came behind the reply, and they read for themselves.
   */
  const inflight = new Map<string, Promise<SessionRead>>();

  function trackedGet(key: string): Promise<SessionRead> {
    const read = sendTrackedGet(key).finally(() => {
      if (inflight.get(key) === read) inflight.delete(key);
    });
    inflight.set(key, read);
    return read;
  }

  /** A `GET` on the tracking connection, its reply kept unless an invalidation raced it. */
  async function sendTrackedGet(key: string): Promise<SessionRead> {
    const client = await reader();
    const ticket = cache.begin(key);
    let reply: unknown;
    try {
      reply = await client.command(['GET', key], key);
    } catch (err) {
      cache.abandon(ticket);
      if (isWrongType(err)) return { value: null, corrupt: true };
      throw err;
    }
    const value = reply === null || reply === undefined ? null : String(reply);
    cache.fill(ticket, value);
    return value === null ? { value: null, corrupt: false } : { value };
  }

  // While the tracking connection is down, one read at a time also tries it in the background:
  // the first that comes back turns the cache on again.
  let probing = false;
  function probe(key: string): void {
    if (probing) return;
    probing = true;
    trackedGet(key)
      .catch((err: unknown) =>
        logger.debug(
          { store: 'redis', err: describeError(err) },
          'tracking connection not back yet',
        ),
      )
      .finally(() => {
        probing = false;
      });
  }

  return {
    async read(key, untracked) {
      const pending = cache.enabled && !cache.has(key) ? inflight.get(key) : undefined;
      if (pending) await pending.catch(() => undefined);
      if (cache.has(key)) {
        await settle();
        const value = cache.lookup(key);
        if (value !== undefined) return { value };
      } else cache.lookup(key); // counted as a miss
      if (!cache.enabled) {
        probe(key);
        return untracked();
      }
      try {
        return await trackedGet(key);
      } catch (err) {
        // The tracking connection dropped under this read: the store's other connection answers.
        if (err instanceof StoreUnavailableError && !cache.enabled) return untracked();
        throw err;
      }
    },
    written(keys) {
      for (const key of keys) cache.invalidate(key);
    },
    stats: () => cache.stats(),
    async close() {
      closed = true;
      cache.connectionLost();
      // Destroyed, not closed gracefully: a close() while the connection is still being made (a
      // probe in flight) would leave node-redis reconnecting and the process unable to exit.
      const destroy = (client: ScriptClient | undefined) => {
        try {
          client?.nodeRedis?.destroy?.();
        } catch (err) {
          // A Cluster duplicate still setting up its nodes can throw here; it is discarded anyway.
          logger.debug({ store: 'redis', err: describeError(err) }, 'tracking connection destroy');
        }
      };
      const pending = opened?.catch(() => undefined);
      // A connection still being made to a server that never answers must not hold close() up:
      // wait at most the command timeout, and destroy it whenever it does settle.
      let timer: NodeJS.Timeout | undefined;
      const client = await Promise.race([
        pending,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, timeoutMs, undefined);
        }),
      ]);
      clearTimeout(timer);
      if (client) destroy(client);
      else void pending?.then(destroy);
    },
  };
}
