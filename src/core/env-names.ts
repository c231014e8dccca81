/**
 * The environment variables Tessera reads, and the warning for one it does not: a `SESSION_*`,
 * `REDIS_*` or `MEMCACHED_*` variable that no Tessera code reads is almost always a typo or a name
 * from another library (`MEMCACHED_HOSTNAME`, `REDIS_TIMEOUT`), and ignoring it silently would
 * connect to the default host without a word. The warning names the variable and the nearest
 * known name, never its value (it may be a password).
 */
import type { Logger } from './logger.js';

/** Every variable `configFromEnv()` reads. */
export const CONFIG_ENV_VARIABLES = [
  'SESSION_STORAGE',
  'SESSION_FALLBACK',
  'SESSION_IDLE_TIMEOUT',
  'SESSION_TIMEOUT_MINUTES',
  'CLEANUP_INTERVAL_MINUTES',
  'MAX_SESSIONS_PER_USER',
  'REDIS_URL',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_DB',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_SSL',
  'REDIS_POOL_SIZE',
  'REDIS_CONNECT_TIMEOUT',
  'MEMCACHED_SERVERS',
  'MEMCACHED_HOST',
  'MEMCACHED_PORT',
  'MEMCACHED_POOL_SIZE',
  'DATABASE_URL',
] as const;

/** The variables `storeOptionsFromEnv()` reads (tessera-session/stores' factory). */
export const STORE_ENV_VARIABLES = [
  'SESSION_KEY_PREFIX',
  'SESSION_FILE_DIR',
  'SESSION_COOKIE_SECRETS',
] as const;

const KNOWN: readonly string[] = [...CONFIG_ENV_VARIABLES, ...STORE_ENV_VARIABLES];

/** The prefixes whose unknown variables are warned about. */
const WATCHED = /^(SESSION|REDIS|MEMCACHED)_/;

/** Where the warnings go: a logger's `warn`, or by default a Node process warning. */
export type EnvWarn = (fields: Record<string, unknown>, message: string) => void;

/** A logger's `warn` when one is given; else `process.emitWarning`, each message once per process. */
export function envWarner(logger: Pick<Logger, 'warn'> | undefined): EnvWarn {
  if (logger) return (fields, message) => logger.warn(fields, message);
  return (_fields, message) => {
    if (emitted.has(message)) return;
    emitted.add(message);
    process.emitWarning(message, { code: 'TESSERA_ENV' });
  };
}
const emitted = new Set<string>();

/** Edit distance (insertions, deletions, substitutions) between two short names. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length]!;
}

/** The words of a variable name, a trailing plural `S` dropped (`SECRETS` is `SECRET`). */
function words(name: string): Set<string> {
  return new Set(name.split('_').map((w) => (w.length > 3 ? w.replace(/S$/, '') : w)));
}

/**
 * The known variable nearest to `name`: the one sharing the most words, then the one fewest edits
 * away (`SESSION_TIMEOUT` is nearer `SESSION_IDLE_TIMEOUT` than `SESSION_STORAGE`, and
 * `SESSION_CLEANUP_INTERVAL` nearer `CLEANUP_INTERVAL_MINUTES`), never another backend's.
 */
export function nearestVariable(name: string): string {
  const own = words(name);
  let best = KNOWN[0]!;
  let bestScore: [number, number] = [-1, Number.POSITIVE_INFINITY];
  const prefix = name.split('_')[0];
  for (const known of KNOWN) {
    // Another backend's setting is never the answer (MEMCACHED_POOL_SIZE is not REDIS_POOL_SIZE).
    const knownPrefix = known.split('_')[0]!;
    if (knownPrefix !== prefix && WATCHED.test(`${knownPrefix}_`) && knownPrefix !== 'SESSION')
      continue;
    const shared = [...words(known)].filter((w) => own.has(w)).length;
    const edits = distance(name, known);
    if (shared > bestScore[0] || (shared === bestScore[0] && edits < bestScore[1]))
      [best, bestScore] = [known, [shared, edits]];
  }
  return best;
}

/**
 * Warns about every set `SESSION_*`, `REDIS_*` or `MEMCACHED_*` variable Tessera does not read,
 * naming the nearest one it does. Returns the names warned about.
 */
export function warnUnknownVariables(
  env: Record<string, string | undefined>,
  warn: EnvWarn,
): string[] {
  const unknown = Object.keys(env)
    .filter((name) => env[name] !== undefined && WATCHED.test(name) && !KNOWN.includes(name))
    .sort();
  for (const variable of unknown) {
    const suggestion = nearestVariable(variable);
    warn(
      { variable, suggestion },
      `tessera: environment variable ${variable} is not one Tessera reads, so it is ignored (did you mean ${suggestion}?)`,
    );
  }
  return unknown;
}
