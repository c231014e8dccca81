/**
 * The session manager's lifecycle: issuing, validating, updating, rotating and ending sessions,
 * with timeouts, the per-user limit, CSRF and hijack signals. It reaches backends only through the
 * `SessionStore` and `RateLimitStore` contracts and imports no store: the stores to use when the
 * options name none are handed in (the package entry passes the in-memory ones).
 */
import { checkCallOptions } from './call-options.js';
import { canonicalIp } from './client-keys.js';
import { carriedData, checkKeepData } from './data-carry.js';
import { DataTooLargeError } from './errors.js';
import { SessionEventBus, type SessionEventListener, type SessionEventName } from './events.js';
import { checkData, checkDataSize, checkInput, checkRequestInfo } from './input-checks.js';
import { describeError, silentLogger } from './logger.js';
import { createLoginLimiter, unlimitedLogins } from './login-limiter.js';
import type { ManagerCounters, Session, SessionManager } from './manager-api.js';
import { resolveManagerOptions, type SessionManagerOptions } from './manager-options.js';
import { newRecord } from './new-record.js';
import { checkTimeouts, createSettings, regenerateSettings } from './session-timeouts.js';
import { guardRateLimitStore, guardStore } from './store-calls.js';
import { summarize } from './summary.js';
import { constantTimeEqual, generateToken, isWellFormedToken, sessionIdFor } from './tokens.js';
import type {
  RateLimitStore,
  SessionData,
  SessionPatch,
  SessionStore,
  TerminationReason,
  TouchPolicy,
} from './types.js';

/**
 * Builds the stores a manager uses when its options name none. The manager owns what these build
 * and closes it on `close()`; a store passed in the options stays open.
 */
export interface DefaultStores {
  sessionStore(): SessionStore;
  rateLimitStore(): RateLimitStore;
}

export { summarize } from './summary.js';

/**
 * Builds a session manager over `defaults` for the stores the options do not name. Options are
 * validated at once: a bad value throws `ConfigError` naming the field. Applications call the
 * package entry's `createSessionManager`, which supplies the in-memory stores.
 */
