/**
 * Checks on values the application passes in that a store could not keep exactly: user ids and
 * data keys that are not well-formed Unicode (or hold NUL), data values that are not JSON (or
 * nest too deep to be read back), and data over the size limit.
 */
import { DataTooLargeError, InvalidInputError } from './errors.js';
import { dataBytes } from './record.js';
import type { SessionData } from './types.js';

/** With the `u` flag a paired surrogate is one code point, so only a lone one matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The deepest a data value may nest arrays and objects. Deeper values are refused when they are
 * set: JSON encoders and every store's (de)serialisation recurse, and a cycle nests without end.
 */
export const MAX_VALUE_DEPTH = 100;

/**
 * User ids and top-level data keys must survive every backend unchanged: UTF-8 stores (Redis,
 * SQL) turn a lone surrogate into U+FFFD, which would merge two users' ids; PostgreSQL refuses NUL.
 * Throws `InvalidInputError` naming the argument.
 */
export function checkInput(userId: string | null | undefined, keys: Iterable<string>): void {
  // Checked at run time too: an app passing `req.body.user` from a parser that builds objects.
  if (userId !== null && userId !== undefined && typeof userId !== 'string')
    throw new InvalidInputError('userId', `must be a string or null, got ${typeof userId}`);
  if (typeof userId === 'string') {
    if (LONE_SURROGATE.test(userId))
      throw new InvalidInputError('userId', 'is not well-formed Unicode (a lone surrogate)');
    if (userId.includes('\u0000'))
      throw new InvalidInputError('userId', 'contains a NUL character');
  }
  for (const key of keys)
    if (LONE_SURROGATE.test(key))
      throw new InvalidInputError('data key', 'is not well-formed Unicode (a lone surrogate)');
}

/** Why `value` is not a JSON value every store keeps as it is, or `null` when it is one. */
function notStorable(value: unknown, depth: number): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `holds ${value}, which JSON cannot represent`;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_VALUE_DEPTH)
        return `nests more than ${MAX_VALUE_DEPTH} levels deep (or refers to itself)`;
      const proto = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
        return `holds a ${proto?.constructor?.name ?? 'non-plain'} object; store plain objects, arrays, strings, numbers, booleans and null`;
      for (const child of Object.values(value)) {
        const problem = notStorable(child, depth + 1);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return `holds ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which JSON cannot represent (use delete() to remove a key)`;
  }
}

/**
 * Throws `InvalidInputError` unless `value` is a JSON value (plain objects, arrays, strings, finite
 * numbers, booleans, null) nested at most `MAX_VALUE_DEPTH` deep: anything else would be changed
 * or lost on the way to a store, or would fail there.
 */
export function checkValue(key: string, value: unknown): void {
  checkInput(null, [key]);
  const problem = notStorable(value, 0);
  if (problem) throw new InvalidInputError('data value', `"${key.slice(0, 64)}" ${problem}`);
}

/** `checkValue` for every top-level key of `data`. */
export function checkData(data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) checkValue(key, value);
}

/** Throws `DataTooLargeError` when `data` takes more than `limit` bytes as JSON. */
export function checkDataSize(data: SessionData, limit: number): void {
  const bytes = dataBytes(data);
  if (bytes > limit) throw new DataTooLargeError(bytes, limit);
}

/** The client's address and user agent, as given to `create` and `regenerate`: strings or null. */
export function checkRequestInfo(info: { ip?: unknown; userAgent?: unknown }): void {
  for (const field of ['ip', 'userAgent'] as const) {
    const value = info[field];
    if (value !== null && value !== undefined && typeof value !== 'string')
      throw new InvalidInputError(field, `must be a string or null, got ${typeof value}`);
  }
}
