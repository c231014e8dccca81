/**
 * Compare-and-swap retry loops: a read-modify-write step that lost a race (`cas` answered EXISTS)
 * asks to run again, after a short randomised pause that grows with contention, up to a bound.
 */
import { StoreError } from '../../core/errors.js';
import { MEMCACHED_STORE_NAME } from './client.js';

/** Returned by a CAS step that lost a race and must run again. */
export const RETRY: unique symbol = Symbol('retry');

/** A short randomised pause between CAS attempts, growing with contention. */
export function backoff(attempt: number): Promise<void> {
  if (attempt < 2) return Promise.resolve();
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 10)));
}

/** Runs `step` until it does not ask for a retry (a CAS conflict), at most `attempts` times. */
export async function retryOnConflict<T>(
  attempts: number,
  what: string,
  step: () => Promise<T | typeof RETRY>,
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await step();
    if (result !== RETRY) return result;
    await backoff(attempt);
  }
  throw new StoreError(MEMCACHED_STORE_NAME, `${what}: gave up after ${attempts} CAS conflicts`);
}
