/**
 * The session read: one plain `GET` of the session's value, no script, so a read-only validation
 * executes one command on the server, and a client-side cache (RESP3 client tracking) can serve it
 * from process memory. Every read of a session value goes through `readSession`.
 */
import { StoreError } from '../../core/errors.js';
import type { ScriptClient } from './client.js';

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
