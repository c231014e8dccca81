/**
 * The session read: one plain `GET` of the session's value, no script, so a read-only validation
 * executes one command on the server, and a client-side cache (RESP3 client tracking) can serve it
 * from process memory. Every read of a session value goes through `readSession`; the store's
 * `get` (`sessionLookup`) adds the expiry decision and, when due, the touch, a separate script.
 */
import { InvalidInputError, StoreError } from '../../core/errors.js';
import { expiryReason, touchDue } from '../../core/record.js';
import type { LookupResult, TouchPolicy } from '../../core/types.js';
import type { ScriptClient } from './client.js';
import { decodeRecord } from './record-value.js';

/** What a session key holds: its value, nothing, or something that is not a string (corrupt). */
export type SessionRead = { value: string } | { value: null; corrupt: boolean };

/** Reads the value of session key `key`. */
export async function readSession(client: ScriptClient, key: string): Promise<SessionRead> {
  try {
    const reply = await client.command(['GET', key], key);
    if (reply === null || reply === undefined) return { value: null, corrupt: false };
    return { value: String(reply) };
  } catch (err) {
    if (isWrongType(err)) return { value: null, corrupt: true };
    throw err;
  }
}

/** Another program wrote a hash or a list under a session key: no session, reported as corrupt. */
export function isWrongType(err: unknown): boolean {
  return err instanceof StoreError && /WRONGTYPE/.test(err.message);
}

/** The longest idle window a touch may set: 100 years, far inside the layout's integers. */
const MAX_WINDOW = 100 * 365 * 86_400_000;

/** What the store's `get` is made of. */
export interface SessionLookupParts {
  /** Reads a session key (through the local cache when it is on). */
  read(key: string): Promise<SessionRead>;
  keyOf(id: string): string;
  /** Reports a value that is not a session (logged once per read, treated as absent). */
  corrupted(id: string): void;
  /** Runs the touch script (it touches only if still due) and reads its reply. */
  touch(id: string, now: number, touch: TouchPolicy): Promise<LookupResult>;
}

/**
 * The store's `get`: one read, the expiry decided by the manager's clock, and the touch when due.
 * Requests of one session that find its touch due while a touch of it is in flight (a burst of
 * them) wait for that touch and read again, as a request arriving just after it would, instead of
 * each sending a touch of its own.
 */
export function sessionLookup(
  parts: SessionLookupParts,
): (id: string, now: number, touch?: TouchPolicy) => Promise<LookupResult> {
  const touching = new Map<string, Promise<LookupResult>>();

  async function get(
    id: string,
    now: number,
    touch: TouchPolicy | undefined,
    joined: number,
  ): Promise<LookupResult> {
    const read = await parts.read(parts.keyOf(id));
    const record = read.value === null ? null : decodeRecord(id, read.value);
    if (!record) {
      if (read.value !== null || ('corrupt' in read && read.corrupt)) parts.corrupted(id);
      return { record: null, reason: 'not_found' };
    }
    const expired = expiryReason(record, now);
    if (expired) return { record: null, reason: expired };
    if (!touch || !touchDue(record, touch, now)) return { record, touched: false };
    if (!(touch.idleTimeout >= 0 && touch.idleTimeout <= MAX_WINDOW))
      throw new InvalidInputError(
        'touch.idleTimeout',
        `must be 0 to ${MAX_WINDOW} ms, got ${touch.idleTimeout}`,
      );
    const other = touching.get(id);
    if (other && joined < 2) {
      await other.catch(() => undefined);
      return get(id, now, touch, joined + 1);
    }
    const touched = parts.touch(id, now, touch).finally(() => {
      if (touching.get(id) === touched) touching.delete(id);
    });
    touching.set(id, touched);
    return touched;
  }

  return (id, now, touch) => get(id, now, touch, 0);
}
