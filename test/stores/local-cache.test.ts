/**
 * The Redis store's local cache on its own (no Redis): a reply that raced an invalidation or a
 * flush is never kept, a drop keeps the cache off until a read begun after it comes back, and the
 * bounds (entries, bytes, age) hold. The same rules against a real Redis are in
 * redis-local-cache.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  entryBytes,
  LOCAL_CACHE_DEFAULTS,
  LocalCache,
  localCacheOption,
} from '../../src/stores/redis/local-cache.js';

const bounds = { maxEntries: 100, maxBytes: 1_000_000, maxAge: 1000 };

function cacheAt(now: { t: number }, options = bounds): LocalCache {
  const cache = new LocalCache(options, () => now.t);
  // Starts off until the tracking connection first answered: one read turns it on.
  cache.fill(cache.begin('warm-up'), null);
  assert.equal(cache.enabled, true);
  return cache;
}

describe('local cache', () => {
  it('starts off; a reply turns it on; hits and misses are counted', () => {
    const cache = new LocalCache(bounds);
    assert.equal(cache.enabled, false);
    assert.equal(cache.lookup('k'), undefined);
    cache.fill(cache.begin('k'), 'v1');
    assert.equal(cache.enabled, true);
    assert.equal(cache.lookup('k'), 'v1');
    assert.deepEqual(
      { hits: cache.stats().hits, misses: cache.stats().misses, entries: cache.stats().entries },
      { hits: 1, misses: 1, entries: 1 },
    );
  });

  it('a reply whose key was invalidated while it was in flight is not kept', () => {
    const cache = cacheAt({ t: 0 });
    const ticket = cache.begin('k');
    cache.invalidate('k');
    cache.fill(ticket, 'old');
    assert.equal(cache.lookup('k'), undefined);
    // Two reads in flight, an invalidation between: neither is kept; a read begun after it is.
    const [a, b] = [cache.begin('k'), cache.begin('k')];
    cache.invalidate('k');
    const c = cache.begin('k');
    cache.fill(a, 'old');
    cache.fill(b, 'old');
    assert.equal(cache.has('k'), false);
    cache.fill(c, 'new');
    assert.equal(cache.lookup('k'), 'new');
  });

  it('a reply begun before a flush or a drop is not kept; after a drop the cache is off', () => {
    const cache = cacheAt({ t: 0 });
    cache.fill(cache.begin('x'), 'x');
    const before = cache.begin('k');
    cache.flush();
    cache.fill(before, 'old');
    assert.deepEqual([cache.has('k'), cache.has('x')], [false, false]);

    cache.fill(cache.begin('x'), 'x');
    const inFlight = cache.begin('k');
    cache.connectionLost();
    assert.equal(cache.enabled, false);
    assert.equal(cache.stats().entries, 0);
    cache.fill(inFlight, 'old');
    assert.equal(cache.enabled, false, 'a reply begun before the drop proves nothing');
    assert.equal(cache.lookup('k'), undefined);
    const after = cache.begin('k');
    cache.fill(after, 'new');
    assert.equal(cache.enabled, true);
    assert.equal(cache.lookup('k'), 'new');
    assert.equal(cache.stats().flushes, 2);
  });

  it('abandoned reads release their slot; an invalidation of an absent key changes nothing', () => {
    const cache = cacheAt({ t: 0 });
    cache.abandon(cache.begin('k'));
    cache.invalidate('nothing');
    cache.fill(cache.begin('k'), 'v');
    assert.equal(cache.lookup('k'), 'v');
    assert.equal(cache.stats().invalidations, 0);
    cache.invalidate('k');
    assert.equal(cache.stats().invalidations, 1);
  });

  it('maxEntries and maxBytes evict the least recently read; a value over maxBytes is not kept', () => {
    const cache = cacheAt({ t: 0 }, { ...bounds, maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) cache.fill(cache.begin(k), k);
    cache.lookup('a'); // a is now the most recent
    cache.fill(cache.begin('d'), 'd');
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => cache.has(k)),
      [true, false, true, true],
    );
    assert.equal(cache.stats().evictions, 1);

    const one = entryBytes('k1', 'x'.repeat(100));
    const small = cacheAt({ t: 0 }, { ...bounds, maxBytes: one * 2 });
    for (const k of ['k1', 'k2', 'k3']) small.fill(small.begin(k), 'x'.repeat(100));
    assert.deepEqual([small.stats().entries, small.stats().bytes], [2, one * 2]);
    small.fill(small.begin('big'), 'x'.repeat(one));
    assert.equal(small.has('big'), false);
    assert.equal(small.stats().entries, 2, 'an oversized value evicts nothing');
  });

  it('an entry is served for less than maxAge', () => {
    const now = { t: 0 };
    const cache = cacheAt(now);
    cache.fill(cache.begin('k'), 'v');
    now.t = 999;
    assert.equal(cache.lookup('k'), 'v');
    now.t = 1000;
    assert.equal(cache.has('k'), false);
    assert.equal(cache.lookup('k'), undefined);
    assert.equal(cache.stats().expirations, 1);
    assert.equal(cache.stats().bytes, 0);
  });

  it('options: true and undefined are the defaults, false is off', () => {
    assert.deepEqual(localCacheOption(true), {
      ...LOCAL_CACHE_DEFAULTS,
    });
    assert.deepEqual(localCacheOption(undefined), localCacheOption(true));
    assert.equal(localCacheOption(false), false);
    assert.deepEqual(localCacheOption({ maxAge: '2s', maxEntries: 5 }), {
      maxEntries: 5,
      maxBytes: LOCAL_CACHE_DEFAULTS.maxBytes,
      maxAge: 2000,
    });
  });
});
