/**
 * Cookie names and headers for the session and CSRF cookies, on plain header strings, so every
 * adapter and runtime reads and writes them the same way: the Cookie header is read in one pass
 * for just the two names, Set-Cookie is written by the `cookie` package. Hostile input
 * (oversized, duplicated, non-ASCII, malformed) reads as "no cookie", never as an exception.
 */
import { type SerializeOptions, stringifySetCookie } from 'cookie';

/**
 * A Cookie header longer than this is ignored as a whole (the visitor is treated as anonymous).
 * The server's own header limit is the real bound (Node's `maxHeaderSize`, 16 KB by default and
 * raised by the server's `maxHeaderSize` option or `--max-http-header-size`): a header the server
 * accepted is read whole, so other sites' cookies on the domain never hide the session cookie.
 * This only guards runtimes that set no limit of their own.
 */
export const MAX_COOKIE_HEADER_BYTES = 1_048_576;

/**
 * The two cookie names for one request: with the `__Host-` prefix when the cookies are Secure and
 * host-wide (no Domain, Path `/`), `__Secure-` when they are Secure with a Domain or another path.
 */
export interface CookieNames {
  session: string;
  csrf: string;
  secure: boolean;
}

/**
 * The prefix the browser enforces for a cookie's scope: `__Host-` needs Secure, no Domain and
 * Path `/`; `__Secure-` needs Secure only; plain cookies take none.
 */
export function cookiePrefix(secure: boolean, hostWide = true): '' | '__Host-' | '__Secure-' {
  if (!secure) return '';
  return hostWide ? '__Host-' : '__Secure-';
}

export function cookieNames(baseName: string, secure: boolean, hostWide = true): CookieNames {
  const prefix = cookiePrefix(secure, hostWide);
  return { session: `${prefix}${baseName}`, csrf: `${prefix}${baseName}.csrf`, secure };
}

