/**
 * The HTTP layer's options: their types and documentation, the one `HTTP_DEFAULTS` object every
 * default comes from, and the checks that turn them into settings when the layer is built (a bad
 * value is a `ConfigError` naming the option, never an error on the first request).
 */
import { ConfigError } from '../core/errors.js';
import type { KnownKeys } from '../core/strict-options.js';
import { type TrustProxy, trustFunction } from './client-ip.js';
import { type CookieSettings, cookieNames } from './cookies.js';
import type { Refusal } from './responses.js';

/**
 * Every default of the HTTP layer and the adapters, declared once; the `@default` tags below say
 * the same (test/core/defaults.test.ts checks that they agree).
 */
export const HTTP_DEFAULTS = {
  mode: 'production',
  cookieName: 'tessera',
  sameSite: 'lax',
  trustProxy: false,
  bearer: true,
  csrfField: '_csrf',
  csrfHeader: 'x-csrf-token',
  /** The most bytes of a form body the adapters read to find the CSRF field: 1 MiB. */
  formLimit: 1_048_576,
} as const;

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
  /**
   * Name of the form field carrying the CSRF token.
   * @default "_csrf"
   */
  csrfField?: string;
  /**
   * Name of the header carrying the CSRF token.
   * @default "x-csrf-token"
   */
  csrfHeader?: string;
  /**
   * Renders the HTML of the layer's own refusals (403 CSRF, 429, 503 store outage, 400) for
   * browsers, so they can look like the app's other pages. Return the whole document, or `null` for
   * the built-in page; status and headers stay the layer's. JSON clients always get the JSON body.
   * Escape what you print (`escapeHtml`); a hook that throws gets the built-in page.
   * @default none (the built-in page)
   */
  refusalPage?: (refusal: Refusal) => string | null | undefined;
  /**
   * The most bytes of a urlencoded or multipart body read to find the CSRF field when no header
   * carries the token. A longer form counts only if the field ends within them (put it first);
   * otherwise it is refused with 413 and the rest is never read.
   * @default 1048576
   */
  formLimit?: number;
}

/**
 * The HTTP layer's option keys, listed once (the compiler checks the list against the interface).
 * Each adapter adds its own keys to these; any other key is an `UnknownOptionError`.
 */
export const HTTP_KNOWN_KEYS = {
  mode: true,
  cookieName: true,
  sameSite: true,
  trustProxy: true,
  bearer: true,
  tokenHeader: true,
  skipCsrf: true,
  csrfField: true,
  csrfHeader: true,
  refusalPage: true,
  formLimit: true,
} as const satisfies KnownKeys<SessionHttpOptions>;

/**
 * How much longer than the idle timeout the session and CSRF cookies live (`Max-Age`), in seconds:
 * long enough that a browser coming back after its session idled out still presents the dead
 * token, so `session.miss` can say why it ended.
 */
export const DEAD_TOKEN_GRACE_SECONDS = 86_400;

/** The options after checking, with what every request needs built once. */
export interface HttpSettings {
  mode: 'production' | 'development';
  /** Cookie names and attributes for secure requests, and for development requests to localhost. */
  cookies: { secure: CookieSettings; local: CookieSettings };
  trustProxy: false | ((address: string, hop: number) => boolean);
  bearer: boolean;
  /** Lower case, or `undefined` when no extra header carries the token. */
  tokenHeader: string | undefined;
  skipCsrf: (request: { method: string; path: string }) => boolean;
  csrfField: string;
  /** Lower case. */
  csrfHeader: string;
  refusalPage: ((refusal: Refusal) => string | null | undefined) | undefined;
  formLimit: number;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A header name as an option: an HTTP token, returned in lower case. */
function headerName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value))
    throw new ConfigError(field, 'must be a header name (letters, digits and - _ .)');
  return value.toLowerCase();
}

function skipPredicate(skip: unknown): HttpSettings['skipCsrf'] {
  if (typeof skip === 'function') return skip as HttpSettings['skipCsrf'];
  if (Array.isArray(skip)) return (r) => skip.includes(r.path);
  return () => false;
}

/**
 * Checks the options and builds the settings; `maxAgeSeconds` is the cookies' Max-Age (the
 * manager's idle timeout plus `DEAD_TOKEN_GRACE_SECONDS`). A bad value throws `ConfigError` naming the option.
 */
export function resolveHttpOptions(
  options: SessionHttpOptions,
  maxAgeSeconds: number,
): HttpSettings {
  const mode = options.mode ?? HTTP_DEFAULTS.mode;
  if (mode !== 'production' && mode !== 'development')
    throw new ConfigError('mode', 'must be "production" or "development"');
  const baseName = options.cookieName ?? HTTP_DEFAULTS.cookieName;
  if (typeof baseName !== 'string' || !COOKIE_NAME.test(baseName))
    throw new ConfigError('cookieName', 'must be 1-64 letters, digits, ".", "_" or "-"');
  const sameSite = options.sameSite ?? HTTP_DEFAULTS.sameSite;
  if (sameSite !== 'lax' && sameSite !== 'strict')
    throw new ConfigError('sameSite', 'must be "lax" or "strict"');
  const trust = options.trustProxy ?? HTTP_DEFAULTS.trustProxy;
  const trustProxy = trust === false ? false : trustFunction(trust);
  const tokenHeader =
    options.tokenHeader === undefined ? undefined : headerName('tokenHeader', options.tokenHeader);
  const csrfField = options.csrfField ?? HTTP_DEFAULTS.csrfField;
  if (typeof csrfField !== 'string' || csrfField === '')
    throw new ConfigError('csrfField', 'must be a non-empty string');
  const refusalPage = options.refusalPage;
  if (refusalPage !== undefined && typeof refusalPage !== 'function')
    throw new ConfigError('refusalPage', 'must be a function (refusal) => HTML string');
  const formLimit = options.formLimit ?? HTTP_DEFAULTS.formLimit;
  if (!Number.isInteger(formLimit) || formLimit < 1 || formLimit > 2 ** 31 - 1)
    throw new ConfigError('formLimit', 'must be a whole number of bytes, at least 1');
  return {
    mode,
    formLimit,
    cookies: {
      secure: { names: cookieNames(baseName, true), maxAgeSeconds, sameSite },
      local: { names: cookieNames(baseName, false), maxAgeSeconds, sameSite },
    },
    trustProxy,
    bearer: Boolean(options.bearer ?? HTTP_DEFAULTS.bearer),
    tokenHeader,
    skipCsrf: skipPredicate(options.skipCsrf),
    csrfField,
    csrfHeader: headerName('csrfHeader', options.csrfHeader ?? HTTP_DEFAULTS.csrfHeader),
    refusalPage,
  };
}
