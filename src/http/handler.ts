/**
 * Framework-neutral request handling: read the token (cookie or bearer header), load the session,
 * check CSRF on unsafe methods, and turn the commit into Set-Cookie headers. Works on any request
 * that can hand over its headers as strings, so the adapters stay thin.
 */
import type { ClientSessionScope } from '../core/client-side.js';
import { CsrfError, OriginRefusedError } from '../core/errors.js';
import type { Session, SessionManager, ValidateReason } from '../core/manager-api.js';
import { rejectUnknownKeys } from '../core/strict-options.js';
import type { SessionData, TerminationReason } from '../core/types.js';
import { clientIp } from './client-ip.js';
import { chunkHeaders, readChunkCookies, scopedManager } from './client-side.js';
import {
  type CookieSettings,
  clearCookie,
  csrfCookie,
  isLocalHost,
  readBearer,
  readCookies,
  sessionCookie,
} from './cookies.js';
import { excludedStandIn } from './exclude.js';
import {
  DEAD_TOKEN_GRACE_SECONDS,
  HTTP_KNOWN_KEYS,
  resolveHttpOptions,
  type SessionHttpOptions,
} from './http-options.js';
import { answerFor, type ErrorAnswer, errorAnswer, type RefusalRenderer } from './responses.js';
import { type CommitOutcome, RequestSession, type SessionMiss } from './session.js';

