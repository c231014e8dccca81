/**
 * The stores as the manager calls them: each method of a `SessionStore` or `RateLimitStore` behind
 * one try/catch, built once per manager (no closure per call), so every failure is reported the
 * same way and re-thrown as a typed `TesseraError`.
 */
import { StoreError, TesseraError } from './errors.js';
import type { RateLimitStore, SessionStore } from './types.js';

/** Reports a failed store call (counted, logged, emitted); the manager supplies it. */
export type StoreFailureReport = (operation: string, err: unknown) => void;

/** The store methods the manager calls (`stats` only where the store's capabilities say so). */
export type GuardedStore = Required<
  Pick<
    SessionStore,
    | 'create'
    | 'get'
    | 'patch'
    | 'destroy'
    | 'destroyUser'
    | 'regenerate'
    | 'listUser'
    | 'cleanup'
    | 'stats'
  >
>;

/** The rate-limit store methods the manager calls. */
export type GuardedRateLimitStore = Pick<RateLimitStore, 'hit' | 'peek' | 'reset'>;

/** Reports the failure, then returns it as a typed error: a `TesseraError` as is, else `StoreError`. */
function failed(storeName: string, report: StoreFailureReport, operation: string, err: unknown) {
  report(operation, err);
  if (err instanceof TesseraError) return err;
  return new StoreError(
    storeName,
    `${operation} failed: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}

export function guardStore(store: SessionStore, report: StoreFailureReport): GuardedStore {
  const fail = (operation: string, err: unknown) => failed(store.name, report, operation, err);
  return {
    async create(record, options) {
      try {
        return await store.create(record, options);
      } catch (err) {
        throw fail('create', err);
      }
    },
    async get(id, now, touch) {
      try {
        return await store.get(id, now, touch);
      } catch (err) {
        throw fail('get', err);
      }
    },
    async patch(id, patch, now) {
      try {
        return await store.patch(id, patch, now);
      } catch (err) {
        throw fail('patch', err);
      }
    },
    async destroy(id, reason, now) {
      try {
        return await store.destroy(id, reason, now);
      } catch (err) {
        throw fail('destroy', err);
      }
    },
    async destroyUser(userId, options) {
      try {
        return await store.destroyUser(userId, options);
      } catch (err) {
        throw fail('destroyUser', err);
      }
    },
    async regenerate(oldId, record, options) {
      try {
        return await store.regenerate(oldId, record, options);
      } catch (err) {
        throw fail('regenerate', err);
      }
    },
    async listUser(userId, now) {
      try {
        return await store.listUser(userId, now);
      } catch (err) {
        throw fail('listUser', err);
      }
    },
    async cleanup(now) {
      try {
        return await store.cleanup(now);
      } catch (err) {
        throw fail('cleanup', err);
      }
    },
    async stats(now) {
      try {
        return await store.stats!(now);
      } catch (err) {
        throw fail('stats', err);
      }
    },
  };
}

export function guardRateLimitStore(
  store: RateLimitStore,
  storeName: string,
  report: StoreFailureReport,
): GuardedRateLimitStore {
  const fail = (operation: string, err: unknown) => failed(storeName, report, operation, err);
  return {
    async hit(key, windowMs, now) {
      try {
        return await store.hit(key, windowMs, now);
      } catch (err) {
        throw fail('rateLimit.hit', err);
      }
    },
    async peek(key, now) {
      try {
        return await store.peek(key, now);
      } catch (err) {
        throw fail('rateLimit.peek', err);
      }
    },
    async reset(key) {
      try {
        return await store.reset(key);
      } catch (err) {
        throw fail('rateLimit.reset', err);
      }
    },
  };
}
