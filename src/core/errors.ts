/**
 * Typed errors. Callers recognise an error by its class or its `code`, never by its message.
 * Every error keeps the underlying `cause`. Messages never contain tokens or passwords.
 */

export type TesseraErrorCode =
  | 'CONFIG_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'STORE_ERROR'
  | 'DATA_TOO_LARGE'
  | 'SESSION_NOT_FOUND'
  | 'CSRF_INVALID'
  | 'RATE_LIMITED'
  | 'INVALID_INPUT'
  | 'MISSING_DEPENDENCY'
  | 'SESSION_COMMITTED'
  | 'NO_SESSION_MIDDLEWARE'
  | 'NOT_SUPPORTED'
  | 'BAD_REQUEST'
  | 'FORM_TOO_LARGE'
  | 'CLOSED'
  | 'SESSION_EXCLUDED'
  | 'SESSION_READ_ONLY'
  | 'ORIGIN_REFUSED';

export class TesseraError extends Error {
  readonly code: TesseraErrorCode;

  constructor(code: TesseraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration, thrown when an object is built. `field` names the offending option. */
export class ConfigError extends TesseraError {
  readonly field: string;
  /** What is wrong with the value, without the field name. */
  readonly problem: string;
  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', `[tessera] invalid configuration: ${field}: ${problem}`, options);
    this.field = field;
    this.problem = problem;
  }
}

/**
 * An options object holds a key Tessera does not know (a misspelling, an option of another
 * library): nothing is silently ignored. `key` is the unknown key (dotted inside a nested object,
 * `cookie.sameStie`), `suggestion` the nearest valid key when one is close (`suggestions` all of
 * the equally near ones), `where` the call that refused it.
 */
export class UnknownOptionError extends ConfigError {
  readonly key: string;
  readonly suggestion: string | undefined;
  readonly suggestions: readonly string[];
  readonly where: string;
  constructor(
    where: string,
    key: string,
    suggestions: readonly string[],
    known: readonly string[],
  ) {
    const hint =
      suggestions.length > 0
        ? `did you mean ${suggestions.map((s) => JSON.stringify(s)).join(' or ')}?`
        : `the options are ${known.map((k) => JSON.stringify(k)).join(', ')}`;
    // An empty key (`{ "": 1 }` from a config file) is still named, as `""`.
    super(key === '' ? '""' : key, `unknown option; ${hint}`);
    this.message = `[tessera] Unknown option ${JSON.stringify(key)} in ${where}: ${hint}`;
    this.key = key;
    this.suggestion = suggestions[0];
    this.suggestions = suggestions;
    this.where = where;
  }
}

/**
 * A backend is down, unreachable or slower than its timeout. `store` is the store's name and
 * `address` where it was looked for (host:port, path), never a credential.
 */
export class StoreUnavailableError extends TesseraError {
  readonly store: string;
  readonly address: string | undefined;
  /**
   * 503, for error handlers that read `status` (Express's own, and so express-session apps on
   * `TesseraStore`): a store outage is a "try again", not a 500.
   */
  readonly status = 503;
  constructor(
    store: string,
    address: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'STORE_UNAVAILABLE',
      `[tessera] [${store}] unavailable${address ? ` at ${address}` : ''}: ${detail}`,
      options,
    );
    this.store = store;
    this.address = address;
  }
}

/** The backend answered but the operation failed for another reason (a constraint, a bad reply). */
export class StoreError extends TesseraError {
  readonly store: string;
  constructor(store: string, detail: string, options?: { cause?: unknown }) {
    super('STORE_ERROR', `[tessera] [${store}] ${detail}`, options);
    this.store = store;
  }
}

