/**
 * Memcached keys and TTLs: a key is at most 250 bytes without spaces or control characters (a
 * longer or unsafe one is replaced by a hash), and a relative TTL past 30 days is read by memcached
 * as a Unix time.
 */
import { createHash } from 'node:crypto';

/** Memcached keys: at most 250 bytes, no spaces or control characters. */
const MAX_KEY_BYTES = 250;
export const SAFE_KEY = /^[\x21-\x7e]+$/;
/** Relative TTLs above 30 days are read by memcached as a Unix time. */
const MAX_RELATIVE_TTL = 30 * 24 * 3600;

/** Seconds until `at` (epoch ms, the caller's clock) as memcached expects them; never 0 (= forever). */
export function ttlSeconds(at: number, now: number): number {
  const seconds = Math.max(1, Math.ceil((at - now) / 1000));
  return seconds > MAX_RELATIVE_TTL ? Math.ceil(Date.now() / 1000) + seconds : seconds;
}

/** A key memcached accepts: as given when safe, else the prefix and a SHA-256 of it. */
export function makeKeyer(prefix: string) {
  return (raw: string): string =>
    Buffer.byteLength(raw) <= MAX_KEY_BYTES && SAFE_KEY.test(raw)
      ? raw
      : `${prefix}h:${createHash('sha256').update(raw, 'utf8').digest('base64url')}`;
}
