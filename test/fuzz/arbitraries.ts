/**
 * Hostile inputs shared by the fuzz suites: strings full of glob characters (`*?[]`), key separators
 * (`:`, `{}`), look-alike unicode, control characters and prototype names.
 */
import fc from 'fast-check';
import type { JsonValue, SessionData } from '../../src/core/types.js';

/** Characters and words that mean something to a key-value store, a shell glob or a JS object. */
export const TRICKY = [
  '*',
  '?',
  '[',
  ']',
  '[a-z]',
  '[^a]',
  '\\',
  '\\*',
  ':',
  '::',
  '{',
  '}',
  '{}',
  '{x}',
  'u:',
  'd:',
  's:',
  '%',
  '_',
  '.',
  '/',
  '..',
  '"',
  "'",
  ';',
  ',',
  ' ',
  '\t',
  '\n',
  '\u0001',
  '\u007f',
  '\u00a0',
  'é',
  'e\u0301',
  'ß',
  'İ',
  'ǅ',
  '\u212a',
  'ﬁ',
  'Ａ',
  '日本',
  '🎉',
  '👩‍👩‍👧',
  '\u202e',
  '\u200b',
  '\ufeff',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
] as const;

/** A string built from tricky pieces and random well-formed unicode. */
export function trickyString(maxPieces = 4): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'grapheme', maxLength: 4 })), {
      minLength: 1,
      maxLength: maxPieces,
    })
    .map((parts) => parts.join(''));
}

/** Any UTF-16 string, lone surrogates included (what a JS string may hold, not what UTF-8 can). */
export const anyUtf16 = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 });

/** Keys of session data: tricky, plain, or a single prototype name. */
export const dataKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: trickyString(3) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '', 'd:', 'x') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** JSON values as session data holds them. */
export const dataValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
  trickyString(3),
);

/** A session-data object with hostile keys, built with defineProperty so `__proto__` stays data. */
export const sessionData: fc.Arbitrary<SessionData> = fc
  .array(fc.tuple(dataKey, dataValue), { maxLength: 5 })
  .map((pairs) => {
    const data: SessionData = {};
    for (const [key, value] of pairs)
      Object.defineProperty(data, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return data;
  });

/** What a value looks like after a trip through JSON: the only exactness a JSON store can promise. */
export function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Whether `new Headers()` accepts the string as a header value: no CR, LF or NUL, and no code unit
 * past U+00FF. Values it refuses never reach a fetch-based handler, so there is nothing to test.
 */
export function fetchableHeader(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13 || c > 0xff) return false;
  }
  return true;
}
