/**
 * Checks on values the application passes in that a store could not keep exactly: user ids and
 * data keys that are not well-formed Unicode (or hold NUL), and data over the size limit.
 */
import { DataTooLargeError, InvalidInputError } from './errors.js';
import { dataBytes } from './record.js';
import type { SessionData } from './types.js';

/** With the `u` flag a paired surrogate is one code point, so only a lone one matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * User ids and top-level data keys must survive every backend unchanged: UTF-8 stores (Redis,
 * SQL) turn a lone surrogate into U+FFFD, which would merge two users' ids; PostgreSQL refuses NUL.
 * Throws `InvalidInputError` naming the argument.
 */
export function checkInput(userId: string | null | undefined, keys: Iterable<string>): void {
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

/** Throws `DataTooLargeError` when `data` takes more than `limit` bytes as JSON. */
export function checkDataSize(data: SessionData, limit: number): void {
  const bytes = dataBytes(data);
  if (bytes > limit) throw new DataTooLargeError(bytes, limit);
}
