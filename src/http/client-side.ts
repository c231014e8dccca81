/**
 * The HTTP side of client-side sessions (a manager on the encrypted cookie store): the session
 * travels as chunk cookies, `<session cookie>`, `<session cookie>.1`, `<session cookie>.2`, …,
 * read back in order and rewritten whenever the session changes (a write, a slide of the idle
 * expiry, a login, a logout), adding the chunks a larger session needs and clearing the ones a
 * smaller one no longer uses. The manager's calls for a request run in the request's scope
 * (`ClientSessionScope.run`), so the store sees that request's cookies and nothing else.
 */
import type { ClientSessionScope } from '../core/client-side.js';
import type { SessionManager } from '../core/manager-api.js';
import type { SessionData } from '../core/types.js';
import {
  type CookieSettings,
  clearCookie,
  cookieValue,
  scanCookies,
  sessionCookie,
} from './cookies.js';

/** The name of chunk `index` of the session cookie `base`. */
export function chunkName(base: string, index: number): string {
  return index === 0 ? base : `${base}.${index}`;
}

/** The session's chunk cookies and the CSRF cookie, as a request carried them. */
export interface ChunkCookies {
  /** Chunk values by index; `undefined` for a chunk absent, sent twice, or unreadable. */
  chunks: (string | undefined)[];
  /** The indexes of the chunks the request carried (to clear the ones a new value does not use). */
  sent: number[];
  /** The CSRF cookie's value, or `null`. */
  csrf: string | null;
}

/**
 * Reads the session's chunk cookies and the CSRF cookie from a Cookie header in one pass, the way
 * `readCookies` reads a token cookie: a name sent twice counts as absent, values are trimmed and
 * percent-decoded when valid, and anything but printable ASCII is unreadable.
 */
export function readChunkCookies(
  header: string | null | undefined,
  session: string,
  csrfName: string,
  maxChunks: number,
): ChunkCookies {
  const names = Array.from({ length: maxChunks }, (_, i) => chunkName(session, i));
  const wanted = new Set([...names, csrfName]);
  const found = scanCookies(header, (name) => wanted.has(name));
  return {
    chunks: names.map((name) => cookieValue(found.get(name))),
    sent: names.flatMap((name, i) => (found.has(name) ? [i] : [])),
    csrf: cookieValue(found.get(csrfName)) ?? null,
  };
}

/**
 * The manager as one request sees it: every call runs in the request's scope, so the client-side
 * store acts on that request's session. Everything else (settings, events) is the manager's own.
 */
export function scopedManager<Data extends SessionData>(
  manager: SessionManager<Data>,
  scope: ClientSessionScope,
): SessionManager<Data> {
  return new Proxy(manager, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      // Synchronous calls stay synchronous; asynchronous ones carry the scope to their end.
      return (...args: unknown[]) =>
        scope.run(() => Reflect.apply(value as (...a: unknown[]) => unknown, target, args));
    },
  });
}

/**
 * Set-Cookie headers that write a sealed session as chunk cookies (the same attributes as the
 * session cookie) and clear the chunks the request carried that the new value does not use.
 * `values === null` clears every chunk the request carried (and the first one in any case).
 */
export function chunkHeaders(
  values: string[] | null,
  sent: readonly number[],
  cookies: CookieSettings,
  maxAge: number | null = cookies.maxAgeSeconds,
): string[] {
  const base = cookies.names.session;
  const headers: string[] = [];
  const count = values?.length ?? 0;
  values?.forEach((value, i) => {
    const names = { ...cookies.names, session: chunkName(base, i) };
    headers.push(sessionCookie(value, { ...cookies, names }, maxAge));
  });
  const clear = new Set(sent.filter((i) => i >= count));
  if (values === null) clear.add(0);
  for (const i of [...clear].sort((a, b) => a - b))
    headers.push(clearCookie(chunkName(base, i), cookies, true));
  return headers;
}
