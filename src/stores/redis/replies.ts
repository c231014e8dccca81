/**
 * Decoding the Redis scripts' replies into lookups and records. A reply that does not decode (a
 * hash another program overwrote) is reported through `corrupted` and read as no session.
 */
import type { LookupResult, MissReason, SessionRecord } from '../../core/types.js';
import { recordFromFields } from './record-hash.js';

const MISS_REASONS: ReadonlySet<MissReason> = new Set([
  'not_found',
  'expired_idle',
  'expired_absolute',
  'terminated',
]);

/** Told the id of a session whose hash does not decode. */
export type CorruptedReport = (id: string) => void;

/** A reply that is a list, as strings; anything else as an empty list. */
export function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

/** Decodes a GET/PATCH reply. */
export function lookupReply(id: string, reply: unknown, corrupted: CorruptedReport): LookupResult {
  const [state, touchedFlag, fields] = Array.isArray(reply) ? reply : [];
  if (state === 'live') {
    const record = recordFromFields(id, fields);
    if (record) return { record, touched: Number(touchedFlag) === 1 };
  } else if (MISS_REASONS.has(state as MissReason)) {
    return { record: null, reason: state as MissReason };
  }
  corrupted(id);
  return { record: null, reason: 'not_found' };
}

/** Decodes a DESTROY reply: the owner of the session ended, or `null` when none was live. */
export function destroyReply(reply: unknown): { userId: string | null } | null {
  const [ended, owner] = Array.isArray(reply) ? reply : [];
  if (Number(ended) !== 1) return null;
  return { userId: owner === undefined || owner === null ? null : String(owner) };
}

/** Decodes a list of id, HGETALL pairs, reporting corrupted ones. */
export function recordsReply(flat: unknown, corrupted: CorruptedReport): SessionRecord[] {
  const out: SessionRecord[] = [];
  const items = Array.isArray(flat) ? flat : [];
  for (let j = 0; j + 1 < items.length; j += 2) {
    const id = String(items[j]);
    const record = recordFromFields(id, items[j + 1]);
    if (record) out.push(record);
    else corrupted(id);
  }
  return out;
}
