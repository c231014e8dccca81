/**
 * The per-request session object (`req.session`, `c.get('session')`): reads see the stored data
 * plus this request's own changes; writes are collected as a delta (keys set, keys removed) and
 * saved once, when the response is sent, only if something changed. Login (`regenerate`) and
 * logout (`destroy`) act at once, because their effect must not depend on the response.
 */
import { checkSessionCallOptions } from '../core/call-options.js';
import { checkKeepData, mayCarry } from '../core/data-carry.js';
import { checkInput, checkValue } from '../core/input-checks.js';
import type {
  IssuedSession,
  LoginResult,
  RegenerateOptions,
  Session,
  SessionManager,
  VerifyLogin,
} from '../core/manager-api.js';
import { checkTimeouts } from '../core/session-timeouts.js';
import type { JsonValue, SessionData } from '../core/types.js';
import { ChangeGate } from './change-gate.js';
import { type CookieState, cookieOutcome } from './cookie-outcome.js';
import { FLASH_KEY, PendingChanges } from './pending-changes.js';
import { PreSessionCsrf } from './pre-session-csrf.js';
import type { CommitOutcome, RequestSessionInit, TokenSource } from './request-session-init.js';
import { saveDelta } from './save-delta.js';
import type { SessionMiss } from './session-miss.js';

export type { LoginResult } from '../core/manager-api.js';
export { FLASH_KEY } from './pending-changes.js';
export type { CommitOutcome, RequestSessionInit, TokenSource } from './request-session-init.js';
export type { SessionMiss } from './session-miss.js';

export class RequestSession<Data extends SessionData = SessionData> {
  readonly #manager: SessionManager<Data>;
  #record: Session<Data> | null;
  #token: string | null;
  readonly #source: TokenSource;
  readonly #ip: string | null;
  readonly #userAgent: string | null;
  readonly #loadedAt: number;
  readonly #miss: SessionMiss | null;
  readonly #preCsrf: PreSessionCsrf;
  /** Keys set and keys removed in this request; allocated on the first write, so reads cost none. */
  #pending: PendingChanges | null = null;
  /** The token changed in this request (created, regenerated or destroyed). */
  #tokenChanged = false;
  #issuedToken: string | null = null;
  /** The loaded session was ended by another request while this one ran. */
  #endedElsewhere = false;
  readonly #gate: ChangeGate;

  constructor(init: RequestSessionInit<Data>) {
    this.#manager = init.manager;
    this.#record = init.record;
    this.#token = init.record ? init.token : null;
    this.#source = init.source;
    this.#ip = init.ip;
    this.#userAgent = init.userAgent;
    this.#loadedAt = init.loadedAt;
    this.#miss = init.miss ?? null;
    this.#gate = new ChangeGate(init.readOnly);
    this.#preCsrf = new PreSessionCsrf(init.csrfCookie);
  }

  /** The session id (SHA-256 of the token), or `null` while the visitor has no stored session. */
  get id(): string | null {
    return this.#record?.id ?? null;
  }

  /** The logged-in user, or `null` for an anonymous visitor. */
  get userId(): string | null {
    return this.#record?.userId ?? null;
  }

  /** Whether a stored session backs this request (false for a first-time anonymous visitor). */
  get exists(): boolean {
    return this.#record !== null;
  }

  /**
   * Why the token this request presented (cookie or header) no longer works, or `null` when it
   * presented none or its session is live. It describes the request as it arrived: a login later
   * in the same request does not clear it. Typical use: a login page that says "An administrator
   * ended this session" or "Signed out after 30 minutes of inactivity".
   */
  get miss(): SessionMiss | null {
    return this.#miss;
  }

  /** How the token arrived: `cookie`, `bearer` (an API client's header) or `null`. */
  get source(): TokenSource {
    return this.#source;
  }

  /** The client address as `trustProxy` decided it. */
  get ip(): string | null {
    return this.#ip;
  }