/** True for http://localhost, 127.0.0.0/8 and [::1]: the only hosts development mode relaxes. */
export function isLocalHost(hostHeader: string | null | undefined): boolean {
  if (!hostHeader) return false;
  const host = hostHeader
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

export interface ReadCookies {
  /** The session cookie's value, or `null` when absent, duplicated or unreadable. */
  session: string | null;
  /** The CSRF cookie's value, or `null`. */
  csrf: string | null;
  /** Whether a session cookie was sent at all (so a dead one can be cleared). */
  sessionSent: boolean;
}

const NONE: ReadCookies = { session: null, csrf: null, sessionSent: false };

/** A cookie name a Cookie header carried: how many times, and the first value sent with it. */
export interface SentCookie {
  count: number;
  value: string | undefined;
}

/**
 * Scans a Cookie header once for the names `wanted` accepts (a header over
 * `MAX_COOKIE_HEADER_BYTES` carries none). Values are read as the `cookie` package reads them:
 * spaces and tabs trimmed, percent-decoding when it is valid; any whitespace around a name counts
 * it as sent, but only a space/tab-trimmed one carries a value.
 */
export function scanCookies(
  header: string | null | undefined,
  wanted: (name: string) => boolean,
): Map<string, SentCookie> {
  const found = new Map<string, SentCookie>();
  if (!header || header.length > MAX_COOKIE_HEADER_BYTES) return found;
  let start = 0;
  while (start <= header.length) {
    const semicolon = header.indexOf(';', start);
    const end = semicolon === -1 ? header.length : semicolon;
    const eq = header.indexOf('=', start);
    const hasValue = eq !== -1 && eq < end;
    const rawName = header.slice(start, hasValue ? eq : end);
    const name = rawName.trim();
    if (wanted(name)) {
      const value =
        hasValue && trimSpaces(rawName) === name
          ? decodeValue(trimSpaces(header.slice(eq + 1, end)))
          : undefined;
      const sent = found.get(name);
      if (sent) {
        sent.count++;
        sent.value ??= value;
      } else found.set(name, { count: 1, value });
    }
    if (semicolon === -1) break;
    start = semicolon + 1;
  }
  return found;
}

/**
 * The value of a scanned cookie, or undefined: a name sent twice (cookie tossing from a sibling
 * domain, or a stale path) is ambiguous, so it counts as absent, and so does anything but
 * printable ASCII.
 */
export function cookieValue(sent: SentCookie | undefined): string | undefined {
  return sent && sent.count === 1 && sent.value !== undefined && isPrintableAscii(sent.value)
    ? sent.value
    : undefined;
}

/**
 * Reads the session and CSRF cookies from a Cookie header in one pass (`scanCookies`): a name
 * sent twice counts as absent.
 */
export function readCookies(header: string | null | undefined, names: CookieNames): ReadCookies {
  if (!header || header.length > MAX_COOKIE_HEADER_BYTES) return NONE;
  const found = scanCookies(header, (name) => name === names.session || name === names.csrf);
  return {
    session: cookieValue(found.get(names.session)) ?? null,
    csrf: cookieValue(found.get(names.csrf)) ?? null,
    sessionSent: found.has(names.session),
  };
}

/** Trims spaces and tabs only, as cookie parsers do (other whitespace is part of the text). */
export function trimSpaces(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
  return text.slice(from, to);
}

/** Percent-decodes a value when it holds a `%` and decodes cleanly; otherwise keeps it. */
export function decodeValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function isPrintableAscii(value: string): boolean {
  return /^[\x21-\x7e]*$/.test(value);
}

export interface CookieSettings {
  names: CookieNames;
  /**
   * Max-Age in seconds of a cookie that belongs to no stored session (the pre-session CSRF
   * cookie): the idle timeout and a grace (see DEAD_TOKEN_GRACE_SECONDS); `null` for
   * browser-session cookies. A session's own cookies follow its expiry (`sessionCookieMaxAge`).
   */
  maxAgeSeconds: number | null;
  sameSite: 'lax' | 'strict' | 'none';
  /** @default "/" */
  path?: string;
  /** `undefined`: a host-only cookie. */
  domain?: string | undefined;
  /** CHIPS: the browser keeps the cookie per top-level site. @default false */
  partitioned?: boolean;
}

/**
 * The attributes of every cookie the HTTP layer (and a client-side store's chunk cookies) sets:
 * Secure, SameSite, Path, Domain and Partitioned from the settings, `HttpOnly` as asked, and
 * `Max-Age` in seconds (`null`: none, a browser-session cookie that ends when the browser closes;
 * `0`: a removal, with `Expires` in 1970 for old browsers). The one place these are decided, so a
 * cookie set with them is removed with them.
 */
export function cookieAttributes(
  s: CookieSettings,
  httpOnly: boolean,
  maxAgeSeconds: number | null,
): SerializeOptions {
  const attributes: SerializeOptions = {
    httpOnly,
    secure: s.names.secure,
    sameSite: s.sameSite,
    path: s.path ?? '/',
  };
  if (s.domain !== undefined) attributes.domain = s.domain;
  if (s.partitioned) attributes.partitioned = true;
  if (maxAgeSeconds !== null) attributes.maxAge = maxAgeSeconds;
  if (maxAgeSeconds === 0) attributes.expires = new Date(0);
  return attributes;
}

/**
 * Set-Cookie for the session token: HttpOnly, never readable by scripts. `maxAgeSeconds` defaults
 * to the settings' (`null`: a browser-session cookie).
 */
export function sessionCookie(
  token: string,
  s: CookieSettings,
  maxAgeSeconds: number | null = s.maxAgeSeconds,
): string {
  return stringifySetCookie(s.names.session, token, cookieAttributes(s, true, maxAgeSeconds));
}

/** Set-Cookie for the CSRF token: readable, so a script can copy it into `X-CSRF-Token`. */
export function csrfCookie(
  token: string,
  s: CookieSettings,
  maxAgeSeconds: number | null = s.maxAgeSeconds,
): string {
  return stringifySetCookie(s.names.csrf, token, cookieAttributes(s, false, maxAgeSeconds));
}

/** Set-Cookie that removes a cookie (same Path and Domain, so the browser matches it). */
export function clearCookie(name: string, s: CookieSettings, httpOnly: boolean): string {
  return stringifySetCookie(name, '', cookieAttributes(s, httpOnly, 0));
}

/** The token from `Authorization: Bearer <token>` or a configured header, or `null`. */
export function readBearer(
  authorization: string | null | undefined,
  custom: string | null | undefined,
): string | null {
  if (custom && custom.length <= 256) return custom.trim();
  if (!authorization || authorization.length > 512) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}
