/**
 * Login rate limiting: fixed-window counters per client IP (IPv6 by /64) and per normalised
 * username, each with its own budget. An attempt takes one unit of both budgets *before* the
 * password is checked (`consume`: one atomic increment per counter in the rate-limit store), so
 * concurrent guesses cannot all pass a check made before any of them is counted; a success clears
 * both counters. `check` and `track` keep the older check-then-count interface.
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

/** An attempt that took its unit of budget: the counters as it left them. */
export interface ConsumedAttempt {
  verdict: LoginVerdict;
  /** Records the password check's failure; the verdict says whether another attempt may follow. */
  failed(): LoginVerdict;
  /** Records a success: both counters are cleared. */
  succeeded(): Promise<void>;
}

export interface LoginLimiter {
  /** The verdict for an attempt, without counting it. */
  check(attempt: Omit<LoginAttempt, 'success'>): Promise<LoginVerdict>;
  /** Counts a failed attempt, or clears the counters after a success; returns the verdict. */
  track(attempt: LoginAttempt): Promise<LoginVerdict>;
  /**
   * Counts the attempt before its password is checked. `verdict.allowed` is false when it is past
   * either budget: then the password must not be checked.
   */
  consume(attempt: Omit<LoginAttempt, 'success'>): Promise<ConsumedAttempt>;
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
    consume: async () => ({
      verdict: { ...UNLIMITED },
      failed: () => ({ ...UNLIMITED }),
      succeeded: async () => {},
    }),
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

  /** Attempts left in each budget (negative when past it). */
  function left(ip: RateLimitState | null, user: RateLimitState | null) {
    return {
      ip: settings.maxAttemptsPerIp - (ip?.count ?? 0),
      user: settings.maxAttempts - (user?.count ?? 0),
    };
  }

  /** The refusal: reported, with the time until the later of the exhausted windows ends. */
  function refusal(
    ip: RateLimitState | null,
    user: RateLimitState | null,
    now: number,
    attempt: Omit<LoginAttempt, 'success'>,
  ): LoginVerdict {
    const budget = left(ip, user);
    const blocking = [
      ip && budget.ip <= 0 ? ip.resetAt : 0,
      user && budget.user <= 0 ? user.resetAt : 0,
    ];
    const retryAfterMs = Math.max(0, Math.max(...blocking) - now);
    hooks.refused({
      ip: attempt.ip ? ipKey(attempt.ip) : null,
      username: attempt.username ? usernameKey(attempt.username) : null,
      retryAfterMs,
    });
    return { allowed: false, remaining: 0, retryAfterMs };
  }

  /** Whether another attempt may be made after this state (each budget has one left). */
  function verdict(
    ip: RateLimitState | null,
    user: RateLimitState | null,
    now: number,
    attempt: Omit<LoginAttempt, 'success'>,
  ): LoginVerdict {
    const budget = left(ip, user);
    const remaining = Math.max(0, Math.min(budget.ip, budget.user));
    if (remaining > 0) return { allowed: true, remaining, retryAfterMs: 0 };
    return refusal(ip, user, now, attempt);
  }

  /**
   * Counts one attempt: the address first, and the username only while the address is within its
   * budget. An address past its budget then creates no username counters, so it cannot flood a
   * bounded counter store (the memory store drops its oldest counters when full) with made-up
   * usernames until a victim's counter is pushed out.
   */
  async function hitBoth(
    ipCounter: string | null,
    userCounter: string | null,
    now: number,
  ): Promise<[RateLimitState | null, RateLimitState | null]> {
    const ip = ipCounter ? await store.hit(ipCounter, settings.window, now) : null;
    if (ip && ip.count > settings.maxAttemptsPerIp)
      return [ip, userCounter ? await store.peek(userCounter, now) : null];
    return [ip, userCounter ? await store.hit(userCounter, settings.window, now) : null];
  }

  async function clear(attempt: Omit<LoginAttempt, 'success'>): Promise<void> {
    const [ipCounter, userCounter] = keys(attempt);
    await Promise.all([
      ipCounter ? store.reset(ipCounter) : null,
      userCounter ? store.reset(userCounter) : null,
    ]);
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
        await clear(attempt);
        return { allowed: true, remaining: settings.maxAttempts, retryAfterMs: 0 };
      }
      hooks.recorded(false);
      const now = clock();
      const [ip, user] = await hitBoth(ipCounter, userCounter, now);
      return verdict(ip, user, now, attempt);
    },

    async consume(attempt) {
      const [ipCounter, userCounter] = keys(attempt);
      const now = clock();
      // The increment is the reservation: of N concurrent hits exactly the first `budget` see a
      // count within it, whatever the interleaving, because each hit is atomic in the store.
      const [ip, user] = await hitBoth(ipCounter, userCounter, now);
      const budget = left(ip, user);
      const within = budget.ip >= 0 && budget.user >= 0;
      return {
        verdict: within
          ? { allowed: true, remaining: Math.min(budget.ip, budget.user), retryAfterMs: 0 }
          : refusal(ip, user, now, attempt),
        failed() {
          hooks.recorded(false);
          return verdict(ip, user, now, attempt);
        },
        async succeeded() {
          hooks.recorded(true);
          await clear(attempt);
        },
      };
    },
  };
}
