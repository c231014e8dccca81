/**
 * The nearest-key suggestion behind `UnknownOptionError`: edit distance with transpositions on
 * lower-cased keys, a guess only when close, the names other libraries use, and the type-level
 * check that a known-keys list names every option.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { editDistance, type KnownKeys, nearestKeys } from '../../src/core/strict-options.js';

describe('nearest keys', () => {
  it('counts a transposition as one edit and ignores case', () => {
    assert.equal(editDistance('samesite', 'samesiet'), 1);
    assert.equal(editDistance('idletimout', 'idletimeout'), 1);
    assert.deepEqual(nearestKeys('IDLETIMEOUT', ['idleTimeout', 'touchAfter']), ['idleTimeout']);
  });
  it('suggests only when close: about a third of the key in edits, at most three', () => {
    assert.deepEqual(nearestKeys('csrff', ['csrf', 'clock']), ['csrf']);
    assert.deepEqual(nearestKeys('foo', ['csrf', 'clock']), []);
    assert.deepEqual(nearestKeys('maxSessionsPerUsr', ['maxSessionsPerUser']), [
      'maxSessionsPerUser',
    ]);
    assert.deepEqual(nearestKeys('cleanupBatch', ['cleanupBatchSize']), []);
  });
  it('knows the names other libraries use, and suggests only the options of the call', () => {
    assert.deepEqual(nearestKeys('ttl', ['idleTimeout', 'absoluteTimeout', 'csrf']), [
      'idleTimeout',
      'absoluteTimeout',
    ]);
    assert.deepEqual(nearestKeys('secret', ['secrets', 'cookieName']), ['secrets']);
    assert.deepEqual(nearestKeys('ttl', ['userId', 'data']), []);
  });
  it('a known-keys list that misses an option does not compile', () => {
    // @ts-expect-error: `b` is an option of the interface and missing from the list
    const missing = { a: true } as const satisfies KnownKeys<{ a?: number; b?: number }>;
    // @ts-expect-error: `c` is listed but is no option
    const extra = { a: true, c: true } as const satisfies KnownKeys<{ a?: number }>;
    assert.ok(missing && extra);
  });
});
