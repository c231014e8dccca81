/**
 * Strict options: every options object Tessera reads (the manager's, each store's, each adapter's,
 * the per-call options of `create`, `regenerate`, …) is checked for keys it does not know, so a
 * misspelt option (`idleTimout`) is a `ConfigError` naming it and the nearest valid key instead
 * of a setting silently left at its default.
 *
 * Each options interface lists its keys once, next to its defaults, as an object checked by the
 * compiler: `{ a: true, b: true } as const satisfies KnownKeys<Options>` fails to type-check when
 * an option is added to the interface and not to the list (or listed without being an option).
 */
import { UnknownOptionError } from './errors.js';

/** Every key of each member of a union (`keyof` of a union keeps only the shared ones). */
type AllKeys<T> = T extends unknown ? keyof T : never;

/** The known keys of an options type: one `true` per key, none missing, none extra. */
export type KnownKeys<T> = { readonly [K in Exclude<AllKeys<T>, symbol | number>]-?: true };

/**
 * Names other libraries use for an option Tessera calls otherwise (express-session, cookie
 * libraries, Redis clients). Looked up lower-cased; only the names the checked object knows are
 * suggested.
 */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  ttl: ['idleTimeout', 'absoluteTimeout', 'ttl'],
  maxage: ['idleTimeout', 'absoluteTimeout', 'maxAge'],
  expires: ['absoluteTimeout', 'idleTimeout'],
  timeout: ['idleTimeout', 'commandTimeout', 'connectTimeout', 'timeout'],
  secret: ['secrets'],
  keys: ['secrets'],
  name: ['cookieName'],
  key: ['cookieName'],
  secure: ['mode'],
  samesite: ['sameSite'],
  keyprefix: ['prefix'],
  namespace: ['prefix'],
  maxsessions: ['maxSessionsPerUser', 'maxSessions'],
  redisurl: ['url'],
  connectionstring: ['url'],
};

/**
 * Edit distance with adjacent transpositions (optimal string alignment): "idleTimout" is one
 * edit from "idleTimeout", "sameStie" one from "sameSite".
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known keys closest to `key`: its aliases that `known` holds, else the keys within a third
 * of its length in edits (at least one, at most three), case ignored. Empty when nothing is close:
 * a guess far off would mislead more than it helps.
 */
export function nearestKeys(key: string, known: readonly string[]): string[] {
  const lower = key.toLowerCase();
  const aliased = (ALIASES[lower] ?? []).filter((k) => known.includes(k));
  if (aliased.length > 0) return aliased;
  const limit = Math.min(3, Math.max(1, Math.floor(lower.length / 3)));
  let best = Number.POSITIVE_INFINITY;
  let nearest: string[] = [];
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance > limit || distance > best) continue;
    if (distance < best) nearest = [];
    best = distance;
    nearest.push(candidate);
  }
  return nearest;
}

/**
 * Throws `UnknownOptionError` for the first own key of `options` that `known` does not list.
 * `where` names the call for the message (`createSessionManager()`, `createRedisStore()`);
 * `path` prefixes the key of a nested object (`"rateLimit"` → `rateLimit.windw`). Anything but a
 * plain object (`undefined`, `false`, a function) is left to the value checks.
 */
export function rejectUnknownKeys(
  where: string,
  options: unknown,
  known: Readonly<Record<string, true>>,
  path?: string,
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return;
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const prefix = path ? `${path}.` : '';
    const names = Object.keys(known);
    throw new UnknownOptionError(
      where,
      `${prefix}${key}`,
      nearestKeys(key, names).map((k) => `${prefix}${k}`),
      names.map((k) => `${prefix}${k}`),
    );
  }
}
