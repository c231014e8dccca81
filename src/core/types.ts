/**
 * The shapes every layer shares: the session record, the store contract, the rate-limit store
 * contract. `core` talks to backends only through these interfaces.
 */
import type { ClientSideSessions } from './client-side.js';

/** A JSON value: what session data may hold. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };
/** Session data: a JSON object whose top-level keys are the unit of a delta write. */
export type SessionData = Record<string, JsonValue>;

/** Why a session ended. Stores with an audit trail keep it. */
export type TerminationReason =
  | 'logout'
  | 'timeout'
  | 'limit'
  | 'admin'
  | 'rotated'
  | 'logout-all'
  | 'hijack';

export const TERMINATION_REASONS: readonly TerminationReason[] = [
  'logout',
  'timeout',
  'limit',
  'admin',
  'rotated',
  'logout-all',
  'hijack',
];

/** What the User-Agent header says about the client. Unknown parts are `null`. */
export interface DeviceInfo {
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  osVersion: string | null;
  /** `mobile`, `tablet`, `desktop`, `bot` or `unknown`. */
  type: DeviceType;
}

export type DeviceType = 'mobile' | 'tablet' | 'desktop' | 'bot' | 'unknown';

/**
 * One stored session. Keyed by `id`, the SHA-256 of the token (the token itself is never stored).
 * Times are epoch milliseconds.
 */
export interface SessionRecord<Data extends SessionData = SessionData> {
  /** SHA-256 of the token, lowercase hex (64 characters). */
  id: string;
  /** The user this session belongs to, or `null` for an anonymous session. */
  userId: string | null;
  data: Data;
  createdAt: number;
  lastSeenAt: number;
  /**
   * The sliding expiry: `lastSeenAt` plus the session's idle timeout, capped at `absoluteExpiresAt`.
   * A session keeps the idle timeout it was created with: a touch slides it by the window
   * `idleExpiresAt - lastSeenAt` (at most `TouchPolicy.idleTimeout`).
   */
  idleExpiresAt: number;
  /** The hard end of the session, or `null` when the absolute timeout is off. */
  absoluteExpiresAt: number | null;
  ip: string | null;
  userAgent: string | null;
  device: DeviceInfo;
  /** The synchronizer CSRF token bound to this session. */
  csrf: string;
  /** Incremented by every write to the record. */
  version: number;
}

/** A terminated session as an audit trail keeps it. */
export interface TerminatedSessionRecord extends SessionRecord {
  status: 'terminated';
  terminatedAt: number;
  terminationReason: TerminationReason;
}

/** Why a lookup found no session. Stores report the most precise reason they know. */
export type MissReason = 'not_found' | 'expired_idle' | 'expired_absolute' | 'terminated';

export type LookupResult<Data extends SessionData = SessionData> =
  | { record: SessionRecord<Data>; touched: boolean }
  | {
      record: null;
      reason: MissReason;
      /**
       * With `terminated`: why the session ended, from a store that keeps it (SQL and hybrid keep
       * the audit row). Absent where the store only knows that it ended.
       */
      terminationReason?: TerminationReason;
    };

/** Asks a lookup to also slide the idle expiry, in the same atomic step, when it is due. */
export interface TouchPolicy {
  /** Touch only when `now - lastSeenAt >= touchAfter`. */
  touchAfter: number;
  /**
   * The cap on a session's idle window: the new idle expiry is
   * `min(now + min(idleExpiresAt - lastSeenAt, idleTimeout), absoluteExpiresAt)`. A session keeps
   * the idle window it was created with (a "remember me" session its longer one); the manager
   * passes the longest idle timeout it allows, so for a session created with the manager's own
   * idle timeout this is `min(now + idleTimeout, absoluteExpiresAt)`.
   */
  idleTimeout: number;
  /**
   * The idle window becomes `idleTimeout` itself, longer or shorter than the session's own: the new
   * idle expiry is `min(now + idleTimeout, absoluteExpiresAt)`. What the express-session store's
   * `touch` asks when the cookie's `maxAge` changed.
   * @default false (the session's own window, capped by idleTimeout)
   */
  setWindow?: boolean;
}

