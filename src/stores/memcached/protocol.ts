/**
 * The Memcached text protocol's replies as the store's client reads them: lines, VALUE blocks,
 * and error lines (the server answered, refusing the request) as `StoreError`.
 */
import { StoreError } from '../../core/errors.js';

export const MEMCACHED_STORE_NAME = 'memcached';

/** A value read with `gets`: its bytes and its CAS token. */
export interface Item {
  value: Buffer;
  cas: string;
}

/** The outcome of a storage command. */
export type StoreReply = 'STORED' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND';

/** A reply parsed from the front of the buffer, or not fully arrived yet. */
export type Parsed<T> = { done: true; value: T; used: number } | { done: false };

export const CRLF = Buffer.from('\r\n');

/** Reads one line (without CRLF) at `from`, or `null` when it has not fully arrived. */
function line(buf: Buffer, from: number): { text: string; next: number } | null {
  const end = buf.indexOf(CRLF, from);
  if (end < 0) return null;
  return { text: buf.toString('latin1', from, end), next: end + 2 };
}

/** A protocol error line (ERROR, CLIENT_ERROR …, SERVER_ERROR …): the server answered, with an error. */
function errorLine(text: string): StoreError | null {
  if (text === 'ERROR' || text.startsWith('CLIENT_ERROR') || text.startsWith('SERVER_ERROR'))
    return new StoreError(MEMCACHED_STORE_NAME, `server replied ${text}`);
  return null;
}

/** Parses `VALUE key flags bytes [cas]` blocks up to `END`. */
export function parseValues(buf: Buffer): Parsed<Map<string, Item> | StoreError> {
  const items = new Map<string, Item>();
  let at = 0;
  for (;;) {
    const l = line(buf, at);
    if (!l) return { done: false };
    if (l.text === 'END') return { done: true, value: items, used: l.next };
    const err = errorLine(l.text);
    if (err) return { done: true, value: err, used: l.next };
    const parts = l.text.split(' ');
    if (parts[0] !== 'VALUE' || parts.length < 4)
      return {
        done: true,
        value: new StoreError(MEMCACHED_STORE_NAME, `unexpected reply ${l.text}`),
        used: l.next,
      };
    const bytes = Number(parts[3]);
    if (buf.length < l.next + bytes + 2) return { done: false };
    items.set(parts[1]!, {
      value: Buffer.from(buf.subarray(l.next, l.next + bytes)),
      cas: parts[4] ?? '',
    });
    at = l.next + bytes + 2;
  }
}

/** Parses a one-line reply (STORED, DELETED, a number, …). */
export function parseLine(buf: Buffer): Parsed<string | StoreError> {
  const l = line(buf, 0);
  if (!l) return { done: false };
  return { done: true, value: errorLine(l.text) ?? l.text, used: l.next };
}
