/**
 * Turns what a person typed for `tessera sessions revoke` into one session id. The whole id (64 hex
 * characters) is used as it is, on any store. A shorter prefix of at least 8 characters (the
 * dashboard shows 10, followed by "…", which may be pasted along) is looked up among the live
 * sessions, as git resolves an abbreviated commit: exactly one must match. That needs a store that
 * can list every session; the others need the whole id.
 */
import type { SessionStore } from '../../core/types.js';
import { UsageError } from '../context.js';

export const MIN_PREFIX = 8;
const FULL = 64;
/** Sessions read per page while looking for a prefix. */
const PAGE = 1000;
/** Matches named in the "ambiguous" message. */
const SHOWN = 5;

/** A prefix that matched more than one live session: the command line must say more. */
export class AmbiguousIdError extends UsageError {
  override readonly pointsToHelp = false;
  constructor(
    readonly prefix: string,
    readonly matches: { id: string; userId: string | null }[],
    readonly total: number,
  ) {
    const named = matches
      .slice(0, SHOWN)
      .map((m) => `${m.id.slice(0, prefix.length + 4)}… of ${m.userId ?? 'an anonymous visitor'}`)
      .join(', ');
    super(
      `session id prefix "${prefix}" is ambiguous: it matches ${total} live sessions (${named}${total > SHOWN ? ', …' : ''}); give more characters`,
    );
  }
}

/** The typed id or prefix, lower-cased, without a pasted "…"; `UsageError` when it cannot be one. */
export function parseIdOrPrefix(raw: string): string {
  const text = raw
    .trim()
    .replace(/(…|\.\.\.)$/, '')
    .toLowerCase();
  if (!/^[0-9a-f]+$/.test(text) || text.length > FULL)
    throw new UsageError(
      `"${raw}" is not a session id (64 hex characters) or a prefix of one (at least ${MIN_PREFIX})`,
    );
  if (text.length < MIN_PREFIX)
    throw new UsageError(
      `"${raw}" is too short: give at least ${MIN_PREFIX} characters of the session id (or all 64)`,
    );
  return text;
}

/**
 * The one live session id that starts with `prefix`, or `null` when none does. A whole id is
 * returned unchecked (revoking it tells whether it was live). Throws `AmbiguousIdError`, or
 * `UsageError` when the store cannot list sessions to search.
 */
export async function resolveSessionId(
  store: SessionStore,
  prefix: string,
  now: number,
): Promise<string | null> {
  if (prefix.length === FULL) return prefix;
  if (!store.capabilities.listAll || typeof store.list !== 'function')
    throw new UsageError(
      `the ${store.name} store cannot list sessions to find "${prefix}": give the whole 64-character id`,
    );
  // By id: a session active during the scan can move to an earlier page and be read twice.
  const matches = new Map<string, string | null>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.list({ offset, limit: PAGE }, now);
    for (const s of page.sessions) if (s.id.startsWith(prefix)) matches.set(s.id, s.userId);
    if (page.sessions.length < PAGE || offset + PAGE >= page.total) break;
  }
  if (matches.size > 1) {
    const listed = [...matches].map(([id, userId]) => ({ id, userId }));
    throw new AmbiguousIdError(prefix, listed, matches.size);
  }
  return matches.keys().next().value ?? null;
}