/** A delta write: only the keys named change; concurrent deltas on other keys are all kept. */
export interface SessionPatch {
  /** Top-level data keys to set. */
  set?: Record<string, JsonValue>;
  /** Top-level data keys to remove. */
  unset?: string[];
  /**
   * The data becomes exactly `set`: every key it does not name is removed in the same atomic
   * step, so of concurrent replacing patches one is stored whole (what an express-session `set`
   * means). @default false
   */
  replace?: boolean;
  /** A new CSRF token (rotation). */
  csrf?: string;
  /**
   * A new owner (`null`: anonymous). The session moves between the users' indexes in the same
   * atomic step as the rest of the patch, so `listUser` and `destroyUser` see it under exactly one
   * owner. No per-user limit is applied: a patch never ends another session.
   * @default undefined (the owner is unchanged)
   */
  userId?: string | null;
  /**
   * The most bytes the session's data may take as JSON (UTF-8) after this patch, checked on the
   * stored result inside the store's atomic step, so concurrent patches cannot together exceed it.
   * Past it (and larger than before the patch, so a shrinking write always passes) the store throws
   * `DataTooLargeError` and changes nothing.
   * @default undefined (no limit)
   */
  maxDataBytes?: number;
}

export interface CreateOptions {
  /** Evict the least recently active sessions of `record.userId` so at most this many remain. `null`: no limit. */
  maxSessionsPerUser: number | null;
  now: number;
}

export interface CreateResult {
  /** Ids of the sessions evicted to respect the per-user limit (terminated with reason `limit`). */
  evicted: string[];
}

export interface RegenerateResult {
  /** `false` when the old session was not live: nothing was created. */
  ok: boolean;
  evicted: string[];
}

export interface ListQuery {
  /** Only this user's sessions. */
  userId?: string;
  /** Skip this many (for pagination). @default 0 */
  offset?: number;
  /** At most this many. */
  limit: number;
}

export interface ListResult {
  sessions: SessionRecord[];
  /** Total number of live sessions matching the query (ignoring offset/limit). */
  total: number;
}

export interface StoreStats {
  activeSessions: number;
  distinctUsers: number;
  anonymousSessions: number;
  byBrowser: Record<string, number>;
  byOs: Record<string, number>;
  byDeviceType: Record<string, number>;
  /** How old the live sessions are, where the store can tell (see core/analytics.ts). */
  sessionAge?: SessionAgeStats;
  /** Logins per hour, where the store counts them (see core/analytics.ts). */
  logins?: LoginStats;
  /** The backend server's own figures (Redis: INFO memory and stats). */
  server?: ServerStats;
}

/** The age of live sessions (now − createdAt) in ms, nearest-rank percentiles. */
export interface SessionAgeStats {
  /** `null` when no session is live. */
  medianMs: number | null;
  p95Ms: number | null;
  /** Sessions the figures are over: every live one, or a random sample of them. */
  count: number;
  /** The figures come from a random sample of the live sessions (Redis past its sample size). */
  sampled: boolean;
}

/** Logins: sessions started for a signed-in user (`create` with a user, `regenerate` to a new one). */
export interface LoginStats {
  /** In the last 60 minutes (to the minute where the store counts per minute). */
  lastHour: number;
  /** Per clock hour, the last 24 of them, oldest first; the last is the current hour so far. */
  perHour: { /** The hour's start, epoch ms. */ start: number; count: number }[];
}

/** What a backend server says about itself. */
export interface ServerStats {
  /** Memory the server uses, in bytes (Redis `used_memory`). */
  usedMemoryBytes: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  /** hits / (hits + misses) since the server's stats were last reset; `null` before any lookup. */
  hitRatio: number | null;
}

export interface HealthReport {
  ok: boolean;
  store: string;
  /** Round-trip time of a trivial command, in milliseconds. */
  latencyMs?: number;
  detail?: string;
}

/**
 * What a store can do. A store that cannot keep a guarantee says so here; the contract suite
 * skips exactly that group and the docs say so plainly.
 */
export interface StoreCapabilities {
  /** `listUser` and `destroyUser` work (a per-user index exists). */
  listUser: boolean;
  /** `list` over all sessions works (admin dashboard). */
  listAll: boolean;
  /** `stats` works. */
  stats: boolean;
  /** Terminated sessions are kept and `listTerminated` works. */
  audit: boolean;
  /** The per-user limit is enforced atomically under concurrent creates. */
  atomicLimit: boolean;
  /** A terminated session is gone at once (a pure client-side cookie cannot promise this). */
  revocation: boolean;
}

/**
 * The store contract. Every backend implements it and passes `testSessionStore` from
 * `tessera-session/testing`. All times are epoch ms and are supplied by the caller (`now`), so an injected
 * clock works everywhere; native TTLs are derived relative to `now`.
 *
 * Guarantees (see docs/design.md): atomic limit, no lost updates, termination is final, expired is
 * gone, cleanup cost follows the expired count, regenerate is atomic, errors are typed
 * (`StoreUnavailableError` within the configured timeout, never a hang).
 *
 * Records returned by a store belong to the caller, but `data` may be frozen: treat it as immutable.
 */
