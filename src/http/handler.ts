/**
 * Framework-neutral request handling: read the token (cookie or bearer header), load the session,
 * check CSRF on unsafe methods, and turn the commit into Set-Cookie headers. Works on any request
 * that can hand over its headers as strings, so the adapters stay thin; `handleFetch` wraps a Web
 * `Request` → `Response` handler for Bun, Deno and edge runtimes.
 */
import { ConfigError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { SessionData } from '../core/types.js';
import { clientIp, type TrustProxy, trustFunction } from './client-ip.js';
import {
  type CookieSettings,
  clearCookie,
  cookieNames,
  csrfCookie,
  isLocalHost,
  readBearer,
  readCookies,
  sessionCookie,
} from './cookies.js';
import {
  type ErrorAnswer,
  errorAnswer,
  type HttpErrorKind,
  isStoreFailure,
  type Refusal,
} from './responses.js';
import { type CommitOutcome, RequestSession } from './session.js';

export interface SessionHttpOptions {
  /**
   * `production` sets `Secure` and the `__Host-` prefix on both cookies. `development` drops them,
   * but only for requests to http://localhost (127.0.0.1, [::1]); every other host keeps them.
   * @default "production"
   */
  mode?: 'production' | 'development';
  /**
   * Base name of the cookies; the CSRF cookie is `<name>.csrf`. Production adds `__Host-`.
   * @default "tessera"
   */
  cookieName?: string;
  /**
   * SameSite of both cookies. `lax` keeps the session on links from other sites.
   * @default "lax"
   */
  sameSite?: 'lax' | 'strict';
  /**
   * Whether `X-Forwarded-For` is believed, and how far: see `TrustProxy`.
   * @default false
   */
  trustProxy?: TrustProxy;
  /**
   * Accept the token from `Authorization: Bearer <token>` (API and mobile clients). Such requests
   * need no CSRF token, since a browser never adds that header by itself.
   * @default true
   */
  bearer?: boolean;
  /**
   * Another request header that may carry the token instead of the cookie (e.g. `x-session-token`).
   * Treated like a bearer token. @default none
   */
  tokenHeader?: string;
  /**
   * Requests that need no CSRF token even with an unsafe method: exact paths, or a predicate.
   * Fastify routes can also say `config: { csrf: false }`.
   * @default none
   */
  skipCsrf?: string[] | ((request: { method: string; path: string }) => boolean);
  /** Name of the form field carrying the CSRF token. @default "_csrf" */
  csrfField?: string;
  /** Name of the header carrying the CSRF token. @default "x-csrf-token" */
  csrfHeader?: string;
  /**
   * Renders the HTML of the layer's own refusals (403 CSRF, 503 store outage, 400) for browsers,
   * so they can look like the app's other pages. Return the whole document, or `null` for the
   * built-in page; status and headers stay the layer's. JSON clients always get the JSON body.
   * Escape what you print (`escapeHtml`); a hook that throws gets the built-in page.
   * @default a plain built-in page
   */
  refusalPage?: (refusal: Refusal) => string | null | undefined;
}

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
  readonly csrfField: string;
  /** Saves the session's delta and returns the Set-Cookie header values for the response. */
  commit(request: HttpRequestLike, session: RequestSession<Data>): Promise<string[]>;
  /** The 403/429/503/400 answers, JSON or HTML by `Accept` (the built-in page). */
  answer: typeof errorAnswer;
  /** The answer refusing `request`: JSON or HTML by its `Accept`, HTML from `refusalPage`. */
  refuse(kind: HttpErrorKind, request: HttpRequestLike): ErrorAnswer;
  /** The answer for an error thrown while handling a request, or `null` when it is not ours. */
  answerError(err: unknown, request: HttpRequestLike): ErrorAnswer | null;
}

/** Runs an option check that throws a plain `Error`, as a `ConfigError` naming the option. */
function checked<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new ConfigError(field, (err as Error).message);
  }
}

/** A header name as an option: an HTTP token, returned in lower case. */
function headerName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(value))
    throw new ConfigError(field, 'must be a header name (letters, digits and - _ .)');
  return value.toLowerCase();
}