export function createSessionManagerWith<Data extends SessionData = SessionData>(
  defaults: DefaultStores,
  options: SessionManagerOptions<Data> = {},
): SessionManager<Data> {
  const resolved = resolveManagerOptions(options);
  const store = resolved.store ?? defaults.sessionStore();
  // New ids are drawn to fit their user where the store places sessions by id (Redis buckets).
  const config = store.idFitsUser
    ? { ...resolved, idFits: (id: string, userId: string) => store.idFitsUser!(id, userId) }
    : resolved;
  const ownsStore = resolved.store === undefined;
  const clock = config.clock ?? Date.now;
  const logger = config.logger ?? silentLogger;
  const rateLimit = config.rateLimit === false ? null : config.rateLimit;
  const limiterStore = rateLimit ? (rateLimit.store ?? defaults.rateLimitStore()) : null;
  const ownsLimiterStore = rateLimit !== null && rateLimit.store === undefined;
  // A session keeps its own idle window; the policy caps it at the longest the manager allows.
  const touchPolicy: TouchPolicy = {
    touchAfter: config.touchAfter,
    idleTimeout: config.maxIdleTimeout,
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

  /** A failed store call is counted, logged and emitted; the guard then re-throws it typed. */
  function reportStoreFailure(operation: string, err: unknown): void {
    counters.storeErrors++;
    logger.error(
      { store: store.name, operation, err: describeError(err) },
      'tessera: store operation failed',
    );
    events.emit('storeError', { operation, error: err });
  }

  const sessions = guardStore(store, reportStoreFailure);
  const logins =
    rateLimit && limiterStore
      ? createLoginLimiter(
          rateLimit,
          guardRateLimitStore(limiterStore, store.name, reportStoreFailure),
          clock,
          {
            recorded(success) {
              if (success) counters.successfulLogins++;
              else counters.failedLogins++;
            },
            refused(event) {
              counters.rateLimited++;
              events.emit('rateLimited', event);
              logger.warn(event, 'tessera: login attempts rate-limited');
            },
          },
        )
      : unlimitedLogins();

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

  /** `checkDataSize`, with the refusal logged: a write refused for its size is worth a warning. */
  function sizeChecked(id: string | null, data: SessionData): void {
    try {
      checkDataSize(data, config.maxDataBytes);
    } catch (err) {
      if (err instanceof DataTooLargeError)
        logger.warn(
          { sessionId: id, bytes: err.bytes, limit: err.limit },
          'tessera: session data over maxDataBytes; the write was refused',
        );
      throw err;
    }
  }

  let cleanupTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const manager: SessionManager<Data> = {
    store,
    settings: {
      idleTimeout: config.idleTimeout,
      absoluteTimeout: config.absoluteTimeout,
      maxIdleTimeout: config.maxIdleTimeout,
      maxAbsoluteTimeout: config.maxAbsoluteTimeout,
      touchAfter: config.touchAfter,
      maxSessionsPerUser: config.maxSessionsPerUser,
      csrf: config.csrf,
      maxDataBytes: config.maxDataBytes,
    },

    now() {
      return clock();
    },

    on(name, listener) {
      return events.on(name, listener);
    },

    async create(input = {}) {
      checkCallOptions('create', input);
      checkInput(input.userId, []);
      checkRequestInfo(input);
      checkData(input.data ?? {});
      const own = checkTimeouts(config, input);
      sizeChecked(null, input.data ?? {});
      const now = clock();
      const { token, record } = newRecord<Data>(createSettings(config, own), input, now);
      const { evicted } = await sessions.create(record, {
        maxSessionsPerUser: config.maxSessionsPerUser,
        now,
      });
      counters.created++;
      events.emit('created', { id: record.id, userId: record.userId, evicted });
      reportEvicted(evicted, record.userId);
      return { token, csrfToken: record.csrf, session: record, evicted };
    },

    async validate(token, request = {}) {
      checkCallOptions('validate', request);
      if (!isWellFormedToken(token)) return { session: null, reason: 'malformed' };
      // `touch: false` reads only: no touch, and a failed hijack check ends nothing.
      const writes = request.touch !== false;
      const id = sessionIdFor(token);
      const now = clock();
      const found = await sessions.get(id, now, writes ? touchPolicy : undefined);
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
      if (
        config.bindUserAgent &&
        (writes || request.userAgent !== undefined) &&
        (request.userAgent ?? null) !== session.userAgent
      ) {
        if (!writes) return { session: null, reason: 'ua_mismatch' };
        await manager.terminate(id, 'hijack');
        logger.warn(
          { sessionId: id, userId: session.userId },
          'tessera: user agent changed; session terminated',
        );
        return { session: null, reason: 'ua_mismatch' };
      }
      if (
        request.ip &&
        session.ip &&
        config.ipChange !== 'allow' &&
        canonicalIp(request.ip) !== canonicalIp(session.ip)
      ) {
        if (config.ipChange === 'terminate') {
          if (!writes) return { session: null, reason: 'ip_changed' };
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

    async update(session, patch) {
      const id = typeof session === 'string' ? session : session.id;
      checkInput(null, [...Object.keys(patch.set ?? {}), ...(patch.unset ?? [])]);
      checkData(patch.set ?? {});
      // The limit is checked by the store on the data it holds after the patch, inside its atomic
      // step: concurrent updates cannot together exceed it. The keys set are part of that result,
      // so a patch whose own values are over the limit is refused here without a round trip.
      const storePatch: SessionPatch = {
        set: patch.set as SessionData | undefined,
        unset: patch.unset,
        maxDataBytes: config.maxDataBytes,
      };
      sizeChecked(id, storePatch.set ?? {});
      const now = clock();
      return (await sessions.patch(id, storePatch, now)) as Session<Data> | null;
    },

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

    async rotateCsrf(session) {
      const id = typeof session === 'string' ? session : session.id;
      const csrf = generateToken();
      const now = clock();
      const updated = await sessions.patch(id, { csrf }, now);
      return updated ? csrf : null;
    },

    async regenerate(token, options = {}) {
      checkCallOptions('regenerate', options);
      if (!isWellFormedToken(token)) return null;
      checkInput(options.userId, []);
      checkRequestInfo(options);
      const keepData = checkKeepData(options.keepData);
      const own = checkTimeouts(config, options);
      const oldId = sessionIdFor(token);
      const now = clock();
      const found = await sessions.get(oldId, now);
      if (!found.record) return null;
      const old = found.record as Session<Data>;
      const userId = options.userId !== undefined ? options.userId : old.userId;
      const login = userId !== old.userId;
      const { settings, absolute } = regenerateSettings(config, own, old, login, now);
      const { token: newToken, record } = newRecord<Data>(
        settings,
        {
          userId,
          data: carriedData(old.data, old.userId, userId, keepData),
          ip: options.ip !== undefined ? options.ip : old.ip,
          userAgent: options.userAgent !== undefined ? options.userAgent : old.userAgent,
        },
        now,
        login ? now : old.createdAt,
        absolute,
      );
      const result = await sessions.regenerate(oldId, record, {
        maxSessionsPerUser: config.maxSessionsPerUser,
        now,
      });
      if (!result.ok) return null;
      counters.rotated++;
      events.emit('rotated', { oldId, newId: record.id, userId });
      ended(oldId, old.userId, 'rotated');
      reportEvicted(result.evicted, userId);
      return { token: newToken, csrfToken: record.csrf, session: record, evicted: result.evicted };
    },

    async isLive(id) {
      return (await sessions.get(id, clock())).record !== null;
    },

    async terminate(id, reason = 'logout') {
      // One round trip: destroy answers the owner of the session it ended.
      const owner = await sessions.destroy(id, reason, clock());
      if (owner) ended(id, owner.userId, reason);
      return owner !== null;
    },

    async terminateUser(userId, options = {}) {
      checkCallOptions('terminateUser', options);
      checkInput(userId, []);
      const reason = options.reason ?? 'logout-all';
      const now = clock();
      const ids = await sessions.destroyUser(userId, { exceptId: options.exceptId, reason, now });
      for (const id of ids) ended(id, userId, reason);
      return ids;
    },

    async listUserSessions(userId) {
      checkInput(userId, []);
      const now = clock();
      const records = await sessions.listUser(userId, now);
      return records.map(summarize);
    },

    async attemptLogin(attempt, verify) {
      checkCallOptions('attemptLogin', attempt);
      const consumed = await logins.consume(attempt);
      if (!consumed.verdict.allowed)
        return { ok: false, reason: 'rate_limited', retryAfterMs: consumed.verdict.retryAfterMs };
      const userId = await verify();
      if (!userId) {
        const after = consumed.failed();
        return after.allowed
          ? { ok: false, reason: 'invalid', remaining: after.remaining }
          : { ok: false, reason: 'rate_limited', retryAfterMs: after.retryAfterMs };
      }
      await consumed.succeeded();
      return { ok: true, userId };
    },

    async checkLoginAttempt(attempt) {
      checkCallOptions('checkLoginAttempt', attempt);
      return logins.check(attempt);
    },

    async trackLoginAttempt(attempt) {
      checkCallOptions('trackLoginAttempt', attempt);
      return logins.track(attempt);
    },

    async cleanup() {
      const now = clock();
      const count = await sessions.cleanup(now);
      if (count > 0) {
        counters.expired += count;
        events.emit('expired', { reason: 'cleanup', count });
        logger.info({ store: store.name, count }, 'tessera: expired sessions removed');
      }
      return count;
    },

    async stats() {
      const now = clock();
      const counts = store.capabilities.stats && store.stats ? await sessions.stats(now) : null;
      return { store: store.name, sessions: counts, counters: structuredClone(counters) };
    },

    async health() {
      try {
        return await store.health();
      } catch (err) {
        return { ok: false, store: store.name, detail: describeError(err).message as string };
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (cleanupTimer) clearInterval(cleanupTimer);
      if (ownsStore) await store.close();
      if (ownsLimiterStore && limiterStore) await limiterStore.close();
    },
  };

  if (config.cleanupInterval !== false) {
    cleanupTimer = setInterval(() => {
      manager.cleanup().catch(() => {
        // Already counted, logged and emitted as storeError by the store guard; the next tick tries again.
      });
    }, config.cleanupInterval);
    cleanupTimer.unref();
  }

  return manager;
}