/** A request as the core sees it: method, path, header strings and the socket's peer. */
export interface HttpRequestLike {
  method: string;
  /** Path without the query string. */
  path: string;
  /** A header's value (lowercase name), or null/undefined when absent. */
  header(name: string): string | null | undefined;
  remoteAddress: string | null | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Whether a method never needs a CSRF token (`needsCsrf` is false for it whatever the session):
 * lets an adapter skip its CSRF step on reads without a promise or a hook's work.
 */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

export interface SessionHttp<Data extends SessionData = SessionData> {
  manager: SessionManager<Data>;
  /**
   * Reads the token and loads the session. Throws a store error when the store fails (→ 503). A
   * WebSocket upgrade (see `isUpgrade`) must come from the request's own host or a trusted origin
   * (else `OriginRefusedError` → 403) and gets a read-only session: no response carries its cookie.
   */
  load(request: HttpRequestLike): Promise<RequestSession<Data>>;
  /**
   * Whether the request gets no session at all (the `exclude` option): the adapters then call no
   * store, check no CSRF token and set no cookie.
   */
  isExcluded(request: HttpRequestLike): boolean;
  /** What an excluded request has as its session: any use throws `SessionExcludedError`. */
  excludedSession(request: HttpRequestLike): RequestSession<Data>;
  /** Whether the request asks to become a WebSocket (`Upgrade: websocket`). */
  isUpgrade(request: HttpRequestLike): boolean;
  /** Whether this request must prove CSRF (unsafe method, cookie-borne, not skipped). */
  needsCsrf(request: HttpRequestLike, session: RequestSession<Data>): boolean;
  /** The CSRF token the request carries in its header, if any. */
  csrfFromHeader(request: HttpRequestLike): string | undefined;
  /** Whether a urlencoded or multipart body may carry the `_csrf` field (worth parsing). */
  hasFormBody(request: HttpRequestLike): boolean;
  /**
   * Enforces CSRF on a request that needs it: the token from the header, or else the value
   * `readField(csrfField)` finds in the body, must be the session's. The body is not read when a
   * header carries a token (right or wrong) or when the request has no token to match. Throws
   * `CsrfError` (→ 403) when it is missing or wrong; does nothing for a request that needs none.
   */
  checkCsrf(
    request: HttpRequestLike,
    session: RequestSession<Data>,
    readField?: (field: string) => unknown,
  ): Promise<void>;
  readonly csrfField: string;
  /** The most bytes of a form body read to find the CSRF field (`formLimit`). */
  readonly formLimit: number;
  /**
   * Whether `commit` has anything to do for this request yet (a change to save, a cookie to set or
   * clear): an adapter that must hold the response to commit can skip holding it when not.
   */
  needsCommit(session: RequestSession<Data>): boolean;
  /**
   * When the request has nothing to commit, marks its session committed and returns true, so the
   * adapter can send the response without waiting; else false (call `commit`).
   */
  commitUnchanged(session: RequestSession<Data>): boolean;
  /** Saves the session's delta and returns the Set-Cookie header values for the response. */
  commit(request: HttpRequestLike, session: RequestSession<Data>): Promise<string[]>;
  /** The 403/429/503/400 answers, JSON or HTML by `Accept` (the built-in page). */
  answer: typeof errorAnswer;
  /**
   * The answer for an error thrown while handling a request (`CsrfError` → 403, `RateLimitedError`
   * → 429, a store failure → 503), or `null` when it is not ours.
   */
  answerError(err: unknown, request: HttpRequestLike): ErrorAnswer | null;
}

/** Builds the request handling for one manager. Options are checked at once. */
export function createSessionHttp<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: SessionHttpOptions = {},
): SessionHttp<Data> {
  // The cookies outlive the session by a day: a dead token is worthless, and a browser that still
  // sends it lets the app say why the session ended ("signed out after 30 minutes of inactivity")
  // instead of showing a bare login page. This Max-Age is for cookies of no stored session (the
  // pre-session CSRF cookie); a session's own follow its expiry (`lifetime` below).
  rejectUnknownKeys('createSessionHttp()', options, HTTP_KNOWN_KEYS);
  const settings = resolveHttpOptions(
    options,
    Math.floor(manager.settings.idleTimeout / 1000) + DEAD_TOKEN_GRACE_SECONDS,
  );
  const { trustProxy, bearer, tokenHeader, csrfField, csrfHeader, skipCsrf } = settings;
  const { refusalPage } = settings;

  /**
   * A session's cookies live as long as the session itself (its idle expiry, which never passes
   * its absolute one) and a grace, or as long as the browser runs when they are not persistent.
   */
  function lifetime(
    record: Readonly<Session<Data>> | null,
    fallback: number | null,
  ): number | null {
    if (!record) return fallback;
    if (!settings.persistent(record as Readonly<Session>)) return null;
    const end =
      record.absoluteExpiresAt === null
        ? record.idleExpiresAt
        : Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
    return Math.max(0, Math.ceil((end - manager.now()) / 1000)) + DEAD_TOKEN_GRACE_SECONDS;
  }

  /** Set when the manager's store keeps sessions in the client's cookies (the cookie store). */
  const clientSide = manager.store.clientSide;
  /** The app's refusal page bound to one request, or none. */
  const pageFor = (request: HttpRequestLike): RefusalRenderer | undefined =>
    refusalPage && ((r) => refusalPage({ ...r, method: request.method, path: request.path }));

  /** The cookie settings for a request; built once, picked per request. */
  function cookiesFor(request: HttpRequestLike): CookieSettings {
    if (settings.mode === 'development' && isLocalHost(request.header('host')))
      return settings.cookies.local;
    return settings.cookies.secure;
  }

  const http: SessionHttp<Data> = {
    manager,
    csrfField,
    formLimit: settings.formLimit,
    answer: errorAnswer,

    isExcluded(request) {
      return settings.excluded({ method: request.method, path: request.path });
    },

    excludedSession(request) {
      return excludedStandIn(request.method, request.path) as RequestSession<Data>;
    },

    isUpgrade(request) {
      return request.header('upgrade')?.trim().toLowerCase() === 'websocket';
    },

    async load(request) {
      const upgrade = http.isUpgrade(request);
      if (upgrade && !settings.originAllowed(request.header('origin'), request.header('host')))
        throw new OriginRefusedError();
      const names = cookiesFor(request).names;
      const ip = clientIp(request.remoteAddress, request.header('x-forwarded-for'), trustProxy);
      const userAgent = request.header('user-agent') ?? null;
      // The manager's clock, the one that stamps lastSeenAt: commit() compares the two.
      const loadedAt = manager.now();
      if (clientSide) {
        // The session is in the cookies themselves: no bearer token can name one.
        const read = readChunkCookies(
          request.header('cookie'),
          names.session,
          names.csrf,
          clientSide.maxChunks,
        );
        const scope = await clientSide.open((i) => read.chunks[i], loadedAt);
        const scoped = scopedManager(manager, scope);
        // Any chunk counts as a sent cookie: a leftover chunk without its first one is cleared too.
        const sent = read.sent.length > 0;
        const found = scope.token ? await scoped.validate(scope.token, { ip, userAgent }) : null;
        const session = new RequestSession<Data>({
          manager: scoped,
          record: found?.session ?? null,
          token: scope.token,
          source: sent ? 'cookie' : null,
          csrfCookie: read.csrf,
          ip,
          userAgent,
          loadedAt,
          miss: found
            ? missOf(found)
            : sent
              ? { reason: 'malformed', terminationReason: null }
              : null,
          readOnly: upgrade ? 'a WebSocket upgrade' : undefined,
        });
        clientSessions.set(session, { scope, sent: read.sent });
        if (sent && !session.exists) deadCookie.add(session);
        return session;
      }
      const cookies = readCookies(request.header('cookie'), names);
      const headerToken = bearer
        ? readBearer(
            request.header('authorization'),
            tokenHeader ? request.header(tokenHeader) : null,
          )
        : null;
      const token = headerToken ?? cookies.session;
      const source = headerToken !== null ? 'bearer' : cookies.session !== null ? 'cookie' : null;
      const found = token ? await manager.validate(token, { ip, userAgent }) : null;
      const session = new RequestSession<Data>({
        manager,
        record: found?.session ?? null,
        token,
        source,
        csrfCookie: cookies.csrf,
        ip,
        userAgent,
        loadedAt,
        miss: found ? missOf(found) : null,
        readOnly: upgrade ? 'a WebSocket upgrade' : undefined,
      });
      // A cookie that names no live session is cleared with the response.
      if (source !== 'bearer' && cookies.sessionSent && !session.exists) deadCookie.add(session);
      return session;
    },

    needsCsrf(request, session) {
      if (!manager.settings.csrf) return false;
      if (isSafeMethod(request.method)) return false;
      if (session.source === 'bearer') return false;
      return !skipCsrf({ method: request.method, path: request.path });
    },

    csrfFromHeader(request) {
      return request.header(csrfHeader) ?? undefined;
    },

    hasFormBody(request) {
      const type = request.header('content-type')?.toLowerCase() ?? '';
      return (
        type.startsWith('application/x-www-form-urlencoded') ||
        type.startsWith('multipart/form-data')
      );
    },

    async checkCsrf(request, session, readField) {
      if (!http.needsCsrf(request, session)) return;
      let submitted = http.csrfFromHeader(request);
      if (submitted === undefined && readField && session.hasCsrfToken) {
        const field = await readField(csrfField);
        submitted = typeof field === 'string' ? field : undefined;
      }
      if (!session.verifyCsrf(submitted)) throw new CsrfError();
    },

    needsCommit(session) {
      return cookiesDue(session) || session.needsCommit;
    },

    commitUnchanged(session) {
      return !cookiesDue(session) && session.commitUnchanged();
    },

    async commit(request, session) {
      const outcome: CommitOutcome = await session.commit();
      if (!session.usesCookies) return [];
      const cookies = cookiesFor(request);
      const headers: string[] = [];
      const maxAge = lifetime(session.record, cookies.maxAgeSeconds);
      const client = clientSessions.get(session);
      if (client)
        headers.push(
          ...(await clientCookies(client, session, outcome, cookies, maxAge, manager.now())),
        );
      else {
        let sessionToken = outcome.sessionToken;
        if (sessionToken === undefined && deadCookie.has(session) && !session.exists)
          sessionToken = null;
        if (sessionToken) headers.push(sessionCookie(sessionToken, cookies, maxAge));
        else if (sessionToken === null)
          headers.push(clearCookie(cookies.names.session, cookies, true));
      }
      if (outcome.csrfToken) headers.push(csrfCookie(outcome.csrfToken, cookies, maxAge));
      else if (outcome.csrfToken === null)
        headers.push(clearCookie(cookies.names.csrf, cookies, false));
      return headers;
    },

    answerError(err, request) {
      // A store failure has already been logged and counted by the manager (storeError event).
      return answerFor(err, request.header('accept'), pageFor(request));
    },
  };
  return http;
}