/** Builds the request handling for one manager. Options are checked at once. */
export function createSessionHttp<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: SessionHttpOptions = {},
): SessionHttp<Data> {
  const mode = options.mode ?? 'production';
  if (mode !== 'production' && mode !== 'development')
    throw new ConfigError('mode', 'must be "production" or "development"');
  const baseName = options.cookieName ?? 'tessera';
  if (typeof baseName !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(baseName))
    throw new ConfigError('cookieName', 'must be 1-64 letters, digits, ".", "_" or "-"');
  const sameSite = options.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict')
    throw new ConfigError('sameSite', 'must be "lax" or "strict"');
  const trust = options.trustProxy ?? false;
  const trustProxy = trust === false ? false : checked('trustProxy', () => trustFunction(trust));
  const bearer = options.bearer ?? true;
  const tokenHeader =
    options.tokenHeader === undefined ? undefined : headerName('tokenHeader', options.tokenHeader);
  const csrfField = options.csrfField ?? '_csrf';
  if (typeof csrfField !== 'string' || csrfField === '')
    throw new ConfigError('csrfField', 'must be a non-empty string');
  const csrfHeader = headerName('csrfHeader', options.csrfHeader ?? 'x-csrf-token');
  const skip = options.skipCsrf;
  const skipped =
    typeof skip === 'function'
      ? skip
      : Array.isArray(skip)
        ? (r: { path: string }) => skip.includes(r.path)
        : () => false;
  const maxAgeSeconds = Math.floor(manager.settings.idleTimeout / 1000);
  const refusalPage = options.refusalPage;
  if (refusalPage !== undefined && typeof refusalPage !== 'function')
    throw new ConfigError('refusalPage', 'must be a function (refusal) => HTML string');
  const refuse = (kind: HttpErrorKind, request: HttpRequestLike): ErrorAnswer =>
    errorAnswer(kind, request.header('accept'), {
      page:
        refusalPage && ((r) => refusalPage({ ...r, method: request.method, path: request.path })),
    });

  function settingsFor(request: HttpRequestLike): CookieSettings {
    const secure = !(mode === 'development' && isLocalHost(request.header('host')));
    return { names: cookieNames(baseName, secure), maxAgeSeconds, sameSite };
  }

  return {
    manager,
    csrfField,
    answer: errorAnswer,
    refuse,

    async load(request) {
      const settings = settingsFor(request);
      const cookies = readCookies(request.header('cookie'), settings.names);
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
      const loadedAt = Date.now();
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
      if (SAFE_METHODS.has(request.method.toUpperCase())) return false;
      if (session.source === 'bearer') return false;
      return !skipped({ method: request.method, path: request.path });
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

    async commit(request, session) {
      const outcome: CommitOutcome = await session.commit();
      if (!session.usesCookies) return [];
      const settings = settingsFor(request);
      const headers: string[] = [];
      let sessionToken = outcome.sessionToken;
      if (sessionToken === undefined && deadCookie.has(session) && !session.exists)
        sessionToken = null;
      if (sessionToken) headers.push(sessionCookie(sessionToken, settings));
      else if (sessionToken === null)
        headers.push(clearCookie(settings.names.session, settings, true));
      if (outcome.csrfToken) headers.push(csrfCookie(outcome.csrfToken, settings));
      else if (outcome.csrfToken === null)
        headers.push(clearCookie(settings.names.csrf, settings, false));
      return headers;
    },

    answerError(err, request) {
      if (!isStoreFailure(err)) return null;
      // The manager has already logged and counted the failure (storeError event).
      return refuse('store_unavailable', request);
    },
  };
}

/** Sessions whose request carried a cookie for no live session: their cookie is cleared. */
const deadCookie = new WeakSet<object>();

/** Builds an `HttpRequestLike` from a Web `Request` (and the peer address the runtime reports). */
export function fromFetchRequest(request: Request, remoteAddress?: string | null): HttpRequestLike {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    header: (name) => request.headers.get(name),
    remoteAddress: remoteAddress ?? null,
  };
}

/**
 * Runs a Web `Request` → `Response` handler with a session: loads it, enforces CSRF (reading the
 * `_csrf` field from a cloned form body), commits and adds the cookies. For Bun, Deno, Workers.
 */
export async function handleFetch<Data extends SessionData>(
  http: SessionHttp<Data>,
  request: Request,
  handler: (request: Request, session: RequestSession<Data>) => Response | Promise<Response>,
  remoteAddress?: string | null,
): Promise<Response> {
  const req = fromFetchRequest(request, remoteAddress);
  const toResponse = (a: ErrorAnswer) =>
    new Response(a.body, { status: a.status, headers: a.headers });
  try {
    const session = await http.load(req);
    if (http.needsCsrf(req, session)) {
      let submitted = http.csrfFromHeader(req);
      if (submitted === undefined && http.hasFormBody(req)) {
        const form = await request
          .clone()
          .formData()
          .catch(() => null);
        const value = form?.get(http.csrfField);
        submitted = typeof value === 'string' ? value : undefined;
      }
      if (!session.verifyCsrf(submitted)) return toResponse(http.refuse('csrf', req));
    }
    const response = await handler(request, session);
    const cookies = await http.commit(req, session);
    if (cookies.length === 0) return response;
    const out = new Response(response.body, response);
    for (const c of cookies) out.headers.append('set-cookie', c);
    return out;
  } catch (err) {
    const answer = http.answerError(err, req);
    if (answer) return toResponse(answer);
    throw err;
  }
}
