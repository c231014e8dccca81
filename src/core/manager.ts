/**
 * The session manager: the policy layer. It issues tokens, applies timeouts, the per-user limit,
 * CSRF, rotation, hijack signals and login rate limits, and talks to backends only through the
 * `SessionStore` and `RateLimitStore` contracts.
 */
import { z } from 'zod';
import { createMemoryRateLimitStore, createMemoryStore } from '../stores/memory.js';
import { applyDataPatch, expiresAt } from '../stores/record.js';
import { ipKey, usernameKey } from './client-keys.js';
import { durationOrOffSchema, durationSchema, MAX_TIMER_MS, parseConfig } from './config.js';
import { parseDevice } from './device.js';
import type { Duration } from './duration.js';
import {
  ConfigError,
  DataTooLargeError,
  InvalidInputError,
  StoreError,
  TesseraError,
} from './errors.js';
import {
  SessionEventBus,
  type SessionEventListener,
  type SessionEventListeners,
  type SessionEventName,
} from './events.js';
import { describeError, type Logger, silentLogger } from './logger.js';
import { constantTimeEqual, generateToken, isWellFormedToken, sessionIdFor } from './tokens.js';
import type {
  HealthReport,
  MissReason,
  RateLimitStore,
  SessionData,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from './types.js';

export type IpChangePolicy = 'allow' | 'log' | 'terminate';

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
   * The last-activity time is written at most once per this interval, so most validations are
   * read-only. Must be shorter than `idleTimeout`.
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

/** A live session as the manager hands it out. `data` is typed by the manager's `Data`. */
export type Session<Data extends SessionData = SessionData> = SessionRecord<Data>;

/** What the "your devices" page shows: a session without its data or CSRF token. */
export type SessionSummary = Omit<SessionRecord, 'data' | 'csrf' | 'version'> & {
  expiresAt: number;
};

/** Where a request comes from, for hijack checks. */
export interface RequestInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export type ValidateReason = MissReason | 'malformed' | 'ua_mismatch' | 'ip_changed';

export type ValidateResult<Data extends SessionData> =
  | { session: Session<Data>; reason?: undefined }
  | {
      session: null;
      reason: ValidateReason;
      /** With `terminated`: why it ended (`admin`, `limit`, `logout`, …), where the store keeps it. */
      terminationReason?: TerminationReason;
    };

export interface CreateSessionInput<Data extends SessionData> {
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: Data;
}

export interface IssuedSession<Data extends SessionData> {
  /** Goes into the session cookie; never stored, never logged. */
  token: string;
  /** Goes into the readable CSRF cookie / the page. */
  csrfToken: string;
  session: Session<Data>;
  /** Ids of sessions evicted to respect the per-user limit. */
  evicted: string[];
}

export interface LoginAttempt {
  ip?: string | null;
  username?: string | null;
  /** A successful login clears both counters. */
  success?: boolean;
}

export interface LoginVerdict {
  /** Whether another attempt may be made now. */
  allowed: boolean;
  /** Failed attempts left before the limit (the smaller of the IP and username budgets). */
  remaining: number;
  /** When not allowed, how long until a counter resets. */
  retryAfterMs: number;
}

/** Operation counters since the manager was built (per process). */
export interface ManagerCounters {
  created: number;
  rotated: number;
  evicted: number;
  terminated: Partial<Record<TerminationReason, number>>;
  expired: number;
  csrfRejected: number;
  failedLogins: number;
  successfulLogins: number;
  rateLimited: number;
  storeErrors: number;
}

export interface ManagerStats {
  store: string;
  /** Counts over live sessions, or `null` where the store cannot count (Memcached, cookie). */
  sessions: StoreStats | null;
  counters: ManagerCounters;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const managerSchema = z.object({
  idleTimeout: durationSchema().default(30 * MINUTE),
  absoluteTimeout: durationOrOffSchema().default(12 * HOUR),
  touchAfter: durationSchema({ allowZero: true }).default(MINUTE),
  maxSessionsPerUser: z
    .number({ message: 'must be a number or null' })
    .int('must be a whole number')
    .min(1, 'must be at least 1 (or null for no limit)')
    .nullable()
    .default(5),
  csrf: z.boolean({ message: 'must be true or false' }).default(true),
  bindUserAgent: z.boolean({ message: 'must be true or false' }).default(false),
  ipChange: z
    .enum(['allow', 'log', 'terminate'], { message: 'must be "allow", "log" or "terminate"' })
    .default('log'),
  rateLimit: z
    .union([
      z.literal(false),
      z.object({
        maxAttempts: z
          .number()
          .int('must be a whole number')
          .min(1, 'must be at least 1')
          .default(5),
        maxAttemptsPerIp: z
          .number()
          .int('must be a whole number')
          .min(1, 'must be at least 1')
          .optional(),
        window: durationSchema().default(15 * MINUTE),
        store: z.custom<RateLimitStore>(isRateLimitStore, 'must be a RateLimitStore').optional(),
      }),
    ])
    .default({ maxAttempts: 5, window: 15 * MINUTE }),
  cleanupInterval: durationOrOffSchema({ max: MAX_TIMER_MS }).default(15 * MINUTE),
  maxDataBytes: z
    .number()
    .int('must be a whole number')
    .min(2, 'must be at least 2')
    .default(65_536),
  clock: z
    .custom<() => number>((v) => typeof v === 'function', 'must be a function returning epoch ms')
    .optional(),
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
    .record(
      z.string(),
      z.custom<(e: unknown) => void>((v) => typeof v === 'function', 'must be a function'),
    )
    .optional(),
});

function isSessionStore(v: unknown): v is SessionStore {
  const s = v as Partial<SessionStore> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    [
      'create',
      'get',
      'patch',
      'destroy',
      'destroyUser',
      'regenerate',
      'listUser',
      'cleanup',
      'health',
      'close',
    ].every((m) => typeof (s as Record<string, unknown>)[m] === 'function')
  );
}

function isRateLimitStore(v: unknown): v is RateLimitStore {
  const s = v as Record<string, unknown> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    ['hit', 'peek', 'reset'].every((m) => typeof s[m] === 'function')
  );
}