/** Sessions whose request carried a cookie for no live session: their cookie is cleared. */
const deadCookie = new WeakSet<object>();

/** Client-side sessions: the request's scope and the chunk cookies it carried. */
const clientSessions = new WeakMap<object, { scope: ClientSessionScope; sent: number[] }>();

/**
 * Cookies the handler itself may have to write at commit whatever the session did: a dead
 * cookie to clear, a client-side session's chunks (resealed when its scope changed).
 */
function cookiesDue(session: object): boolean {
  return deadCookie.has(session) || clientSessions.has(session);
}

/** `session.miss` from a validation that found no session. */
function missOf(found: {
  reason?: ValidateReason;
  terminationReason?: TerminationReason;
}): SessionMiss | null {
  return found.reason
    ? { reason: found.reason, terminationReason: found.terminationReason ?? null }
    : null;
}

/**
 * The chunk cookies of a client-side session at commit: sealed again when the request created,
 * rotated, changed or slid it; cleared when it ended or the request carried a dead one.
 */
async function clientCookies(
  client: { scope: ClientSessionScope; sent: number[] },
  session: RequestSession<SessionData>,
  outcome: CommitOutcome,
  cookies: CookieSettings,
  maxAge: number | null,
  now: number,
): Promise<string[]> {
  const { scope, sent } = client;
  const id = session.id;
  if (outcome.sessionToken === null || (id === null && deadCookie.has(session)))
    return chunkHeaders(null, sent, cookies, maxAge);
  const token = outcome.sessionToken ?? (id !== null && scope.changed(id) ? scope.token : null);
  if (id === null || !token) return [];
  return chunkHeaders(await scope.seal(id, token, now), sent, cookies, maxAge);
}