  /** The stored record (times, device, IP), or `null`. Its `data` does not include pending changes. */
  get record(): Readonly<Session<Data>> | null {
    return this.#record;
  }

  /**
   * The token issued during this request by `regenerate` or the first write, for API clients that
   * carry it in a header instead of a cookie. `null` otherwise. Never log it.
   */
  get issuedToken(): string | null {
    return this.#issuedToken;
  }

  /** The session data with this request's changes applied (flash messages excluded). */
  get data(): Readonly<Data> {
    // Spread defines own properties: a key named "__proto__" stays a key.
    const stored = this.#record?.data ?? {};
    const data = this.#pending ? this.#pending.applyTo(stored) : { ...stored };
    delete data[FLASH_KEY];
    return data as Data;
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    const pending = this.#pending?.lookup(key);
    if (pending) return pending.value as Data[K] | undefined;
    const stored = this.#record?.data;
    // Own keys only: `get('constructor')` of a session without that key is undefined.
    return stored && Object.hasOwn(stored, key) ? (stored[key] as Data[K]) : undefined;
  }

  /**
   * Sets a top-level key; saved with the response. A value no store could keep as it is (not JSON,
   * or nested more than `MAX_VALUE_DEPTH` deep) throws `InvalidInputError` here, in the route.
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): this {
    this.#assertOpen();
    checkValue(key, value);
    this.#changes().set(key, value as JsonValue);
    return this;
  }

  /** Removes a top-level key; saved with the response. */
  delete<K extends keyof Data & string>(key: K): this {
    this.#assertOpen();
    checkInput(null, [key]);
    this.#changes().delete(key);
    return this;
  }

  /** Leaves a message for the next request that reads `flashes()` (and only that one). */
  flash(key: string, value: JsonValue): this {
    this.#assertOpen();
    checkValue(key, value);
    this.#changes().flash(key, value);
    return this;
  }

  /**
   * The flash messages the previous request left, consumed: a later request will not see them.
   * Messages flashed during this request are kept for the next one. Consuming them once the
   * response has started is a `SessionCommittedError` (their removal could no longer be saved).
   */
  flashes(): Record<string, JsonValue> {
    const stored = this.#record?.data[FLASH_KEY];
    if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
    if (!this.#pending?.sets.has(FLASH_KEY)) {
      this.#gate.assertUncommitted();
      this.#changes().delete(FLASH_KEY);
    }
    return { ...stored };
  }