/** Session data exceeded the configured `maxDataBytes` or a store's own limit. */
export class DataTooLargeError extends TesseraError {
  readonly bytes: number;
  readonly limit: number;
  constructor(bytes: number, limit: number) {
    super(
      'DATA_TOO_LARGE',
      `[tessera] session data is ${bytes} bytes, over the limit of ${limit} bytes (maxDataBytes)`,
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** An operation that needs a live session found none (it expired, was terminated or never existed). */
export class SessionNotFoundError extends TesseraError {
  constructor(detail = 'session not found') {
    super('SESSION_NOT_FOUND', `[tessera] ${detail}`);
  }
}

/**
 * A value the application passed cannot be stored faithfully by every backend: a user id or a
 * top-level data key that is not well-formed Unicode (a lone surrogate, which UTF-8 backends turn
 * into U+FFFD so that two users would share one id), or a user id holding a NUL character.
 * `field` names the argument.
 */
export class InvalidInputError extends TesseraError {
  readonly field: string;
  /** 400, for error handlers that read `status` (Express's own, Fastify's): the input was wrong. */
  readonly status = 400;
  constructor(field: string, problem: string) {
    super('INVALID_INPUT', `[tessera] invalid ${field}: ${problem}`);
    this.field = field;
  }
}

/** An optional peer dependency is not installed. The message says what to install. */
export class MissingDependencyError extends TesseraError {
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super(
      'MISSING_DEPENDENCY',
      `[tessera] ${feature} needs the package "${packageName}": run \`npm install ${packageName}\``,
      options,
    );
    this.packageName = packageName;
  }
}

/**
 * A request's CSRF token is missing or does not match its session. The HTTP layer throws it when it
 * refuses a request and answers it with 403; the refusal is also counted as `csrfRejected`.
 */
export class CsrfError extends TesseraError {
  constructor() {
    super('CSRF_INVALID', '[tessera] missing or invalid CSRF token');
  }
}

/**
 * Login attempts are over the limit. Every adapter answers it with 429 and `Retry-After`, so a
 * login route may throw it with the `retryAfterMs` of a refused `LoginVerdict` or `LoginResult`.
 */
export class RateLimitedError extends TesseraError {
  /** How long until a counter resets, in ms. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('RATE_LIMITED', `[tessera] too many login attempts; retry in ${retryAfterMs} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A request's session was changed after it was saved with the response. */
export class SessionCommittedError extends TesseraError {
  constructor() {
    super(
      'SESSION_COMMITTED',
      '[tessera] the session was already saved with the response; change it before sending the response',
    );
  }
}

/** A route asked for the request's session, but the session middleware did not run before it. */
export class NoSessionMiddlewareError extends TesseraError {
  constructor(middleware: string) {
    super(
      'NO_SESSION_MIDDLEWARE',
      `[tessera] no session on this request: mount ${middleware} before this route`,
    );
  }
}

/** The operation needs a capability the store does not have (`capabilities` says which). */
export class NotSupportedError extends TesseraError {
  readonly store: string;
  constructor(store: string, detail: string) {
    super('NOT_SUPPORTED', `[tessera] the ${store} store ${detail}`);
    this.store = store;
  }
}

/**
 * A request that cannot be read as HTTP says it should be: a Host header that names no host, a path
 * with broken percent-encoding. Every adapter answers it with 400 and the message.
 */
export class BadRequestError extends TesseraError {
  /** What is wrong with the request, for the person reading the 400 answer. */
  readonly detail: string;
  constructor(detail: string) {
    super('BAD_REQUEST', `[tessera] bad request: ${detail}`);
    this.detail = detail;
  }
}

/**
 * A form body is longer than the HTTP layer's `formLimit` and its first `formLimit` bytes hold no
 * CSRF field: the rest is not read, and every adapter answers 413. Send the token in the CSRF
 * header (or as the form's first field) with large uploads.
 */
export class FormTooLargeError extends TesseraError {
  /** The most bytes of a form read to find the CSRF field (`formLimit`). */
  readonly limit: number;
  constructor(limit: number) {
    super(
      'FORM_TOO_LARGE',
      `[tessera] the form is larger than ${limit} bytes and no CSRF token was found in them`,
    );
    this.limit = limit;
  }
}

/** Something (a store, a manager) was used after its `close()`. `what` names it. */
export class ClosedError extends TesseraError {
  readonly what: string;
  constructor(what: string) {
    super('CLOSED', `[tessera] ${what} was used after close()`);
    this.what = what;
  }
}

/**
 * A route used the session of a request the `exclude` option (or Fastify's `config: { session:
 * false }`) gives no session: a mistake in the app's configuration, not in the request.
 */
export class SessionExcludedError extends TesseraError {
  constructor(method: string, path: string) {
    super(
      'SESSION_EXCLUDED',
      `[tessera] ${method} ${path.slice(0, 200)} has no session: its path is excluded from sessions (the exclude option or the route's session: false); remove it from exclude to use the session here`,
    );
  }
}

/**
 * A change to a session loaded read-only: the session of a WebSocket upgrade, which has no response
 * to carry a cookie. Change it through the manager (`manager.update(session.record, …)`).
 */
export class SessionReadOnlyError extends TesseraError {
  constructor(what: string) {
    super(
      'SESSION_READ_ONLY',
      `[tessera] the session of ${what} is read-only: change it with manager.update(), not through this session`,
    );
  }
}

/**
 * A WebSocket upgrade came from a page of another origin than the request's host and the
 * `trustedOrigins`: refused with 403, since a browser sends the session cookie with it.
 */
export class OriginRefusedError extends TesseraError {
  /** 403, for error handlers that read `status`. */
  readonly status = 403;
  constructor() {
    super(
      'ORIGIN_REFUSED',
      '[tessera] the Origin of this WebSocket upgrade is neither this host nor one of trustedOrigins',
    );
  }
}

export function isTesseraError(value: unknown): value is TesseraError {
  return value instanceof TesseraError;
}

/**
 * A configuration value as shown in an error message: numbers and strings as they are, anything
 * else by its type (a prototype-less object or a Symbol cannot be turned into a string safely).
 */
export function shownValue(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : typeof value;
}
