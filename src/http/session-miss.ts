/**
 * `session.miss`: what a request session says about a token that no longer works. Its own module
 * so that an app can import the type without the request-session class.
 */
import type { ValidateReason } from '../core/manager-api.js';
import type { TerminationReason } from '../core/types.js';

/**
 * Why the token a request presented names no live session: `validate`'s reason, and for a
 * `terminated` session why it ended where the store keeps that. An app uses it to tell a user why
 * they were signed out (an administrator, another device, the per-user limit, inactivity).
 */
export interface SessionMiss {
  /**
   * `expired_idle` (inactivity), `expired_absolute` (the absolute lifetime), `terminated` (ended by
   * a logout, an administrator, the per-user limit, …), `not_found` (unknown, or ended in a store
   * that keeps no trace of it, such as Redis), `malformed` (not a token), `ua_mismatch` or
   * `ip_changed` (ended by the hijack checks).
   */
  reason: ValidateReason;
  /**
   * With `terminated`: `logout` (signed out elsewhere, e.g. revoked from another device),
   * `logout-all`, `admin`, `limit` (evicted by `maxSessionsPerUser`), `rotated`, `hijack` or
   * `timeout`. `null` where the store does not keep it (only SQL and hybrid stores do).
   */
  terminationReason: TerminationReason | null;
}
