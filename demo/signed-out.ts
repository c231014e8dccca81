/**
 * Why a visitor was signed out, in words. The demo reads `session.miss` (why the presented cookie
 * no longer works) where it turns a visitor away, and leaves the sentence as a flash message for
 * the login page: the redirect clears the dead cookie, so the login page could not ask again.
 */
import type { SessionMiss } from '../src/http/session.js';

export type SignedOutCode =
  | 'device'
  | 'everywhere'
  | 'admin'
  | 'limit'
  | 'idle'
  | 'lifetime'
  | 'security'
  | 'ended';

/** What the sentences need from the manager's settings (milliseconds; `false`/`null` when off). */
export interface SessionLimits {
  idleTimeout: number;
  absoluteTimeout: number | false | null;
  maxSessionsPerUser: number | null;
}

/** The code for a miss, or `null` when there is nothing to explain (no cookie, or garbage). */
export function signedOutCode(miss: SessionMiss | null): SignedOutCode | null {
  if (!miss) return null;
  switch (miss.reason) {
    case 'malformed':
      return null;
    case 'expired_idle':
      return 'idle';
    case 'expired_absolute':
      return 'lifetime';
    case 'ua_mismatch':
    case 'ip_changed':
      return 'security';
    case 'terminated':
      switch (miss.terminationReason) {
        case 'logout':
          return 'device';
        case 'logout-all':
          return 'everywhere';
        case 'admin':
          return 'admin';
        case 'limit':
          return 'limit';
        case 'hijack':
          return 'security';
        case 'timeout':
          return 'idle';
        default:
          return 'ended';
      }
    default:
      // not_found: unknown, or ended in a store that keeps no trace of it (Redis, Memcached).
      return 'ended';
  }
}

/** `30 minutes`, `12 hours`, `1 day`. */
export function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units)
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** The sentence the login page shows. */
export function signedOutMessage(code: SignedOutCode, limits: SessionLimits): string {
  switch (code) {
    case 'device':
      return 'You were signed out from another device.';
    case 'everywhere':
      return 'You were signed out from another device that logged out everywhere else.';
    case 'admin':
      return 'An administrator ended this session. Log in again to continue.';
    case 'limit':
      return limits.maxSessionsPerUser === null
        ? 'You were signed out because your account signed in on another device.'
        : `You were signed out because your account signed in on another device: at most ${limits.maxSessionsPerUser} sessions can be open at once, and this was the least recently used.`;
    case 'idle':
      return `Signed out after ${humanDuration(limits.idleTimeout)} of inactivity.`;
    case 'lifetime':
      return !limits.absoluteTimeout
        ? 'Your session reached its maximum lifetime. Log in again to continue.'
        : `Your session reached its maximum lifetime of ${humanDuration(limits.absoluteTimeout)}. Log in again to continue.`;
    case 'security':
      return 'Signed out for your safety: this session was used from another browser or network.';
    case 'ended':
      return 'Your session has ended. Log in again to continue.';
  }
}
