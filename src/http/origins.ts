/**
 * The Origin check of WebSocket upgrades: a browser sends the site's cookies with a WebSocket
 * opened by any page (cross-site WebSocket hijacking), and an upgrade carries no CSRF token, so its
 * `Origin` must be the request's own host or one of `trustedOrigins`.
 */
import { ConfigError } from '../core/errors.js';

/** Whether an upgrade request's `Origin` may use the session, given its `Host`. */
export type OriginCheck = (
  origin: string | null | undefined,
  host: string | null | undefined,
) => boolean;

function defaultPort(protocol: string): string {
  return protocol === 'https:' || protocol === 'wss:' ? '443' : '80';
}

function parse(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Builds the check; each trusted origin must be a bare origin such as `https://app.example.com`. */
export function originChecker(trusted: unknown): OriginCheck {
  if (trusted !== undefined && !Array.isArray(trusted))
    throw new ConfigError(
      'trustedOrigins',
      'must be a list of origins such as "https://app.example.com"',
    );
  const allowed = new Set<string>();
  for (const [i, entry] of (trusted ?? []).entries()) {
    const url = typeof entry === 'string' ? parse(entry) : null;
    if (
      !url ||
      !/^https?:$/.test(url.protocol) ||
      url.origin !== entry.replace(/\/$/, '').toLowerCase()
    )
      throw new ConfigError(
        `trustedOrigins[${i}]`,
        'must be an origin: scheme, host and port only, such as "https://app.example.com"',
      );
    allowed.add(url.origin);
  }
  return (origin, host) => {
    // Browsers always send Origin with a WebSocket handshake: without one, no browser is involved.
    if (origin === undefined || origin === null) return true;
    const url = parse(origin.trim());
    if (!url || !/^https?:$/.test(url.protocol)) return false; // "null", garbage
    if (allowed.has(url.origin)) return true;
    if (!host) return false;
    // The scheme is not compared: a proxy in front may end TLS. Host and port must match.
    const own = parse(`http://${host.trim()}`);
    if (!own || own.username || own.password || own.pathname !== '/') return false;
    const port = (u: URL) => u.port || defaultPort(url.protocol);
    return own.hostname === url.hostname && port(own) === port(url);
  };
}
