/**
 * `tessera-session/express-session`: an express-session `Store` over any Tessera `SessionStore`, so an
 * existing express-session app switches to Redis, SQL, Memcached, … without other changes. The
 * express-session id is hashed (SHA-256) into the record id, as Tessera does with its own tokens,
 * so a copy of the store cannot be replayed as cookies; the session object is the record's data.
 */
import session from 'express-session';
import { parseDevice } from '../core/device.js';
import { ConfigError, NotSupportedError } from '../core/errors.js';
import { sessionIdFor } from '../core/tokens.js';
import type { JsonValue, SessionRecord, SessionStore } from '../core/types.js';

type SessionData = session.SessionData;
type Callback<T = void> = (err?: unknown, value?: T) => void;

export interface TesseraStoreOptions {
  /** The Tessera store that holds the sessions. */
  store: SessionStore;
  /**
   * Lifetime of a session whose cookie has no expiry (a browser-session cookie), in ms.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * Which user a session belongs to, for "your devices" lists and per-user logout through the
   * Tessera store. @default the session's `userId` field when it is a string, else anonymous
   */
  userIdOf?: (sess: SessionData) => string | null;
  /** The time source in epoch ms. @default Date.now */
  clock?: () => number;
}

const PAGE = 500;

export class TesseraStore extends session.Store {
  readonly store: SessionStore;
  readonly #ttl: number;
  readonly #userIdOf: (sess: SessionData) => string | null;
  readonly #clock: () => number;

  constructor(options: TesseraStoreOptions) {
    super();
    if (!options?.store) throw new ConfigError('store', 'is required: a Tessera SessionStore');
    this.store = options.store;
    this.#ttl = options.ttl ?? 86_400_000;
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

  #expiry(sess: SessionData, now: number): number {
    const expires = sess.cookie?.expires;
    const at = expires ? new Date(expires).getTime() : Number.NaN;
    return Number.isFinite(at) && at > now ? at : now + this.#ttl;
  }

  /** JSON round trip: dates become strings, as express-session expects on `get`. */
  #plain(sess: SessionData): Record<string, JsonValue> {
    return JSON.parse(JSON.stringify(sess)) as Record<string, JsonValue>;
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
      const data = this.#plain(sess);
      const expiresAt = this.#expiry(sess, now);
      const found = await this.store.get(id, now);
      if (found.record) {
        const unset = Object.keys(found.record.data).filter((k) => !(k in data));
        await this.store.patch(id, { set: data, unset }, now);
        await this.#slide(id, expiresAt, now);
        return;
      }
      const record: SessionRecord = {
        id,
        userId: this.#userIdOf(sess),
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
      await this.store.create(record, { maxSessionsPerUser: null, now });
    });
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    run(callback as Callback | undefined, async () => {
      const now = this.#clock();
      await this.#slide(sessionIdFor(sid), this.#expiry(sess, now), now);
    });
  }

  override destroy(sid: string, callback?: Callback): void {
    run(callback, async () => {
      await this.store.destroy(sessionIdFor(sid), 'logout', this.#clock());
    });
  }

  /** Every live session's data (ids are hashes, so an array rather than an object keyed by sid). */
  override all(callback: Callback<SessionData[]>): void {
    run(callback, async () => {
      const out: SessionData[] = [];
      for await (const record of this.#records())
        out.push(structuredClone(record.data) as unknown as SessionData);
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
    await this.store.get(id, now, { touchAfter: 0, idleTimeout: Math.max(1, expiresAt - now) });
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

function run<T>(callback: Callback<T> | undefined, fn: () => Promise<T>): void {
  fn().then(
    (value) => callback?.(null, value),
    (err) => callback?.(err),
  );
}