  /**
   * The CSRF token to put in forms (`_csrf`) or the `X-CSRF-Token` header. A visitor without a
   * stored session gets a pre-session token held only in the CSRF cookie (double submit), so the
   * login form is protected too; issuing one once the response has started is a
   * `SessionCommittedError` (its cookie could no longer be set).
   */
  get csrfToken(): string {
    if (this.#record) return this.#record.csrf;
    return this.#preCsrf.token(() => this.#gate.assertUncommitted());
  }

  /**
   * Whether this request has a CSRF token any submitted value could match: a live session's, or
   * a pre-session token that came in the CSRF cookie. Without one a form body is not worth reading.
   */
  get hasCsrfToken(): boolean {
    if (this.#record) return this.#record.csrf !== '';
    return this.#preCsrf.verifiable;
  }

  /** Whether `submitted` is this request's CSRF token, compared in constant time. */
  verifyCsrf(submitted: unknown): boolean {
    if (this.#record) return this.#manager.verifyCsrf(this.#record, submitted);
    return this.#preCsrf.verify(submitted);
  }

  /**
   * Login or privilege change: a new token replaces the old one, which is dead from now on
   * (fixation defence). The data, pending changes included, is kept only when the session was
   * anonymous or already this user's, and narrowed by `keepData` (all, none, or the keys named):
   * another user's data never reaches the new session. Without a stored session (a first-time
   * visitor logging in) a new session is created for `userId`. `idleTimeout` / `absoluteTimeout`
   * give the new session its own timeouts ("remember me"); without them a login gets the
   * manager's defaults and the same user keeps the old session's.
   */
  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    this.#assertOpen();
    checkSessionCallOptions('regenerate', options);
    const userId = options.userId !== undefined ? options.userId : this.userId;
    const keepData = checkKeepData(options.keepData);
    // Checked before anything changes: a timeout past its bound leaves this request as it was.
    checkTimeouts(this.#manager.settings, options);
    const { idleTimeout, absoluteTimeout } = options;
    if (!mayCarry(this.userId, userId) || keepData === false) this.#dropPending();
    else this.#pending?.narrow(keepData);
    let issued: IssuedSession<Data> | null = null;
    if (this.#record && this.#token) {
      issued = await this.#manager.regenerate(this.#token, {
        userId,
        keepData,
        idleTimeout,
        absoluteTimeout,
        ip: this.#ip,
        userAgent: this.#userAgent,
      });
      if (!issued && options.userId === undefined) {
        // The session ended meanwhile (a logout, another regenerate of the same token): without a
        // login naming the user, nothing may bring it back. This request continues logged out.
        this.#endedMeanwhile();
        this.#dropPending();
        return;
      }
    }
    // No live session to move (never had one, or it ended concurrently during a login): start a
    // fresh one, so a login never inherits anything from a session an attacker may have planted.
    issued ??= await this.#manager.create({
      userId,
      ip: this.#ip,
      userAgent: this.#userAgent,
      data: this.#takePendingSets(),
      idleTimeout,
      absoluteTimeout,
    });
    this.#adopt(issued);
  }

  /** Logout: ends this session now. Later writes in this request start a new anonymous session. */
  async destroy(): Promise<void> {
    this.#assertOpen();
    const id = this.id;
    this.#loggedOut();
    if (id) await this.#manager.terminate(id, 'logout');
  }

  /**
   * Ends every session of this user ("log out everywhere"), or every other one with
   * `exceptCurrent`. Returns the ids ended.
   */
  async destroyAll(options: { exceptCurrent?: boolean } = {}): Promise<string[]> {
    this.#assertOpen();
    checkSessionCallOptions('destroyAll', options);
    const userId = this.userId;
    if (!userId) {
      if (!options.exceptCurrent && this.exists) await this.destroy();
      return [];
    }
    const current = this.id;
    const ids = await this.#manager.terminateUser(userId, {
      exceptId: options.exceptCurrent ? (current ?? undefined) : undefined,
      reason: 'logout-all',
    });
    if (!options.exceptCurrent) this.#loggedOut();
    return ids;
  }

  /**
   * A rate-limited login (`manager.attemptLogin`): the attempt is counted against this client's
   * address and the username before `verify` runs, so parallel guesses cannot outrun the limit,
   * and a client past it is refused without the check. `verify` returns the user id for good
   * credentials or `null`. On success the session is regenerated for that user, keeping data as
   * `regenerate` does (`keepData`), with its own `idleTimeout` / `absoluteTimeout` when given
   * ("remember me"; else the manager's defaults). A timeout past the manager's bounds is an
   * `InvalidInputError` thrown before the attempt is counted or `verify` runs.
   */
  async login(
    username: string,
    verify: VerifyLogin,
    options: Pick<RegenerateOptions, 'keepData' | 'idleTimeout' | 'absoluteTimeout'> = {},
  ): Promise<LoginResult> {
    this.#assertOpen();
    checkSessionCallOptions('login', options);
    checkTimeouts(this.#manager.settings, options);
    const result = await this.#manager.attemptLogin({ ip: this.#ip, username }, verify);
    if (result.ok)
      await this.regenerate({
        userId: result.userId,
        keepData: options.keepData,
        idleTimeout: options.idleTimeout,
        absoluteTimeout: options.absoluteTimeout,
      });
    return result;
  }

  /**
   * Saves the pending delta and says which cookies change. Called once by the adapter when the
   * response is about to be sent. A session that ended meanwhile (a logout or a login in another
   * tab) is never revived: its changes are dropped and the cookies are left as they are, since the
   * browser may already hold the session that replaced it.
   */
  async commit(): Promise<CommitOutcome> {
    if (!this.#gate.commit()) return {};
    const saved = await saveDelta(this.#manager, this.#record, this.#pending, {
      ip: this.#ip,
      userAgent: this.#userAgent,
      endedElsewhere: this.#endedElsewhere,
    });
    this.#dropPending();
    if (saved.kind === 'updated') this.#record = saved.record;
    else if (saved.kind === 'ended') this.#endedMeanwhile();
    else if (saved.kind === 'created') this.#adopt(saved.issued);
    const wrote = saved.kind === 'updated';

    const { outcome, ifLive } = cookieOutcome(this.#cookieState());
    if (ifLive && !wrote && !(await this.#manager.isLive(this.#record!.id))) return {};
    return outcome;
  }

  /**
   * Whether `commit()` has anything to do: a change to save, or a cookie to set or clear (a touch
   * to carry into the cookie's Max-Age, a CSRF cookie to correct). False once committed.
   */
  get needsCommit(): boolean {
    if (this.#gate.committed) return false;
    if (this.#pending !== null && !this.#pending.isEmpty) return true;
    const { outcome } = cookieOutcome(this.#cookieState());
    return outcome.sessionToken !== undefined || outcome.csrfToken !== undefined;
  }

  /**
   * Commits the session at once when it has nothing to commit (`needsCommit` false): later
   * changes are refused as after any commit. Returns whether it did; when not, call `commit()`.
   */
  commitUnchanged(): boolean {
    return !this.needsCommit && this.#gate.commit();
  }

  /**
   * Calls `listener` once, just before this request's first change to the session (a write, a
   * login, a logout, a flash read, a pre-session CSRF token issued). An adapter that has to hold
   * the response for a commit (Express) starts holding it only then, so a request that changes
   * nothing costs nothing. `listener` returns false when the response has already started: the
   * session then counts as committed, and the change is refused with `SessionCommittedError` as
   * any change after the commit is.
   */
  watchChanges(listener: () => boolean): void {
    this.#gate.watch(listener);
  }

  #cookieState(): CookieState {
    return {
      tokenChanged: this.#tokenChanged,
      token: this.#token,
      record: this.#record,
      usesCookies: this.usesCookies,
      endedElsewhere: this.#endedElsewhere,
      loadedAt: this.#loadedAt,
      csrfCookie: this.#preCsrf.cookie,
      preCsrfIssued: this.#preCsrf.issued,
    };
  }

  /** Whether the token came from a cookie or no token came at all (a browser): cookies are set. */
  get usesCookies(): boolean {
    return this.#source !== 'bearer';
  }

  /**
   * The session was ended by another request (a logout, a login that rotated it) while this one
   * ran: it is not revived, its pending changes are dropped, and this response leaves the cookies
   * alone. A session this request itself issued and then lost is cleared as before.
   */
  #endedMeanwhile(): void {
    this.#record = null;
    this.#token = null;
    if (!this.#tokenChanged) this.#endedElsewhere = true;
  }

  /** This request ended its session: the cookie is cleared, later writes start a new one. */
  #loggedOut(): void {
    this.#record = null;
    this.#token = null;
    this.#tokenChanged = true;
    this.#dropPending();
  }

  #adopt(issued: IssuedSession<Data>): void {
    this.#record = issued.session;
    this.#token = issued.token;
    this.#issuedToken = issued.token;
    this.#tokenChanged = true;
    this.#preCsrf.drop();
  }

  #takePendingSets(): Data {
    const data = (this.#pending?.setsAsData() ?? {}) as Data;
    this.#dropPending();
    return data;
  }

  #changes(): PendingChanges {
    this.#gate.note();
    this.#pending ??= new PendingChanges();
    return this.#pending;
  }

  #dropPending(): void {
    this.#pending = null;
  }

  #assertOpen(): void {
    this.#gate.assertOpen();
  }
}