export interface SessionStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /**
   * Present on a client-side store (the encrypted cookie store): the HTTP layer then reads and
   * writes the session in the request's and response's cookies instead of sending a token.
   */
  readonly clientSide?: ClientSideSessions;

  /**
   * Store a session and enforce the per-user limit in one atomic step. Whatever the id held before
   * (nothing, a terminated or expired session, or a live one) is replaced whole: record, data and
   * owner. Tessera's own ids are random and never meet an earlier one; the express-session store
   * re-creates an id after `destroy` as express-session expects. Concurrent creates of one id
   * never fail: one of them is what remains. (A stored audit row of the old session is replaced.)
   */
  create(record: SessionRecord, options: CreateOptions): Promise<CreateResult>;

  /**
   * Read a live session. An expired or terminated one is a miss. With `touch`, slide the idle
   * expiry in the same atomic step when it is due (`touched` says whether it was written).
   */
  get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult>;

  /**
   * Apply a delta to a live session; returns the updated record, or `null` if it is not live (a
   * patch never creates). Throws `DataTooLargeError`, changing nothing, past `patch.maxDataBytes`.
   */
  patch(id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null>;

  /**
   * Terminate one session. Final: no in-flight touch or patch brings it back. Resolves the owner of
   * the session it ended (`userId` is `null` for an anonymous one), or `null` when the session was
   * not live (unknown, expired or already ended), so a caller can report the termination without
   * reading the session first.
   */
  destroy(
    id: string,
    reason: TerminationReason,
    now: number,
  ): Promise<{ userId: string | null } | null>;

  /** Terminate all of a user's live sessions, except `exceptId`. Returns the ids terminated. */
  destroyUser(
    userId: string,
    options: { exceptId?: string; reason: TerminationReason; now: number },
  ): Promise<string[]>;

  /**
   * Replace `oldId` by `record` in one atomic step: the old session is terminated (reason
   * `rotated`) and the new one created, with the per-user limit applied to `record.userId`.
   * Exactly one of two concurrent regenerates of the same old id succeeds.
   */
  regenerate(
    oldId: string,
    record: SessionRecord,
    options: CreateOptions,
  ): Promise<RegenerateResult>;

  /** A user's live sessions, most recently active first. */
  listUser(userId: string, now: number): Promise<SessionRecord[]>;

  /** Live sessions, most recently active first (needs `capabilities.listAll`, or `userId`). */
  list?(query: ListQuery, now: number): Promise<ListResult>;

  /** Terminated sessions kept by the audit trail, most recently terminated first. */
  listTerminated?(
    query: ListQuery,
    now: number,
  ): Promise<{ sessions: TerminatedSessionRecord[]; total: number }>;

  /** Counts over live sessions (needs `capabilities.stats`). */
  stats?(now: number): Promise<StoreStats>;

  /** Remove expired sessions (and audit rows past retention). Returns the number of sessions removed. */
  cleanup(now: number): Promise<number>;

  health(): Promise<HealthReport>;

  /**
   * Whether a session with this id may belong to this user, for a store that places sessions by id
   * (the Redis store over several Cluster buckets: a user's sessions must share the user's bucket
   * for the per-user limit and "log out everywhere" to stay atomic). The manager draws new tokens
   * until the id fits the user it creates the session for (about as many draws as there are
   * buckets). A session created with an id that does not fit still works, but the per-user limit
   * counts only the user's sessions in its bucket. Absent: every id fits every user.
   * @default undefined (every id fits)
   */
  idFitsUser?(id: string, userId: string): boolean;

  /** Release connections and timers. A store built from a caller's client leaves that client open. */
  close(): Promise<void>;
}

/** One rate-limit counter's state. */
export interface RateLimitState {
  count: number;
  /** When the window ends and the counter resets, epoch ms. */
  resetAt: number;
}

/** Fixed-window counters for login rate limiting. */
export interface RateLimitStore {
  readonly name: string;
  /** Add one to `key`'s counter, starting a window of `windowMs` if none is open. Atomic. */
  hit(key: string, windowMs: number, now: number): Promise<RateLimitState>;
  /** The counter's state, or `null` if no window is open. */
  peek(key: string, now: number): Promise<RateLimitState | null>;
  /** Clear the counter. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}
