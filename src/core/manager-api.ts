/**
 * What a session manager offers: the `SessionManager` interface and the types of its inputs and
 * results. The lifecycle that implements it is in manager.ts.
 */
import type { KeepData } from './data-carry.js';
import type { SessionEventListener, SessionEventName } from './events.js';
import type { SessionTimeouts } from './session-timeouts.js';
import type {
  HealthReport,
  MissReason,
  SessionData,
  SessionRecord,
  SessionStore,
  StoreStats,
  TerminationReason,
} from './types.js';

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

/** `validate`'s options: where the request comes from, and whether the lookup may write. */
export interface ValidateOptions extends RequestInfo {
  /**
   * `false`: only read (admin views, background checks). Nothing is written: the idle expiry does
   * not slide, and a user agent or IP that fails the hijack checks is answered `ua_mismatch` /
   * `ip_changed` without ending the session; those checks compare only what is given (no
   * `userAgent`, no user-agent check).
   * @default true
   */
  touch?: boolean;
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

export type { SessionTimeouts } from './session-timeouts.js';

/** A new session: its owner, client, data, and its own timeouts ("remember me") if any. */
export interface CreateSessionInput<Data extends SessionData> extends SessionTimeouts {
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

/**
 * What `regenerate` (a login, a privilege change) does besides issuing a new token. Its own
 * `idleTimeout` / `absoluteTimeout` ("remember me") set the new session's; without them a login
 * (another user) gets the manager's defaults and the same user keeps the old session's.
 */
export interface RegenerateOptions extends SessionTimeouts {
  /** The user the new session belongs to (`null`: anonymous). @default the old session's user */
  userId?: string | null;
  /**
   * Which of the old session's data the new one keeps: all (`true`), none (`false`), or the
   * named top-level keys. Data moves only from an anonymous session or from the same user's;
   * another user's data is never kept, whatever this says.
   * @default true
   */
  keepData?: KeepData;
}

/** A delta on a session's data: top-level keys set and keys removed. */
export interface DataUpdate<Data extends SessionData> {
  set?: Partial<Data>;
  unset?: (keyof Data & string)[];
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

/** The outcome of `attemptLogin` (and of `session.login` in the adapters). */
export type LoginResult =
  | { ok: true; userId: string }
  | { ok: false; reason: 'invalid'; remaining: number }
  | { ok: false; reason: 'rate_limited'; retryAfterMs: number };

/** Checks a password: the user id for good credentials, `null` otherwise. */
export type VerifyLogin = () => Promise<string | null> | string | null;

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

/** The resolved timeouts and limits a manager runs with (durations in ms). */
export interface ManagerSettings {
  idleTimeout: number;
  /** `false`: no absolute lifetime. */
  absoluteTimeout: number | false;
  /** The longest idle timeout a session may be given of its own, and the cap of every touch. */
  maxIdleTimeout: number;
  /** The longest absolute lifetime a session may be given of its own; `false`: no bound. */
  maxAbsoluteTimeout: number | false;
  touchAfter: number;
  /** `null`: no per-user limit. */
  maxSessionsPerUser: number | null;
  csrf: boolean;
  maxDataBytes: number;
}

/**
 * The session manager: the policy layer over one `SessionStore`. Tokens never reach the store
 * (it keys sessions by their SHA-256); every time decision uses the manager's clock.
 */
export interface SessionManager<Data extends SessionData = SessionData> {
  /** The store this manager uses. */
  readonly store: SessionStore;
  /** The resolved timeouts and limits (ms). */
  readonly settings: Readonly<ManagerSettings>;

  /** The current time by the manager's clock (epoch ms): the HTTP layer keeps time with it. */
  now(): number;

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void;

  /**
   * Starts a session, with its own `idleTimeout` / `absoluteTimeout` when given ("remember me",
   * within `maxIdleTimeout` / `maxAbsoluteTimeout`). Enforces the per-user limit atomically;
   * evicted ids are reported. Throws `InvalidInputError` (a timeout past its bound included) or
   * `DataTooLargeError` for input a store could not keep.
   */
  create(input?: CreateSessionInput<Data>): Promise<IssuedSession<Data>>;

