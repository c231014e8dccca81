/**
 * The fallback store (`tessera-session/fallback`): serves from a secondary store while the primary is
 * unreachable, and returns to the primary once a background probe finds it healthy again. It keeps
 * the app up through a cache outage; it does not copy sessions between stores (the hybrid store is
 * the choice when no session may be lost).
 *
 * - An operation whose primary call fails with `StoreUnavailableError` is retried once on the
 *   secondary, and the primary is marked down: later calls go straight to the secondary (one fast
 *   failure, not one per request) until the probe sees the primary answer.
 * - Sessions created on the secondary during an outage stay reachable after the failback: a miss on
 *   the primary reads through to the secondary (see `readThrough`), and destroy, destroyUser,
 *   listing, stats and cleanup cover both stores.
 * - Termination stays final across the failback: sessions ended while the primary was down are
 *   ended on the primary before traffic returns to it, including those whose termination was still
 *   in flight when the probe succeeded.
 * - Sessions that only the primary holds are unreachable while it is down (their lookups miss).
 */
import { StoreUnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { describeError, silentLogger } from '../../core/logger.js';
import { byRecentActivity } from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  CreateOptions,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { durationOption, oneOf, positiveInteger } from '../options.js';
import { addStats, mergedList } from './merge.js';
import { PendingTerminations } from './pending.js';

/** The fallback store's defaults: each option's `@default` names its entry here. */
export const FALLBACK_DEFAULTS = {
  probeInterval: 1000,
  maxPendingTerminations: 100_000,
  readThrough: 'always' as 'always' | 'after-outage',
} as const;

export interface FallbackStoreOptions {
  /** The store used while it is healthy (Redis, say). Closed on `close()`. */
  primary: SessionStore;
  /** The store used while the primary is down (SQL, say). Closed on `close()`. */
  secondary: SessionStore;
  /**
   * How often the primary is probed while it is down (ms or a string like `"1s"`).
   * @default FALLBACK_DEFAULTS.probeInterval
   */
  probeInterval?: number | string;
  /**
   * The most terminations remembered during an outage, replayed on the primary when it returns.
   * Past it the oldest is forgotten and an error is logged (that session could come back).
   * @default FALLBACK_DEFAULTS.maxPendingTerminations
   */
  maxPendingTerminations?: number;
  /**
   * When a miss on the primary also looks in the secondary. `always` finds every session created
   * during an outage, whichever process served it (one extra secondary read per miss, and
   * destroy, listing, stats and cleanup touch both stores). `after-outage` does so only once this
   * process has written to the secondary: cheaper, but another process (or this one after a
   * restart) cannot see sessions created on the secondary by someone else.
   * @default FALLBACK_DEFAULTS.readThrough
   */
  readThrough?: 'always' | 'after-outage';
  /** Logs failovers, failbacks and replays. @default a silent logger */
  logger?: Logger;
}

/** The fallback store's option keys. */
export const FALLBACK_KNOWN_KEYS = {
  primary: true,
  secondary: true,
  probeInterval: true,
  maxPendingTerminations: true,
  readThrough: true,
  logger: true,
} as const satisfies KnownKeys<FallbackStoreOptions>;

export const FALLBACK_STORE_NAME = 'fallback';

export interface FallbackStore extends SessionStore {
  /** Which store serves now. */
  readonly active: 'primary' | 'secondary';
  readonly primary: SessionStore;
  readonly secondary: SessionStore;
  /** Runs the probe now (it also runs every `probeInterval` while the primary is down). */
  probe(): Promise<void>;
}

type Served<T> = { value: T; on: 'primary' | 'secondary' };

export function createFallbackStore(options: FallbackStoreOptions): FallbackStore {
  rejectUnknownKeys('createFallbackStore()', options, FALLBACK_KNOWN_KEYS);
  const { primary, secondary } = options;
  const defaults = FALLBACK_DEFAULTS;
  const probeInterval = durationOption(
    'fallback.probeInterval',
    options.probeInterval ?? defaults.probeInterval,
  );
  const maxPending = positiveInteger(
    'fallback.maxPendingTerminations',
    options.maxPendingTerminations ?? defaults.maxPendingTerminations,
  );
  const readThrough = oneOf('fallback.readThrough', options.readThrough ?? defaults.readThrough, [
    'always',
    'after-outage',
  ]);
  const readThroughAlways = readThrough === 'always';
  const logger = options.logger ?? silentLogger;

  let primaryDown = false;
  /** Set once this process wrote to the secondary (`after-outage` reads through only then). */
  let secondaryWritten = false;
  const pending = new PendingTerminations(maxPending, logger);
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  /** Whether the secondary may hold sessions the primary lacks. */
  const secondaryMayHold = () => readThroughAlways || secondaryWritten;

  function markDown(err: unknown): void {
    if (primaryDown) return;
    primaryDown = true;
    logger.warn(
      { primary: primary.name, secondary: secondary.name, err: describeError(err) },
      'tessera: primary store down; serving from the secondary',
    );
    if (closed) return;
    timer = setInterval(() => void probe(), probeInterval);
    timer.unref?.();
  }

  let probing: Promise<void> | undefined;
  function probe(): Promise<void> {
    if (!primaryDown || closed) return Promise.resolve();
    probing ??= tryFailback().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  async function tryFailback(): Promise<void> {
    try {
      const health = await primary.health().catch(() => null);
      if (!health?.ok || closed) return;
      // Replay terminations first, so nothing ended during the outage comes back; traffic returns
      // to the primary in the same tick as the replay ends (no await between the check and the switch).
      await pending.replayOn(primary);
      primaryDown = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      logger.info({ primary: primary.name }, 'tessera: primary store is back; serving from it');
    } catch (err) {
      logger.warn(
        { primary: primary.name, err: describeError(err) },
        'tessera: primary store not ready for failback',
      );
    }
  }

  /** Runs `op` on the primary, or on the secondary when the primary is down or fails as unavailable. */
  async function route<T>(
    op: (store: SessionStore) => Promise<T>,
    before?: () => void,
  ): Promise<Served<T>> {
    if (!primaryDown) {
      try {
        return { value: await op(primary), on: 'primary' };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        markDown(err);
      }
    }
    before?.();
    return { value: await op(secondary), on: 'secondary' };
  }

  function written(): void {
    secondaryWritten = true;
  }

  /**
   * A termination served by the secondary must also reach the primary: replayed at failback while
   * the primary is down, or at once when the failback happened while this call was in flight.
   */
  async function endOnPrimaryToo(end: () => Promise<unknown>, remember: () => void): Promise<void> {
    if (primaryDown) return;
    try {
      await end();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      markDown(err);
      remember();
    }
  }

  /** Reads through to the secondary after a primary miss, when it may hold the session. */
  async function withReadThrough<T>(
    op: (store: SessionStore) => Promise<T>,
    missed: (result: T) => boolean,
    before?: () => void,
  ): Promise<Served<T>> {
    const first = await route(op, before);
    if (first.on === 'primary' && secondaryMayHold() && missed(first.value)) {
      try {
        const value = await op(secondary);
        if (!missed(value)) return { value, on: 'secondary' };
      } catch (err) {
        logger.warn(
          { secondary: secondary.name, err: describeError(err) },
          'tessera: secondary read-through failed',
        );
      }
    }
    return first;
  }

  const capabilities: StoreCapabilities = Object.fromEntries(
    (Object.keys(primary.capabilities) as (keyof StoreCapabilities)[]).map((k) => [
      k,
      primary.capabilities[k] && secondary.capabilities[k],
    ]),
  ) as unknown as StoreCapabilities;
  // Only one store's audit trail would be listed: not offered.
  capabilities.audit = false;

  const store: FallbackStore = {
    name: FALLBACK_STORE_NAME,
    capabilities,
    primary,
    secondary,
    get active() {
      return primaryDown ? 'secondary' : 'primary';
    },
    probe,

    create: async (record: SessionRecord, opts: CreateOptions) =>
      (await route((s) => s.create(record, opts), written)).value,

    get: async (id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> =>
      (
        await withReadThrough(
          (s) => s.get(id, now, touch),
          (r) => r.record === null,
        )
      ).value,

    patch: async (id: string, patch: SessionPatch, now: number) =>
      (
        await withReadThrough(
          (s) => s.patch(id, patch, now),
          (r) => r === null,
          written,
        )
      ).value,

    async destroy(id: string, reason: TerminationReason, now: number) {
      const remember = () => pending.destroy(id, reason);
      // Remembered before the secondary runs: a failure there still ends it on the primary later.
      const served = await route((s) => s.destroy(id, reason, now), remember);
      if (served.on === 'secondary') {
        await endOnPrimaryToo(() => primary.destroy(id, reason, Date.now()), remember);
        return served.value;
      }
      // The session may live in the secondary (created there during an outage): end it there too.
      // A failure reaches the caller: a termination that did not happen must not look done.
      if (!secondaryMayHold()) return served.value;
      const there = await secondary.destroy(id, reason, now);
      return served.value ?? there;
    },

    async destroyUser(userId, opts) {
      const remember = () => pending.destroyUser(userId, opts.reason, opts.exceptId);
      const served = await route((s) => s.destroyUser(userId, opts), remember);
      const ended = new Set(served.value);
      if (served.on === 'secondary') {
        await endOnPrimaryToo(
          () => primary.destroyUser(userId, { ...opts, now: Date.now() }),
          remember,
        );
      } else if (secondaryMayHold()) {
        for (const id of await secondary.destroyUser(userId, opts)) ended.add(id);
      }
      return [...ended];
    },

    async regenerate(oldId, record, opts) {
      const served = await withReadThrough(
        (s) => s.regenerate(oldId, record, opts),
        (r) => !r.ok,
        written,
      );
      // The old id may also live on the primary (a create whose reply was lost): end it there too.
      if (served.value.ok && served.on === 'secondary') {
        const remember = () => pending.destroy(oldId, 'rotated');
        if (primaryDown) remember();
        else await endOnPrimaryToo(() => primary.destroy(oldId, 'rotated', Date.now()), remember);
      }
      return served.value;
    },

    async listUser(userId: string, now: number) {
      const served = await route((s) => s.listUser(userId, now));
      if (served.on === 'secondary' || !secondaryMayHold()) return served.value;
      const seen = new Set(served.value.map((r) => r.id));
      const more = (await secondary.listUser(userId, now)).filter((r) => !seen.has(r.id));
      return [...served.value, ...more].sort(byRecentActivity);
    },

    ...(primary.list &&
      secondary.list && {
        async list(query: ListQuery, now: number): Promise<ListResult> {
          if (!primaryDown && secondaryMayHold()) {
            try {
              return await mergedList(primary, secondary, query, now);
            } catch (err) {
              if (!(err instanceof StoreUnavailableError)) throw err;
              // One of them is down: list what the serving store holds.
            }
          }
          return (await route((s) => s.list!(query, now))).value;
        },
      }),

    ...(primary.stats &&
      secondary.stats && {
        async stats(now: number): Promise<StoreStats> {
          const served = await route((s) => s.stats!(now));
          if (served.on === 'secondary' || !secondaryMayHold()) return served.value;
          return addStats(served.value, await secondary.stats!(now));
        },
      }),

    async cleanup(now: number): Promise<number> {
      const served = await route((s) => s.cleanup(now));
      if (served.on === 'secondary' || !secondaryMayHold()) return served.value;
      return served.value + (await secondary.cleanup(now));
    },

    async health(): Promise<HealthReport> {
      const down = (name: string, err: unknown): HealthReport => ({
        ok: false,
        store: name,
        detail: String(describeError(err).message),
      });
      const [p, s] = await Promise.all([
        primary.health().catch((err) => down(primary.name, err)),
        secondary.health().catch((err) => down(secondary.name, err)),
      ]);
      return {
        ok: p.ok || s.ok,
        store: FALLBACK_STORE_NAME,
        latencyMs: p.ok ? p.latencyMs : s.latencyMs,
        detail: `primary ${primary.name}: ${p.ok ? 'up' : 'down'}; secondary ${secondary.name}: ${s.ok ? 'up' : 'down'}; serving from the ${primaryDown ? 'secondary' : 'primary'}`,
      };
    },

    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await probing?.catch(() => {});
      await Promise.allSettled([primary.close(), secondary.close()]);
    },
  };
  return store;
}
