/**
 * What a regenerated session keeps of the old one's data. A login may carry over what an
 * anonymous visitor gathered (a cart), and a privilege change keeps the user's own data; another
 * user's data is never carried, so a login on a browser someone else left logged in starts clean.
 * The application narrows it further with `keepData`: `false` (nothing, for a login that must not
 * trust what an anonymous session holds, such as a planted `returnTo`) or the keys to keep.
 */
import { InvalidInputError } from './errors.js';
import type { SessionData } from './types.js';

/**
 * Which of the old session's data a regenerated session keeps: all of it (`true`), none (`false`),
 * or the named top-level keys. Another user's data is never kept, whatever this says.
 */
export type KeepData = boolean | readonly string[];

/** Whether data may move from a session of `from` to one of `to`: anonymous, or the same user. */
export function mayCarry(from: string | null, to: string | null): boolean {
  return from === null || from === to;
}

/** Throws `InvalidInputError` unless `keepData` is a boolean or an array of strings. */
export function checkKeepData(keepData: unknown): KeepData {
  if (keepData === undefined) return true;
  if (typeof keepData === 'boolean') return keepData;
  if (Array.isArray(keepData) && keepData.every((k) => typeof k === 'string')) return keepData;
  throw new InvalidInputError('keepData', 'must be true, false or an array of data keys');
}

/** Whether `key` is kept under `keepData` (once `mayCarry` allowed carrying at all). */
export function keeps(keepData: KeepData, key: string): boolean {
  return keepData === true || (keepData !== false && keepData.includes(key));
}

/** The data a session of `to` starts with when it replaces one of `from` holding `data`. */
export function carriedData<Data extends SessionData>(
  data: Data,
  from: string | null,
  to: string | null,
  keepData: KeepData,
): Data {
  if (!mayCarry(from, to) || keepData === false) return {} as Data;
  if (keepData === true) return data;
  // fromEntries defines own properties: a key named "__proto__" stays a key.
  return Object.fromEntries(Object.entries(data).filter(([key]) => keeps(keepData, key))) as Data;
}
