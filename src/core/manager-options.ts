/**
 * The session manager's options: their types and documentation, the one `MANAGER_DEFAULTS` object
 * every default comes from, and the schema that checks them when a manager is built (a bad value
 * is a `ConfigError` naming the field).
 */
import { z } from 'zod';
import { durationOrOffSchema, durationSchema, MAX_TIMER_MS, parseConfig } from './config.js';
import { type Duration, parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import type { SessionEventListeners, SessionEvents } from './events.js';
import { isFunction, isLogger, isRateLimitStore, isSessionStore } from './guards.js';
import type { Logger } from './logger.js';
import { type KnownKeys, rejectUnknownKeys } from './strict-options.js';
import type { RateLimitStore, SessionData, SessionStore } from './types.js';

export type IpChangePolicy = 'allow' | 'log' | 'terminate';

/**
 * Every default of the manager, declared once: the schema below fills them in and the `@default`
 * tags of the options say the same (test/core/defaults.test.ts checks that they agree).
 */
export const MANAGER_DEFAULTS = {
  idleTimeout: '30m',
  absoluteTimeout: '12h',
  maxIdleTimeout: '30d',
  maxAbsoluteTimeout: '400d',
  touchAfter: '60s',
  maxSessionsPerUser: 5,
  csrf: true,
  bindUserAgent: false,
  ipChange: 'log',
  cleanupInterval: '15m',
  maxDataBytes: 65_536,
  rateLimit: {
    maxAttempts: 5,
    /** `maxAttemptsPerIp` is this many times `maxAttempts` unless given. */
    ipAttemptsFactor: 4,
    window: '15m',
  },
} as const;

export interface RateLimitOptions {
  /**
   * Failed attempts allowed per username within `window`.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Failed attempts allowed per client IP (IPv6 by /64) within `window`. Higher than the per-user
   * figure because many users can share one address (offices, mobile carriers).
   * @default 4 * maxAttempts
   */
  maxAttemptsPerIp?: number;
  /**
   * The counting window; the counter resets when it ends.
   * @default "15m"
   */
  window?: Duration;
  /**
   * Where counters live; use a shared store (Redis, Memcached) when several processes serve logins.
   * @default an in-memory rate-limit store
   */
  store?: RateLimitStore;
}

export interface SessionManagerOptions<Data extends SessionData = SessionData> {
  /**
   * Where sessions live. The manager closes only the default store it created; a store you pass
   * in stays open on `close()` (it may be shared), so close it yourself.
   * @default createMemoryStore()
   */
  store?: SessionStore;
  /**
   * Sliding idle timeout: a session unused this long ends. At most ten years, like every duration.
   * @default "30m"
   */
  idleTimeout?: Duration;
  /**
   * Absolute lifetime from login, whatever the activity; `false` turns it off.
   * @default "12h"
   */
  absoluteTimeout?: Duration | false;
  /**
   * The longest idle timeout a session may be given of its own (`create`, `regenerate` or
   * `session.login` with `idleTimeout`: "remember me"); a longer one is an `InvalidInputError`
   * naming this bound. It is also the cap every touch applies: lowered, it shortens longer
   * sessions already stored at their next touch. Left unset with an `idleTimeout` longer than the
   * default, it is that `idleTimeout`.
   * @default "30d"
   */
  maxIdleTimeout?: Duration;
  /**
   * The longest absolute lifetime a session may be given of its own (`absoluteTimeout` on
   * `create`, `regenerate` or `session.login`); a longer one is an `InvalidInputError` naming this
   * bound. `false`: no bound, and a session may be given `absoluteTimeout: false` (no absolute
   * lifetime). Left unset, it is `false` when `absoluteTimeout` is `false`, and `absoluteTimeout`
   * when that is longer than the default. 400 days is the longest a browser keeps a cookie
   * (Chrome's cap).
   * @default "400d"
   */
  maxAbsoluteTimeout?: Duration | false;
  /**
   * The last-activity time is written at most once per this interval, so most validations are
   * read-only. Must be shorter than `idleTimeout`; left unset with an `idleTimeout` of 60 s or less,
   * it is half the idle timeout.
   * @default "60s"
   */
  touchAfter?: Duration;
  /**
   * Sessions one user may hold; a new login evicts the least recently active. `null`: no limit.
   * @default 5
   */
  maxSessionsPerUser?: number | null;
  /**
   * Issue a CSRF token with each session (checked by the HTTP layer on unsafe methods).
   * @default true
   */
  csrf?: boolean;
  /**
   * End a session presented with a User-Agent other than the one it was created with.
   * @default false
   */
  bindUserAgent?: boolean;
  /**
   * What to do when a session is used from another IP: `allow` silently, `log` a warning, or
   * `terminate` it (reason `hijack`).
   * @default "log"
   */
  ipChange?: IpChangePolicy;
  /**
   * Login rate limiting by IP and username; `false` turns it off.
   * @default { maxAttempts: 5, maxAttemptsPerIp: 20, window: "15m", store: memory }
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * How often expired sessions are removed in the background; `false` turns the timer off. The
   * timer is unref'd (it never keeps the process alive) and stops on `close()`. At most
   * 2^31-1 ms (about 24.8 days), the longest a Node timer can wait.
   * @default "15m"
   */
  cleanupInterval?: Duration | false;
  /**
   * The most bytes session data may take as JSON.
   * @default 65536
   */
  maxDataBytes?: number;
  /**
   * The time source, in epoch ms (inject a fake clock in tests).
   * @default Date.now
   */
  clock?: () => number;
  /**
   * A pino-compatible logger. Tessera never logs a token, a CSRF token or a password.
   * @default a silent logger
   */
  logger?: Logger;
  /** Event listeners, the same as calling `manager.on(name, listener)`. @default none */
  on?: SessionEventListeners;
  /** Phantom: carries the `Data` type. */
  readonly _data?: Data;
}

/**
 * The manager's option keys, listed once (the compiler checks the list against the interface):
 * any other key is an `UnknownOptionError` naming the nearest of these.
 */
export const MANAGER_KNOWN_KEYS = {
  store: true,
  idleTimeout: true,
  absoluteTimeout: true,
  maxIdleTimeout: true,
  maxAbsoluteTimeout: true,
  touchAfter: true,
  maxSessionsPerUser: true,
  csrf: true,
  bindUserAgent: true,
  ipChange: true,
  rateLimit: true,
  cleanupInterval: true,
  maxDataBytes: true,
  clock: true,
  logger: true,
  on: true,
} as const satisfies KnownKeys<Omit<SessionManagerOptions, '_data'>>;

/** The keys of `rateLimit: { … }`. */
export const RATE_LIMIT_KNOWN_KEYS = {
  maxAttempts: true,
  maxAttemptsPerIp: true,
  window: true,
  store: true,
} as const satisfies KnownKeys<RateLimitOptions>;

/** The event names `on: { … }` may hold. */
export const EVENT_KNOWN_KEYS = {
  created: true,
  rotated: true,
  terminated: true,
  evicted: true,
  expired: true,
  csrfRejected: true,
  rateLimited: true,
  storeError: true,
} as const satisfies KnownKeys<SessionEvents>;

const RATE = MANAGER_DEFAULTS.rateLimit;

const attemptsSchema = z.number().int('must be a whole number').min(1, 'must be at least 1');
const flagSchema = z.boolean({ message: 'must be true or false' });

const rateLimitSchema = z
  .union([
    z.literal(false),
    z.object({
      maxAttempts: attemptsSchema.default(RATE.maxAttempts),
      maxAttemptsPerIp: attemptsSchema.optional(),
      window: durationSchema().prefault(RATE.window),
      store: z.custom<RateLimitStore>(isRateLimitStore, 'must be a RateLimitStore').optional(),
    }),
  ])
  .prefault({})
  .transform((r) =>
    r === false
      ? false
      : { ...r, maxAttemptsPerIp: r.maxAttemptsPerIp ?? r.maxAttempts * RATE.ipAttemptsFactor },
  );

const managerSchema = z.object({
  idleTimeout: durationSchema().prefault(MANAGER_DEFAULTS.idleTimeout),
  absoluteTimeout: durationOrOffSchema().prefault(MANAGER_DEFAULTS.absoluteTimeout),
  // Their defaults depend on the timeouts: filled in by resolveManagerOptions.
  maxIdleTimeout: durationSchema().optional(),
  maxAbsoluteTimeout: durationOrOffSchema().optional(),
  touchAfter: durationSchema({ allowZero: true }).prefault(MANAGER_DEFAULTS.touchAfter),
  maxSessionsPerUser: z
    .number({ message: 'must be a number or null' })
    .int('must be a whole number')
    .min(1, 'must be at least 1 (or null for no limit)')
    .nullable()
    .default(MANAGER_DEFAULTS.maxSessionsPerUser),
  csrf: flagSchema.default(MANAGER_DEFAULTS.csrf),
  bindUserAgent: flagSchema.default(MANAGER_DEFAULTS.bindUserAgent),
  ipChange: z
    .enum(['allow', 'log', 'terminate'], { message: 'must be "allow", "log" or "terminate"' })
    .default(MANAGER_DEFAULTS.ipChange),
  rateLimit: rateLimitSchema,
  cleanupInterval: durationOrOffSchema({ max: MAX_TIMER_MS }).prefault(
    MANAGER_DEFAULTS.cleanupInterval,
  ),
  maxDataBytes: z
    .number()
    .int('must be a whole number')
    .min(2, 'must be at least 2')
    .default(MANAGER_DEFAULTS.maxDataBytes),
  clock: z.custom<() => number>(isFunction, 'must be a function returning epoch ms').optional(),
  store: z
    .custom<SessionStore>(
      isSessionStore,
      'must implement SessionStore (create, get, patch, destroy, …)',
    )
    .optional(),
  logger: z
    .custom<Logger>(isLogger, 'must be a pino-compatible logger (debug, info, warn, error)')
    .optional(),
  on: z
    .record(z.string(), z.custom<(e: unknown) => void>(isFunction, 'must be a function'))
    .optional(),
});

/** The options after checking: durations in ms, every default filled in except the stores. */
export type ManagerConfig = Omit<
  z.output<typeof managerSchema>,
  'maxIdleTimeout' | 'maxAbsoluteTimeout'
> & {
  maxIdleTimeout: number;
  /** `false`: no bound (sessions may be given no absolute lifetime). */
  maxAbsoluteTimeout: number | false;
};

/** The rate-limit settings after checking (`maxAttemptsPerIp` resolved). */
export type RateLimitConfig = Exclude<ManagerConfig['rateLimit'], false>;

/** Checks the options and fills in the defaults; a bad value throws `ConfigError` naming it. */
export function resolveManagerOptions(options: SessionManagerOptions<SessionData>): ManagerConfig {
  const where = 'createSessionManager()';
  rejectUnknownKeys(where, options, MANAGER_KNOWN_KEYS);
  rejectUnknownKeys(where, options?.rateLimit, RATE_LIMIT_KNOWN_KEYS, 'rateLimit');
  rejectUnknownKeys(where, options?.on, EVENT_KNOWN_KEYS, 'on');
  const parsed = parseConfig(managerSchema, options);
  const config: ManagerConfig = {
    ...parsed,
    maxIdleTimeout: parsed.maxIdleTimeout ?? defaultMaxIdle(parsed.idleTimeout),
    maxAbsoluteTimeout: parsed.maxAbsoluteTimeout ?? defaultMaxAbsolute(parsed.absoluteTimeout),
  };
  checkBounds(config);
  // The default only: a short idle timeout given alone should work, not trip over a default the
  // app never set. A touchAfter the app did set is checked as given.
  if (options.touchAfter === undefined && config.touchAfter >= config.idleTimeout)
    config.touchAfter = Math.floor(config.idleTimeout / 2);
  if (config.touchAfter >= config.idleTimeout) {
    throw new ConfigError(
      'touchAfter',
      `must be shorter than idleTimeout (${config.idleTimeout} ms)`,
    );
  }
  return config;
}

/** The default bound: `MANAGER_DEFAULTS.maxIdleTimeout`, or a longer `idleTimeout` the app set. */
function defaultMaxIdle(idleTimeout: number): number {
  return Math.max(parseDuration(MANAGER_DEFAULTS.maxIdleTimeout)!, idleTimeout);
}

/** The default bound: none without an absolute timeout, else the default or a longer one set. */
function defaultMaxAbsolute(absoluteTimeout: number | false): number | false {
  if (absoluteTimeout === false) return false;
  return Math.max(parseDuration(MANAGER_DEFAULTS.maxAbsoluteTimeout)!, absoluteTimeout);
}

/** The bounds set by the app must admit the manager's own timeouts. */
function checkBounds(config: ManagerConfig): void {
  if (config.maxIdleTimeout < config.idleTimeout)
    throw new ConfigError(
      'maxIdleTimeout',
      `must be at least idleTimeout (${config.idleTimeout} ms)`,
    );
  const max = config.maxAbsoluteTimeout;
  if (max === false) return;
  if (config.absoluteTimeout === false)
    throw new ConfigError(
      'maxAbsoluteTimeout',
      'must be false when absoluteTimeout is false (sessions without an absolute lifetime)',
    );
  if (max < config.absoluteTimeout)
    throw new ConfigError(
      'maxAbsoluteTimeout',
      `must be at least absoluteTimeout (${config.absoluteTimeout} ms)`,
    );
}
