/**
 * The `exclude` option: which requests get no session at all. Patterns are matched against the raw
 * path, case-sensitively, and only when the path is in plain form: a path that a router, a proxy or
 * a URL parser could read as another path (dot segments, empty segments, backslashes, percent
 * escapes) is never excluded, so no spelling of a protected route can pass as an excluded one.
 */
import { ConfigError, SessionExcludedError } from '../core/errors.js';

/** What an `exclude` predicate sees of a request: its method and raw path (no query string). */
export interface ExcludeRequest {
  method: string;
  path: string;
}

/** A path (`/health`), a prefix (`/static/*`), a glob, a regular expression, or a predicate. */
export type ExcludeRule = string | RegExp | ((request: ExcludeRequest) => boolean);

export type ExcludeOption = ExcludeRule | readonly ExcludeRule[];

const PATTERN = /^\/[\x21-\x7e]*$/;

/**
 * Whether a raw path is in the one form every router reads the same way: absolute, printable
 * ASCII, no `%` escapes (`%2e%2e`, `%2f`), no `\`, no empty segment (`//`) and no `.` or `..`
 * segment. Anything else gets a session, never the exclusion.
 */
export function isPlainPath(path: string): boolean {
  return (
    path.startsWith('/') &&
    /^[\x21-\x7e]*$/.test(path) &&
    !path.includes('%') &&
    !path.includes('\\') &&
    !path.includes('//') &&
    !/(^|\/)\.\.?(\/|$)/.test(path)
  );
}

/**
 * A glob as a regular expression: a trailing `/*` is everything below that folder (any depth),
 * `**` any number of characters across segments, `*` any within one segment; the rest is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  const prefix = pattern.endsWith('/*') && !pattern.endsWith('*/*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  let source = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '*' && body[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else source += ch.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}${prefix ? '.*' : ''}$`);
}

function ruleMatcher(rule: unknown, index: number): (request: ExcludeRequest) => boolean {
  const field = index < 0 ? 'exclude' : `exclude[${index}]`;
  if (typeof rule === 'function')
    return (request) => (rule as (r: ExcludeRequest) => unknown)(request) === true;
  if (rule instanceof RegExp) {
    // Without the stateful flags, so one test never shifts where the next one starts.
    const re = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''));
    return (request) => re.test(request.path);
  }
  if (typeof rule === 'string') {
    if (!PATTERN.test(rule))
      throw new ConfigError(
        field,
        'a path pattern must start with "/" (e.g. "/health", "/static/*")',
      );
    if (!rule.includes('*')) return (request) => request.path === rule;
    const re = globToRegExp(rule);
    return (request) => re.test(request.path);
  }
  throw new ConfigError(
    field,
    'must be a path pattern, a RegExp or a function (request) => boolean',
  );
}

/** The `exclude` option as one predicate; a request whose path is not plain is never excluded. */
export function excludeMatcher(option: unknown): (request: ExcludeRequest) => boolean {
  if (option === undefined) return () => false;
  const rules = Array.isArray(option)
    ? option.map((rule, i) => ruleMatcher(rule, i))
    : [ruleMatcher(option, -1)];
  if (rules.length === 0) return () => false;
  return (request) => {
    if (!isPlainPath(request.path)) return false;
    const view: ExcludeRequest = { method: request.method, path: request.path };
    return rules.some((matches) => matches(view));
  };
}

/**
 * What an excluded request has in place of a session: any property read (other than the ones
 * `await` and inspection probe), write or `in` test throws `SessionExcludedError` naming the
 * request, so a route that needs the session fails loudly instead of running as logged out.
 */
export function excludedStandIn(method: string, path: string): object {
  const refuse = (): never => {
    throw new SessionExcludedError(method, path);
  };
  return new Proxy(Object.create(null) as object, {
    get: (_target, key) =>
      typeof key === 'symbol' || key === 'then' || key === 'toJSON' ? undefined : refuse(),
    set: refuse,
    has: refuse,
    deleteProperty: refuse,
    defineProperty: refuse,
  });
}