  /**
   * Looks up the session for a token. Returns the session, or `null` with the reason. Malformed
   * tokens never reach the store. Slides the idle timeout (by the session's own idle timeout),
   * writing at most once per `touchAfter`; with `touch: false` it only reads and writes nothing.
   */
  validate(token: unknown, options?: ValidateOptions): Promise<ValidateResult<Data>>;

  /**
   * Applies a delta to a live session's data (keys set and removed); concurrent deltas on other
   * keys are kept. Returns the updated session, or `null` if it is no longer live.
   */
  update(session: Session<Data> | string, patch: DataUpdate<Data>): Promise<Session<Data> | null>;

  /**
   * Whether `token` is the session's CSRF token, compared in constant time. A refusal is counted
   * and emitted as `csrfRejected`.
   */
  verifyCsrf(session: Session<Data>, token: unknown): boolean;

  /** Issues a new CSRF token for the session; returns it, or `null` if the session is gone. */
  rotateCsrf(session: Session<Data> | string): Promise<string | null>;

  /**
   * Fixation defence: moves the session to a new token and terminates the old one atomically.
   * With a new `userId` (login) the session starts afresh (new creation time and absolute
   * lifetime) and the per-user limit applies; otherwise creation time and absolute expiry carry
   * over, so regenerating never extends a session's life. The data moves only from an anonymous
   * session or the same user's, narrowed by `keepData`; another user's data never moves. The
   * new session's timeouts are `idleTimeout` / `absoluteTimeout` when given (the absolute lifetime
   * then counts from now); without them a login gets the manager's defaults and the same user
   * keeps the old session's idle timeout and end. Returns `null` if the old session is not live.
   */
  regenerate(
    token: string,
    options?: RegenerateOptions & RequestInfo,
  ): Promise<IssuedSession<Data> | null>;

  /** Whether the session with this id is live now (a read; nothing is touched or counted). */
  isLive(id: string): Promise<boolean>;

  /** Ends one session by id. Returns whether it was live. */
  terminate(id: string, reason?: TerminationReason): Promise<boolean>;

  /** Logs a user out everywhere, or everywhere but `exceptId` (after a password change). */
  terminateUser(
    userId: string,
    options?: { exceptId?: string; reason?: TerminationReason },
  ): Promise<string[]>;

  /** A user's live sessions with device, IP and times, most recently active first. */
  listUserSessions(userId: string): Promise<SessionSummary[]>;

  /**
   * A rate-limited login attempt that holds under concurrency. The attempt takes its unit of the
   * IP's and the username's budgets *before* `verify` runs (one atomic increment per counter in the
   * rate-limit store), so a burst of parallel guesses runs `verify` at most `maxAttempts` times per
   * username and `maxAttemptsPerIp` times per address in a window; an attempt past either budget is
   * refused without calling `verify`. A success clears both counters. Use this (or
   * `session.login` in the adapters) rather than `checkLoginAttempt` + `trackLoginAttempt`.
   */
  attemptLogin(attempt: Omit<LoginAttempt, 'success'>, verify: VerifyLogin): Promise<LoginResult>;

  /**
   * Checks a login attempt against the limits without counting it. Checking, then verifying, then
   * tracking does not bound concurrent guesses (all of them pass the check before any is counted):
   * prefer `attemptLogin`, which counts first.
   */
  checkLoginAttempt(attempt: Omit<LoginAttempt, 'success'>): Promise<LoginVerdict>;

  /**
   * Records a login attempt: a failure counts against the IP and the username, a success clears
   * both. Returns whether another attempt is allowed now. See `attemptLogin`.
   */
  trackLoginAttempt(attempt: LoginAttempt): Promise<LoginVerdict>;

  /** Removes expired sessions now; returns how many. */
  cleanup(): Promise<number>;

  /** Counts for dashboards: live sessions by device (where the store can count) and counters. */
  stats(): Promise<ManagerStats>;

  /** The store's health; never throws. */
  health(): Promise<HealthReport>;

  /** Stops the cleanup timer and closes the stores this manager created itself. */
  close(): Promise<void>;
}
