/**
 * `tessera-session/express-session`: an express-session `Store` over any Tessera `SessionStore`, so an
 * existing express-session app switches to Redis, SQL, Memcached, … without other changes. The
 * express-session id is hashed (SHA-256) into the record id, as Tessera does with its own tokens,
 * so a copy of the store cannot be replayed as cookies; the session object is the record's data.
 *
 * It behaves as express-session's own MemoryStore does, on every backend:
 * - `set` stores the session whatever the id held before (a destroyed, cleared or expired id is
 *   stored again), re-reads the owner (`userIdOf`) and moves the session between user indexes;
 * - `set` or `touch` with a cookie whose expiry is at or before now destroys the session;
 * - `touch` writes the new cookie (its `expires`/`maxAge`) and slides the record's expiry to it;
 * - callbacks run outside any promise chain, so an exception thrown in one is an uncaught
 *   exception, as with MemoryStore, never a swallowed rejection and a hung request.
 */
import session from 'express-session';
import { parseDevice } from '../core/device.js';
import { ConfigError, NotSupportedError } from '../core/errors.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import { sessionIdFor } from '../core/tokens.js';
import type { JsonValue, SessionRecord, SessionStore } from '../core/types.js';

type SessionData = session.SessionData;
type Callback<T = void> = (err?: unknown, value?: T) => void;

/** What `all()` answers: each stored session with `id`, its Tessera session id. */
export type StoredSession = SessionData & {
  /** The Tessera session id: the SHA-256 (hex) of the express-session id, which is never stored. */
  id: string;
};

/** TesseraStore's defaults: each option's `@default` names its entry here. */
export const TESSERA_STORE_DEFAULTS = {
  ttl: 86_400_000,
} as const;

export interface TesseraStoreOptions {
  /** The Tessera store that holds the sessions. */
  store: SessionStore;
  /**
   * Lifetime of a session whose cookie has no expiry (a browser-session cookie), in ms.
   * @default TESSERA_STORE_DEFAULTS.ttl (one day)
   */
  ttl?: number;
  /**
   * Which user a session belongs to, for "your devices" lists and per-user logout through the
   * Tessera store. Read on every `set()`: a session that gains or loses a user moves between the
   * users' lists. @default the session's `userId` field when it is a string, else anonymous
   */
  userIdOf?: (sess: SessionData) => string | null;
  /** The time source in epoch ms. @default Date.now */
  clock?: () => number;
}

/** TesseraStore's option keys. */
export const TESSERA_STORE_KNOWN_KEYS = {
  store: true,
  ttl: true,
  userIdOf: true,
  clock: true,
} as const satisfies KnownKeys<TesseraStoreOptions>;

/** Sessions read per `list` call by `all()` and `clear()`. */
const PAGE = 500;

export class TesseraStore extends session.Store {
  readonly store: SessionStore;
  readonly #ttl: number;
  readonly #userIdOf: (sess: SessionData) => string | null;
  readonly #clock: () => number;

  constructor(options: TesseraStoreOptions) {
    super();
    rejectUnknownKeys('new TesseraStore()', options, TESSERA_STORE_KNOWN_KEYS);
    if (!options?.store) throw new ConfigError('store', 'is required: a Tessera SessionStore');
    this.store = options.store;
    this.#ttl = options.ttl ?? TESSERA_STORE_DEFAULTS.ttl;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 1)
      throw new ConfigError('ttl', 'must be a positive number of milliseconds');
    this.#userIdOf =
      options.userIdOf ??
      ((sess) => {
        const id = (sess as { userId?: unknown }).userId;
        return typeof id === 'string' ? id : null;
      });
    this.#clock = options.clock ?? Date.now;
  }

