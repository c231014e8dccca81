/**
 * The HTTP layer's options: their types and documentation, the one `HTTP_DEFAULTS` object every
 * default comes from, and the checks that turn them into settings when the layer is built (a bad
 * value is a `ConfigError` naming the option, never an error on the first request).
 */
import { ConfigError } from '../core/errors.js';
import type { Session } from '../core/manager-api.js';
import type { KnownKeys } from '../core/strict-options.js';
import { type TrustProxy, trustFunction } from './client-ip.js';
import { type CookieSettings, cookieNames } from './cookies.js';
import { type ExcludeOption, type ExcludeRequest, excludeMatcher } from './exclude.js';
import { type OriginCheck, originChecker } from './origins.js';
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
  cookiePath: '/',
  cookiePersistent: true,
  cookiePartitioned: false,
} as const;

/**
 * The options that have no default value (absent means "none"). With `HTTP_DEFAULTS` these are
 * every key `SessionHttpOptions` knows.
 */
export const HTTP_OPTIONS_WITHOUT_DEFAULT = [
  'tokenHeader',
  'skipCsrf',
  'refusalPage',
  'cookieDomain',
  'exclude',
  'trustedOrigins',
] as const;

export interface SessionHttpOptions {
  /**
   * `production` sets `Secure` and the `__Host-` prefix on both cookies. `development` drops them,
   * but only for requests to http://localhost (127.0.0.1, [::1]); every other host keeps them.
   * @default "production"
   */
  mode?: 'production' | 'development';
  /**
   * Base name of the cookies; the CSRF cookie is `<name>.csrf`. Secure cookies always get the
   * prefix their scope allows, added to this name: `__Host-` with no `cookieDomain` and a
   * `cookiePath` of `/`, else `__Secure-` (a name that already starts with either is refused).
   * @default "tessera"
   */
  cookieName?: string;
  /**
   * SameSite of both cookies. `lax` keeps the session on links from other sites; `none` sends it
   * in cross-site requests too (an app embedded in another site's iframe): it needs Secure cookies,
   * so it is refused in `development` mode, which drops Secure for localhost.
   * @default "lax"
   */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * Path of both cookies: the browser sends them only to this path and below. Any other path than
   * `/` changes the prefix from `__Host-` to `__Secure-`.
   * @default "/"
   */
  cookiePath?: string;
  /**
   * Domain of both cookies, e.g. `example.com` to share the session with its subdomains. Without
   * it the cookies are host-only. Setting it changes the prefix from `__Host-` to `__Secure-`.
   * `development` mode leaves it out for http://localhost, whose cookies could not carry it.
   * @default none (host-only)
   */
  cookieDomain?: string;
  /**
   * `true`: the cookies' `Max-Age` follows each session's own expiry (its idle expiry, capped by
   * its absolute lifetime, plus a day so a returning browser can be told why it ended), so a
   * 30-day "remember me" session gets a 30-day cookie. `false`: browser-session cookies (no
   * `Max-Age`), dropped when the browser closes; the session still ends at its own expiry. A
   * function decides per session, e.g. `(s) => s.data.rememberMe === true`.
   * @default true
   */
  cookiePersistent?: boolean | ((session: Readonly<Session>) => boolean);
  /**
   * CHIPS: the browser keeps the cookies per top-level site, for an app embedded in other sites'
   * iframes (with `sameSite: 'none'`). Partitioned cookies must be Secure, so it is refused in
   * `development` mode.
   * @default false
   */
  cookiePartitioned?: boolean;
  /**
   * Requests that get no session at all (no store call, no cookie, no CSRF check), e.g. health
   * checks and static files: paths (`/health`), prefixes (`/static/*`: everything below),
   * globs (`*` within one segment, `**` across segments), regular expressions, or a predicate.
   * They see the raw path, case-sensitively; a path with `..`, `.`, `//`, `\` or `%` escapes is
   * never excluded. Using the session of an excluded request throws `SessionExcludedError`.
   * Fastify routes can also say `config: { session: false }`.
   * @default none
   */
  exclude?: ExcludeOption;
  /**
   * Origins (`https://app.example.com`) besides the request's own host that may open WebSocket
   * connections with the session: an upgrade request whose `Origin` is neither is refused with 403
   * (cross-site WebSocket hijacking: a browser sends cookies with any site's WebSocket).
   * @default none (same host only)
   */
  trustedOrigins?: readonly string[];
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
  exclude: true,
  trustedOrigins: true,
  cookieDomain: true,
  cookiePath: true,
  cookiePersistent: true,
  cookiePartitioned: true,
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
  /** Whether a session's cookies carry Max-Age (false: browser-session cookies). */
  persistent: (session: Readonly<Session>) => boolean;
  /** Whether a request gets no session (`exclude`). */
  excluded: (request: ExcludeRequest) => boolean;
  /** Whether an upgrade request's Origin may use the session (`trustedOrigins`). */
  originAllowed: OriginCheck;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
const COOKIE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;
const COOKIE_DOMAIN = /^\.?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i;

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
  if (/^__(host|secure)-/i.test(baseName))
    throw new ConfigError(
      'cookieName',
      'give the name without a __Host- or __Secure- prefix: the prefix is added for Secure cookies',
    );
  const sameSite = options.sameSite ?? HTTP_DEFAULTS.sameSite;
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none')
    throw new ConfigError('sameSite', 'must be "lax", "strict" or "none"');
  if (sameSite === 'none' && mode === 'development')
    throw new ConfigError(
      'sameSite',
      '"none" needs Secure cookies, which development mode drops for http://localhost: use "lax" in development, or mode "production" over https',
    );
  const path = options.cookiePath ?? HTTP_DEFAULTS.cookiePath;
  if (typeof path !== 'string' || path.length > 1024 || !COOKIE_PATH.test(path))
    throw new ConfigError('cookiePath', 'must be a URL path starting with "/" (no ";" or spaces)');
  const domain = options.cookieDomain;
  if (
    domain !== undefined &&
    (typeof domain !== 'string' || domain.length > 253 || !COOKIE_DOMAIN.test(domain))
  )
    throw new ConfigError('cookieDomain', 'must be a host name such as "example.com"');
  const partitioned = options.cookiePartitioned ?? HTTP_DEFAULTS.cookiePartitioned;
  if (typeof partitioned !== 'boolean')
    throw new ConfigError('cookiePartitioned', 'must be true or false');
  if (partitioned && mode === 'development')
    throw new ConfigError(
      'cookiePartitioned',
      'partitioned cookies must be Secure, which development mode drops for http://localhost: leave it off in development, or use mode "production" over https',
    );
  const persistent = options.cookiePersistent ?? HTTP_DEFAULTS.cookiePersistent;
  if (typeof persistent !== 'boolean' && typeof persistent !== 'function')
    throw new ConfigError(
      'cookiePersistent',
      'must be true, false or a function (session) => boolean',
    );
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
  // Without persistence even the pre-session CSRF cookie is a browser-session cookie.
  const scope = {
    maxAgeSeconds: persistent === false ? null : maxAgeSeconds,
    sameSite,
    path,
    domain,
    partitioned,
  };
  return {
    mode,
    formLimit,
    cookies: {
      secure: {
        names: cookieNames(baseName, true, domain === undefined && path === '/'),
        ...scope,
      },
      // A Domain set by http://localhost would be refused by the browser: host-only there.
      local: { names: cookieNames(baseName, false), ...scope, domain: undefined },
    },
    persistent: typeof persistent === 'function' ? persistent : () => persistent,
    excluded: excludeMatcher(options.exclude),
    originAllowed: originChecker(options.trustedOrigins),
    trustProxy,
    bearer: Boolean(options.bearer ?? HTTP_DEFAULTS.bearer),
    tokenHeader,
    skipCsrf: skipPredicate(options.skipCsrf),
    csrfField,
    csrfHeader: headerName('csrfHeader', options.csrfHeader ?? HTTP_DEFAULTS.csrfHeader),
    refusalPage,
  };
}
