/**
 * Type guards for the objects an application hands the manager (a store, a rate-limit store, a
 * logger, callbacks), so options of any JavaScript type are refused by name at construction.
 */
import type { Logger } from './logger.js';
import type { RateLimitStore, SessionStore } from './types.js';

const SESSION_STORE_METHODS = [
  'create',
  'get',
  'patch',
  'destroy',
  'destroyUser',
  'regenerate',
  'listUser',
  'cleanup',
  'health',
  'close',
] as const;
const RATE_LIMIT_STORE_METHODS = ['hit', 'peek', 'reset'] as const;
const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** Whether `v` is a function (a clock, a listener, a predicate). */
export function isFunction(v: unknown): v is (...args: never[]) => unknown {
  return typeof v === 'function';
}

/** Whether `v` is an object with a function under each of `methods`. */
function hasMethods(v: unknown, methods: readonly string[]): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return methods.every((m) => typeof o[m] === 'function');
}

export function isSessionStore(v: unknown): v is SessionStore {
  return hasMethods(v, SESSION_STORE_METHODS);
}

export function isRateLimitStore(v: unknown): v is RateLimitStore {
  return hasMethods(v, RATE_LIMIT_STORE_METHODS);
}

export function isLogger(v: unknown): v is Logger {
  return hasMethods(v, LOGGER_METHODS);
}
