/**
 * The stores as the manager calls them: each method of a `SessionStore` or `RateLimitStore` behind
 * one try/catch, built once per manager (no closure per call), so every failure is reported the
 * same way and re-thrown as a typed `TesseraError` (a `DataTooLargeError` or `NotSupportedError`
 * refusal is re-thrown without being reported: it is not a failure of the store).
 */
import { DataTooLargeError, NotSupportedError, StoreError, TesseraError } from './errors.js';
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

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * Wraps `target[method]` (looked up at each call, so a store may swap its methods): a failure is
 * reported, then thrown as a `TesseraError` as it is, or as a `StoreError` naming `storeName`.
 */
function guarded<T extends object, K extends keyof T & string>(
  target: T,
  method: K,
  operation: string,
  storeName: string,
  report: StoreFailureReport,
): T[K] {
  const call = async (...args: unknown[]) => {
    try {
      return await Reflect.apply(target[method] as AsyncMethod, target, args);
    } catch (err) {
      // A refused write (data over `maxDataBytes`) is the caller's input, and an operation the
      // store cannot offer (`NotSupportedError`, e.g. listing client-side sessions) the caller's
      // request: neither is a failure of the store.
      if (!(err instanceof DataTooLargeError || err instanceof NotSupportedError))
        report(operation, err);
      if (err instanceof TesseraError) throw err;
      throw new StoreError(
        storeName,
        `${operation} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  };
  return call as T[K];
}

export function guardStore(store: SessionStore, report: StoreFailureReport): GuardedStore {
  const guard = <K extends keyof GuardedStore>(method: K) =>
    guarded(store as GuardedStore, method, method, store.name, report);
  return {
    create: guard('create'),
    get: guard('get'),
    patch: guard('patch'),
    destroy: guard('destroy'),
    destroyUser: guard('destroyUser'),
    regenerate: guard('regenerate'),
    listUser: guard('listUser'),
    cleanup: guard('cleanup'),
    stats: guard('stats'),
  };
}

/** `storeName` is the session store's: failures are reported under the manager's store. */
export function guardRateLimitStore(
  store: RateLimitStore,
  storeName: string,
  report: StoreFailureReport,
): GuardedRateLimitStore {
  const guard = <K extends keyof GuardedRateLimitStore>(method: K) =>
    guarded(store, method, `rateLimit.${method}`, storeName, report);
  return { hit: guard('hit'), peek: guard('peek'), reset: guard('reset') };
}
