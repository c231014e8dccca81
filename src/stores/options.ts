/**
 * The option validators every store shares, so one option means the same thing in every store and
 * a bad value is a `ConfigError` naming the field when the store is built. Each store declares its
 * defaults once (a `<STORE>_DEFAULTS` object) and passes `options.x ?? DEFAULTS.x` here.
 *
 * One rule per kind of duration:
 * - a timeout, interval or retry delay (`durationOption`) must be more than zero (a zero timeout
 *   fails every call, a zero interval spins) and at most what a Node timer can wait;
 * - a grace period or a retention (`retentionOption`) may be zero (keep nothing past the end) and
 *   is capped at ten years like every duration.
 * The duration grammar (`"30m"`, milliseconds) and the caps are the core's `durationSchema`.
 */
import { durationSchema, MAX_TIMER_MS, parseConfig } from '../core/config.js';
import { ConfigError, shownValue } from '../core/errors.js';

const timerDuration = durationSchema({ max: MAX_TIMER_MS });
const retentionDuration = durationSchema({ allowZero: true });

/**
 * A timeout, interval or retry delay in ms or a string like `"2s"`: more than zero, at most
 * `MAX_TIMER_MS` (about 24.8 days). Returns milliseconds.
 */
export function durationOption(field: string, value: unknown): number {
  return parseConfig(timerDuration, value, field);
}

/** A grace period or retention in ms or a string like `"30d"`: zero or more, at most ten years. */
export function retentionOption(field: string, value: unknown): number {
  return parseConfig(retentionDuration, value, field);
}

/** A count (a size limit, a batch, a number of attempts): a whole number of at least 1. */
export function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ConfigError(field, `must be a positive integer, got ${shownValue(value)}`);
  return value;
}

/** A whole number from `min` to `max`. */
export function integerInRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** One of `allowed`. */
export function oneOf<const T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new ConfigError(field, `must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}`);
  return value as T;
}
