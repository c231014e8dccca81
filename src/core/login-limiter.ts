/**
 * Login rate limiting: fixed-window counters per client IP (IPv6 by /64) and per normalised
 * username, each with its own budget. A failure counts against both, a success clears both.
 */
import { ipKey, usernameKey } from './client-keys.js';
import type { SessionEvents } from './events.js';
import type { LoginAttempt, LoginVerdict } from './manager-api.js';
import type { RateLimitConfig } from './manager-options.js';
import type { GuardedRateLimitStore } from './store-calls.js';
import type { RateLimitState } from './types.js';

/** What the manager hears from the limiter, for its counters, events and log. */
export interface LoginLimiterHooks {
  /** An attempt was recorded as a success or a failure. */
  recorded(success: boolean): void;
  /** An attempt was refused: the limit is reached. */
  refused(event: SessionEvents['rateLimited']): void;
}

export interface LoginLimiter {
  /** The verdict for an attempt, without counting it. */
  check(attempt: Omit<LoginAttempt, 'success'>): Promise<LoginVerdict>;
  /** Counts a failed attempt, or clears the counters after a success; returns the verdict. */
  track(attempt: LoginAttempt): Promise<LoginVerdict>;
}

const UNLIMITED: Readonly<LoginVerdict> = {
  allowed: true,
  remaining: Number.POSITIVE_INFINITY,
  retryAfterMs: 0,
};

/** A limiter that allows every attempt, for `rateLimit: false`. */
export function unlimitedLogins(): LoginLimiter {
  return {
    check: async () => ({ ...UNLIMITED }),
    track: async () => ({ ...UNLIMITED }),
  };
}

export function createLoginLimiter(
  settings: RateLimitConfig,
  store: GuardedRateLimitStore,
  clock: () => number,
  hooks: LoginLimiterHooks,
): LoginLimiter {
  function keys(attempt: Omit<LoginAttempt, 'success'>): [string | null, string | null] {
    return [
      attempt.ip ? `ip:${ipKey(attempt.ip)}` : null,
      attempt.username ? `user:${usernameKey(attempt.username)}` : null,
    ];
  }

  function verdict(
    ip: RateLimitState | null,
    user: RateLimitState | null,
    now: number,
    attempt: Omit<LoginAttempt, 'success'>,
  ): LoginVerdict {
    const ipLeft = settings.maxAttemptsPerIp - (ip?.count ?? 0);
    const userLeft = settings.maxAttempts - (user?.count ?? 0);
    const remaining = Math.max(0, Math.min(ipLeft, userLeft));
    if (remaining > 0) return { allowed: true, remaining, retryAfterMs: 0 };
    const blocking = [ip && ipLeft <= 0 ? ip.resetAt : 0, user && userLeft <= 0 ? user.resetAt : 0];
    const retryAfterMs = Math.max(0, Math.max(...blocking) - now);
    hooks.refused({
      ip: attempt.ip ? ipKey(attempt.ip) : null,
      username: attempt.username ? usernameKey(attempt.username) : null,
      retryAfterMs,
    });
    return { allowed: false, remaining: 0, retryAfterMs };
  }

  return {
    async check(attempt) {
      const now = clock();
      const [ipCounter, userCounter] = keys(attempt);
      const [ip, user] = await Promise.all([
        ipCounter ? store.peek(ipCounter, now) : null,
        userCounter ? store.peek(userCounter, now) : null,
      ]);
      return verdict(ip, user, now, attempt);
    },

    async track(attempt) {
      const [ipCounter, userCounter] = keys(attempt);
      if (attempt.success) {
        hooks.recorded(true);
        await Promise.all([
          ipCounter ? store.reset(ipCounter) : null,
          userCounter ? store.reset(userCounter) : null,
        ]);
        return { allowed: true, remaining: settings.maxAttempts, retryAfterMs: 0 };
      }
      hooks.recorded(false);
      const now = clock();
      const [ip, user] = await Promise.all([
        ipCounter ? store.hit(ipCounter, settings.window, now) : null,
        userCounter ? store.hit(userCounter, settings.window, now) : null,
      ]);
      return verdict(ip, user, now, attempt);
    },
  };
}