function isLogger(v: unknown): v is Logger {
  const s = v as Record<string, unknown> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    ['debug', 'info', 'warn', 'error'].every((m) => typeof s[m] === 'function')
  );
}

/** With the `u` flag a paired surrogate is one code point, so only a lone one matches. */
const LONE_SURROGATE = /\p{Cs}/u;

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Summary without data or CSRF token, for device lists and admin tables. */
export function summarize(record: SessionRecord): SessionSummary {
  const { data: _data, csrf: _csrf, version: _version, ...rest } = record;
  return { ...rest, expiresAt: expiresAt(record) };
}

export type SessionManager<Data extends SessionData = SessionData> = ReturnType<
  typeof createSessionManager<Data>
>;

/**
 * Builds a session manager. Options are validated at once: a bad value throws `ConfigError`
 * naming the field.
 */
export function createSessionManager<Data extends SessionData = SessionData>(
  options: SessionManagerOptions<Data> = {},
) {
  const config = parseConfig(managerSchema, options);
  if (config.touchAfter >= config.idleTimeout) {
    throw new ConfigError(
      'touchAfter',
      `must be shorter than idleTimeout (${config.idleTimeout} ms)`,
    );
  }
  const store = config.store ?? createMemoryStore();
  const ownsStore = config.store === undefined;
  const clock = config.clock ?? Date.now;
  const logger = config.logger ?? silentLogger;
  const rateLimit = config.rateLimit === false ? null : config.rateLimit;
  const limiter = rateLimit ? (rateLimit.store ?? createMemoryRateLimitStore()) : null;
  const ownsLimiter = rateLimit !== null && rateLimit.store === undefined;
  const maxPerIp = rateLimit ? (rateLimit.maxAttemptsPerIp ?? rateLimit.maxAttempts * 4) : 0;
  const touchPolicy: TouchPolicy = {
    touchAfter: config.touchAfter,
    idleTimeout: config.idleTimeout,
  };
  const events = new SessionEventBus(logger);
  for (const [name, listener] of Object.entries(config.on ?? {})) {
    events.on(name as SessionEventName, listener as SessionEventListener<SessionEventName>);
  }

  const counters: ManagerCounters = {
    created: 0,
    rotated: 0,
    evicted: 0,
    terminated: {},
    expired: 0,
    csrfRejected: 0,
    failedLogins: 0,
    successfulLogins: 0,
    rateLimited: 0,
    storeErrors: 0,
  };

  /** Runs a store call; a failure is counted, logged and emitted, then re-thrown as a typed error. */
  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      counters.storeErrors++;
      logger.error(
        { store: store.name, operation, err: describeError(err) },
        'tessera: store operation failed',
      );
      events.emit('storeError', { operation, error: err });
      if (err instanceof TesseraError) throw err;
      throw new StoreError(
        store.name,
        `${operation} failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  function ended(id: string, userId: string | null, reason: TerminationReason): void {
    counters.terminated[reason] = (counters.terminated[reason] ?? 0) + 1;
    events.emit('terminated', { id, userId, reason });
    logger.info({ sessionId: id, userId, reason }, 'tessera: session terminated');
  }

  function reportEvicted(evicted: string[], userId: string | null): void {
    for (const id of evicted) {
      counters.evicted++;
      events.emit('evicted', { id, userId });
      ended(id, userId, 'limit');
    }
  }

  /**
   * User ids and top-level data keys must survive every backend unchanged: UTF-8 stores (Redis,
   * SQL) turn a lone surrogate into U+FFFD, which would merge two users' ids; PostgreSQL refuses NUL.
   */
  function checkInput(userId: string | null | undefined, keys: Iterable<string>): void {
    if (typeof userId === 'string') {
      if (LONE_SURROGATE.test(userId))
        throw new InvalidInputError('userId', 'is not well-formed Unicode (a lone surrogate)');
      if (userId.includes('\u0000'))
        throw new InvalidInputError('userId', 'contains a NUL character');
    }
    for (const key of keys)
      if (LONE_SURROGATE.test(key))
        throw new InvalidInputError('data key', 'is not well-formed Unicode (a lone surrogate)');
  }

  function checkDataSize(data: unknown): void {
    const bytes = jsonBytes(data);
    if (bytes > config.maxDataBytes) throw new DataTooLargeError(bytes, config.maxDataBytes);
  }

  function newRecord(
    input: CreateSessionInput<Data>,
    now: number,
    createdAt = now,
    absolute?: number | null,
  ) {
    const absoluteExpiresAt =
      absolute !== undefined
        ? absolute
        : config.absoluteTimeout === false
          ? null
          : now + config.absoluteTimeout;
    const idle = now + config.idleTimeout;
    const userAgent = input.userAgent ?? null;
    const record: SessionRecord<Data> = {
      id: '',
      userId: input.userId ?? null,
      data: (input.data ?? {}) as Data,
      createdAt,
      lastSeenAt: now,
      idleExpiresAt: absoluteExpiresAt === null ? idle : Math.min(idle, absoluteExpiresAt),
      absoluteExpiresAt,
      ip: input.ip ?? null,
      userAgent,
      device: parseDevice(userAgent),
      csrf: config.csrf ? generateToken() : '',
      version: 1,
    };
    const token = generateToken();
    record.id = sessionIdFor(token);
    return { token, record };
  }

  let cleanupTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const manager = {
    /** The store this manager uses. */
    store,
    /** The resolved timeouts and limits (ms). */
    settings: {
      idleTimeout: config.idleTimeout,
      absoluteTimeout: config.absoluteTimeout,
      touchAfter: config.touchAfter,
      maxSessionsPerUser: config.maxSessionsPerUser,
      csrf: config.csrf,
      maxDataBytes: config.maxDataBytes,
    },

    /** Subscribe to an event; returns a function that unsubscribes. */
    on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void {
      return events.on(name, listener);
    },

    /** Starts a session. Enforces the per-user limit atomically; evicted ids are reported. */
    async create(input: CreateSessionInput<Data> = {}): Promise<IssuedSession<Data>> {
      checkInput(input.userId, Object.keys(input.data ?? {}));
      checkDataSize(input.data ?? {});
      const now = clock();
      const { token, record } = newRecord(input, now);
      const { evicted } = await call('create', () =>
        store.create(record, { maxSessionsPerUser: config.maxSessionsPerUser, now }),
      );
      counters.created++;
      events.emit('created', { id: record.id, userId: record.userId, evicted });
      reportEvicted(evicted, record.userId);
      return { token, csrfToken: record.csrf, session: record, evicted };
    },

    /**
     * Looks up the session for a token. Returns the session, or `null` with the reason. Malformed
     * tokens never reach the store. Slides the idle timeout, writing at most once per `touchAfter`.
     */
    async validate(token: unknown, request: RequestInfo = {}): Promise<ValidateResult<Data>> {
      if (!isWellFormedToken(token)) return { session: null, reason: 'malformed' };
      const id = sessionIdFor(token);
      const now = clock();
      const found = await call('get', () => store.get(id, now, touchPolicy));
      if (!found.record) {
        if (found.reason === 'expired_idle' || found.reason === 'expired_absolute') {
          counters.expired++;
          events.emit('expired', { id, reason: found.reason, count: 1 });
        }
        return found.terminationReason
          ? { session: null, reason: found.reason, terminationReason: found.terminationReason }
          : { session: null, reason: found.reason };
      }
      const session = found.record as Session<Data>;
      if (config.bindUserAgent && (request.userAgent ?? null) !== session.userAgent) {
        await manager.terminate(id, 'hijack');
        logger.warn(
          { sessionId: id, userId: session.userId },
          'tessera: user agent changed; session terminated',
        );
        return { session: null, reason: 'ua_mismatch' };
      }
      if (request.ip && session.ip && request.ip !== session.ip && config.ipChange !== 'allow') {
        if (config.ipChange === 'terminate') {
          await manager.terminate(id, 'hijack');
          logger.warn(
            { sessionId: id, userId: session.userId },
            'tessera: IP changed; session terminated',
          );
          return { session: null, reason: 'ip_changed' };
        }
        logger.warn(
          { sessionId: id, userId: session.userId, from: session.ip, to: request.ip },
          'tessera: session used from another IP',
        );
      }
      return { session };
    },

    /**
     * Applies a delta to a live session's data (keys set and removed); concurrent deltas on other
     * keys are kept. Returns the updated session, or `null` if it is no longer live.
     */
    async update(
      session: Session<Data> | string,
      patch: { set?: Partial<Data>; unset?: (keyof Data & string)[] },
    ): Promise<Session<Data> | null> {
      const id = typeof session === 'string' ? session : session.id;
      checkInput(null, [...Object.keys(patch.set ?? {}), ...(patch.unset ?? [])]);
      const storePatch: SessionPatch = {
        set: patch.set as SessionData | undefined,
        unset: patch.unset,
      };
      checkDataSize(
        typeof session === 'string' ? (patch.set ?? {}) : applyDataPatch(session.data, storePatch),
      );
      const now = clock();
      return (await call('patch', () => store.patch(id, storePatch, now))) as Session<Data> | null;
    },

    /** Whether `token` is the session's CSRF token, compared in constant time. */
    verifyCsrf(session: Session<Data>, token: unknown): boolean {
      const ok =
        typeof token === 'string' && session.csrf !== '' && constantTimeEqual(session.csrf, token);
      if (!ok) {
        counters.csrfRejected++;
        events.emit('csrfRejected', { id: session.id });
        logger.warn({ sessionId: session.id }, 'tessera: CSRF token rejected');
      }
      return ok;
    },

    /** Issues a new CSRF token for the session; returns it, or `null` if the session is gone. */
    async rotateCsrf(session: Session<Data> | string): Promise<string | null> {
      const id = typeof session === 'string' ? session : session.id;
      const csrf = generateToken();
      const now = clock();
      const updated = await call('patch', () => store.patch(id, { csrf }, now));
      return updated ? csrf : null;
    },

    /**
     * Fixation defence: moves the session to a new token and terminates the old one atomically.
     * With a new `userId` (login) the session starts afresh (new creation time and absolute
     * lifetime) and the per-user limit applies; otherwise creation time and absolute expiry carry
     * over, so regenerating never extends a session's life. Returns `null` if the old session is
     * not live.
     */
    async regenerate(
      token: string,
      options: { userId?: string | null } & RequestInfo = {},
    ): Promise<IssuedSession<Data> | null> {
      if (!isWellFormedToken(token)) return null;
      checkInput(options.userId, []);
      const oldId = sessionIdFor(token);
      const now = clock();
      const found = await call('get', () => store.get(oldId, now));
      if (!found.record) return null;
      const old = found.record as Session<Data>;
      const userId = options.userId !== undefined ? options.userId : old.userId;
      const login = userId !== old.userId;
      const { token: newToken, record } = newRecord(
        {
          userId,
          data: old.data,
          ip: options.ip !== undefined ? options.ip : old.ip,
          userAgent: options.userAgent !== undefined ? options.userAgent : old.userAgent,
        },
        now,
        login ? now : old.createdAt,
        login ? undefined : old.absoluteExpiresAt,
      );
      const result = await call('regenerate', () =>
        store.regenerate(oldId, record, { maxSessionsPerUser: config.maxSessionsPerUser, now }),
      );
      if (!result.ok) return null;
      counters.rotated++;
      events.emit('rotated', { oldId, newId: record.id, userId });
      ended(oldId, old.userId, 'rotated');
      reportEvicted(result.evicted, userId);
      return { token: newToken, csrfToken: record.csrf, session: record, evicted: result.evicted };
    },

    /** Ends one session by id. Returns whether it was live. */
    async terminate(id: string, reason: TerminationReason = 'logout'): Promise<boolean> {
      const now = clock();
      const lookup = await call('get', () => store.get(id, now));
      const done = await call('destroy', () => store.destroy(id, reason, now));
      if (done) ended(id, lookup.record?.userId ?? null, reason);
      return done;
    },

    /** Logs a user out everywhere, or everywhere but `exceptId` (after a password change). */
    async terminateUser(
      userId: string,
      options: { exceptId?: string; reason?: TerminationReason } = {},
    ): Promise<string[]> {
      checkInput(userId, []);
      const reason = options.reason ?? 'logout-all';
      const now = clock();
      const ids = await call('destroyUser', () =>
        store.destroyUser(userId, { exceptId: options.exceptId, reason, now }),
      );
      for (const id of ids) ended(id, userId, reason);
      return ids;
    },

    /** A user's live sessions with device, IP and times, most recently active first. */
    async listUserSessions(userId: string): Promise<SessionSummary[]> {
      checkInput(userId, []);
      const now = clock();
      const records = await call('listUser', () => store.listUser(userId, now));
      return records.map(summarize);
    },

    /**
     * Checks a login attempt against the limits without counting it; call before verifying a
     * password so a blocked client does not even get the check.
     */
    async checkLoginAttempt(attempt: Omit<LoginAttempt, 'success'>): Promise<LoginVerdict> {
      if (!rateLimit || !limiter)
        return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0 };
      const now = clock();
      const [ip, user] = await Promise.all(
        loginKeys(attempt).map((key) =>
          key ? call('rateLimit.peek', () => limiter.peek(key, now)) : null,
        ),
      );
      return verdict(ip ?? null, user ?? null, now, attempt);
    },

    /**
     * Records a login attempt: a failure counts against the IP and the username, a success clears
     * both. Returns whether another attempt is allowed now.
     */
    async trackLoginAttempt(attempt: LoginAttempt): Promise<LoginVerdict> {
      if (!rateLimit || !limiter)
        return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0 };
      const keys = loginKeys(attempt);
      if (attempt.success) {
        counters.successfulLogins++;
        await Promise.all(
          keys.map((key) => (key ? call('rateLimit.reset', () => limiter.reset(key)) : null)),
        );
        return { allowed: true, remaining: rateLimit.maxAttempts, retryAfterMs: 0 };
      }
      counters.failedLogins++;
      const now = clock();
      const [ip, user] = await Promise.all(
        keys.map((key) =>
          key ? call('rateLimit.hit', () => limiter.hit(key, rateLimit.window, now)) : null,
        ),
      );
      return verdict(ip ?? null, user ?? null, now, attempt);
    },

    /** Removes expired sessions now; returns how many. */
    async cleanup(): Promise<number> {
      const now = clock();
      const count = await call('cleanup', () => store.cleanup(now));
      if (count > 0) {
        counters.expired += count;
        events.emit('expired', { reason: 'cleanup', count });
        logger.info({ store: store.name, count }, 'tessera: expired sessions removed');
      }
      return count;
    },

    /** Counts for dashboards: live sessions by device (where the store can count) and counters. */
    async stats(): Promise<ManagerStats> {
      const now = clock();
      const sessions =
        store.capabilities.stats && store.stats
          ? await call('stats', () => store.stats!(now))
          : null;
      return { store: store.name, sessions, counters: structuredClone(counters) };
    },

    /** The store's health; never throws. */
    async health(): Promise<HealthReport> {
      try {
        return await store.health();
      } catch (err) {
        return { ok: false, store: store.name, detail: describeError(err).message as string };
      }
    },

    /** Stops the cleanup timer and closes the stores this manager created itself. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (cleanupTimer) clearInterval(cleanupTimer);
      if (ownsStore) await store.close();
      if (ownsLimiter && limiter) await limiter.close();
    },
  };

  function loginKeys(attempt: Omit<LoginAttempt, 'success'>): [string | null, string | null] {
    return [
      attempt.ip ? `ip:${ipKey(attempt.ip)}` : null,
      attempt.username ? `user:${usernameKey(attempt.username)}` : null,
    ];
  }

  function verdict(
    ip: { count: number; resetAt: number } | null,
    user: { count: number; resetAt: number } | null,
    now: number,
    attempt: Omit<LoginAttempt, 'success'>,
  ): LoginVerdict {
    const max = rateLimit!.maxAttempts;
    const ipLeft = maxPerIp - (ip?.count ?? 0);
    const userLeft = max - (user?.count ?? 0);
    const remaining = Math.max(0, Math.min(ipLeft, userLeft));
    if (remaining > 0) return { allowed: true, remaining, retryAfterMs: 0 };
    const blocking = [ip && ipLeft <= 0 ? ip.resetAt : 0, user && userLeft <= 0 ? user.resetAt : 0];
    const retryAfterMs = Math.max(0, Math.max(...blocking) - now);
    counters.rateLimited++;
    const event = {
      ip: attempt.ip ? ipKey(attempt.ip) : null,
      username: attempt.username ? usernameKey(attempt.username) : null,
      retryAfterMs,
    };
    events.emit('rateLimited', event);
    logger.warn(event, 'tessera: login attempts rate-limited');
    return { allowed: false, remaining: 0, retryAfterMs };
  }

  if (config.cleanupInterval !== false) {
    cleanupTimer = setInterval(() => {
      manager.cleanup().catch(() => {
        // Already counted, logged and emitted as storeError by call(); the next tick tries again.
      });
    }, config.cleanupInterval);
    cleanupTimer.unref();
  }

  return manager;
}
