/**
 * Framework-neutral request handling: read the token (cookie or bearer header), load the session,
 * check CSRF on unsafe methods, and turn the commit into Set-Cookie headers. Works on any request
 * that can hand over its headers as strings, so the adapters stay thin.
 */
import { CsrfError } from '../core/errors.js';
import type { SessionManager } from '../core/manager-api.js';
import type { SessionData } from '../core/types.js';
import { clientIp } from './client-ip.js';
import {
  type CookieSettings,
  clearCookie,
  csrfCookie,
  isLocalHost,
  readBearer,
  readCookies,
  sessionCookie,
} from './cookies.js';
import {
  DEAD_TOKEN_GRACE_SECONDS,
  resolveHttpOptions,
  type SessionHttpOptions,
} from './http-options.js';
import { answerFor, type ErrorAnswer, errorAnswer, type RefusalRenderer } from './responses.js';
import { type CommitOutcome, RequestSession } from './session.js';

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
  /** Reads the token and loads the session. Throws a store error when the store fails (→ 503). */
  load(request: HttpRequestLike): Promise<RequestSession<Data>>;
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
  // The cookies outlive the session's idle timeout by a day: a dead token is worthless, and a
  // browser that still sends it lets the app say why the session ended ("signed out after 30
  // minutes of inactivity") instead of showing a bare login page.
  const settings = resolveHttpOptions(
    options,
    Math.floor(manager.settings.idleTimeout / 1000) + DEAD_TOKEN_GRACE_SECONDS,
  );
  const { trustProxy, bearer, tokenHeader, csrfField, csrfHeader, skipCsrf } = settings;
  const { refusalPage } = settings;
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

    async load(request) {
      const cookies = readCookies(request.header('cookie'), cookiesFor(request).names);
      const headerToken = bearer
        ? readBearer(
            request.header('authorization'),
            tokenHeader ? request.header(tokenHeader) : null,
          )
        : null;
      const token = headerToken ?? cookies.session;
      const source = headerToken !== null ? 'bearer' : cookies.session !== null ? 'cookie' : null;
      const ip = clientIp(request.remoteAddress, request.header('x-forwarded-for'), trustProxy);
      const userAgent = request.header('user-agent') ?? null;
      // The manager's clock, the one that stamps lastSeenAt: commit() compares the two.
      const loadedAt = manager.now();
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
        miss:
          found && !found.session
            ? { reason: found.reason, terminationReason: found.terminationReason ?? null }
            : null,
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

    async commit(request, session) {
      const outcome: CommitOutcome = await session.commit();
      if (!session.usesCookies) return [];
      const cookies = cookiesFor(request);
      const headers: string[] = [];
      let sessionToken = outcome.sessionToken;
      if (sessionToken === undefined && deadCookie.has(session) && !session.exists)
        sessionToken = null;
      if (sessionToken) headers.push(sessionCookie(sessionToken, cookies));
      else if (sessionToken === null)
        headers.push(clearCookie(cookies.names.session, cookies, true));
      if (outcome.csrfToken) headers.push(csrfCookie(outcome.csrfToken, cookies));
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