  /** When the session ends: its cookie's expiry (possibly past), else `ttl` from now. */
  #expiry(sess: SessionData, now: number): number {
    const expires = sess.cookie?.expires;
    const at = expires ? new Date(expires).getTime() : Number.NaN;
    return Number.isFinite(at) ? at : now + this.#ttl;
  }

  override get(sid: string, callback: Callback<SessionData | null>): void {
    run(callback, async () => {
      const found = await this.store.get(sessionIdFor(sid), this.#clock());
      // A copy: express-session mutates what it gets, and stores may hand out frozen data.
      return found.record ? (structuredClone(found.record.data) as unknown as SessionData) : null;
    });
  }

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    run(callback, async () => {
      const now = this.#clock();
      const id = sessionIdFor(sid);
      const expiresAt = this.#expiry(sess, now);
      if (expiresAt <= now) {
        await this.store.destroy(id, 'timeout', now);
        return;
      }
      const data = plain(sess);
      const userId = this.#userIdOf(sess);
      // A live session is replaced whole, its owner moved, in one atomic patch: of concurrent sets
      // one is stored as it was given, never a mix of them.
      if (await this.store.patch(id, { set: data, replace: true, userId }, now)) {
        await this.#slide(id, expiresAt, now);
        return;
      }
      // None is live (new, destroyed, cleared or expired): stored again, as MemoryStore does.
      const record: SessionRecord = {
        id,
        userId,
        data,
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: expiresAt,
        absoluteExpiresAt: null,
        ip: null,
        userAgent: null,
        device: parseDevice(null),
        csrf: '',
        version: 1,
      };
      // A create replaces whatever the id held, so concurrent first saves of one id never fail.
      await this.store.create(record, { maxSessionsPerUser: null, now });
    });
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    run(callback as Callback | undefined, async () => {
      const now = this.#clock();
      const id = sessionIdFor(sid);
      const expiresAt = this.#expiry(sess, now);
      if (expiresAt <= now) {
        await this.store.destroy(id, 'timeout', now);
        return;
      }
      // The new cookie is part of the session `get` returns; a session that is gone stays gone.
      const cookie = plain({ cookie: sess.cookie } as unknown as SessionData).cookie;
      if (cookie === undefined) return this.#slide(id, expiresAt, now);
      if (await this.store.patch(id, { set: { cookie } }, now))
        await this.#slide(id, expiresAt, now);
    });
  }

  override destroy(sid: string, callback?: Callback): void {
    run(callback, async () => {
      await this.store.destroy(sessionIdFor(sid), 'logout', this.#clock());
    });
  }

  /**
   * Every live session of the backing store, as an array (express-session's documented shape, as
   * connect-redis answers), each with `id`: the Tessera session id, because the express-session
   * id itself is never stored. Pass that id to the Tessera store (`destroy`) or the admin tools.
   */
  override all(callback: Callback<StoredSession[]>): void {
    run(callback, async () => {
      const out: StoredSession[] = [];
      for await (const record of this.#records())
        out.push({ ...(structuredClone(record.data) as unknown as SessionData), id: record.id });
      return out;
    });
  }

  override length(callback: Callback<number>): void {
    run(callback, async () => (await this.#list(0, 1)).total);
  }

  override clear(callback?: Callback): void {
    run(callback, async () => {
      const now = this.#clock();
      // Destroying while paging shifts the pages, so always take the first page until none is left.
      for (;;) {
        const { sessions } = await this.#list(0, PAGE);
        if (sessions.length === 0) return;
        await Promise.all(sessions.map((s) => this.store.destroy(s.id, 'admin', now)));
      }
    });
  }

  /** Moves the idle expiry to `expiresAt` (a touch with `idleTimeout = expiresAt - now`). */
  async #slide(id: string, expiresAt: number, now: number): Promise<void> {
    await this.store.get(id, now, {
      touchAfter: 0,
      idleTimeout: Math.max(1, expiresAt - now),
      setWindow: true,
    });
  }

  async #list(offset: number, limit: number) {
    if (!this.store.list || !this.store.capabilities.listAll)
      throw new NotSupportedError(
        this.store.name,
        'cannot list all sessions: all(), length() and clear() need a store with capabilities.listAll',
      );
    return this.store.list({ offset, limit }, this.#clock());
  }

  async *#records(): AsyncGenerator<SessionRecord> {
    for (let offset = 0; ; offset += PAGE) {
      const { sessions } = await this.#list(offset, PAGE);
      yield* sessions;
      if (sessions.length < PAGE) return;
    }
  }
}

/** JSON round trip: dates become strings, as express-session expects on `get`. */
function plain(sess: SessionData): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(sess)) as Record<string, JsonValue>;
}

/**
 * Runs `fn` and hands its outcome to `callback` on a later turn of the event loop (as MemoryStore
 * does), outside the promise chain: an exception the callback throws is an uncaught exception, not
 * an unhandled rejection that leaves the request hanging.
 */
function run<T>(callback: Callback<T> | undefined, fn: () => Promise<T>): void {
  fn().then(
    (value) => {
      if (callback) setImmediate(callback, null, value);
    },
    (err: unknown) => {
      if (callback) setImmediate(callback, err);
    },
  );
}
