/**
 * Decoding the Redis scripts' replies into lookups and records. A value that does not decode (a
 * key another program overwrote) is reported through `corrupted` and read as no session.
 */
import type { LookupResult, MissReason, SessionRecord } from '../../core/types.js';
import { idOfMember } from './buckets.js';
import { decodeRecord, decodeString } from './record-value.js';

const MISS_REASONS: ReadonlySet<MissReason> = new Set([
  'not_found',
  'expired_idle',
  'expired_absolute',
  'terminated',
]);

/** Told the id of a session whose value does not decode. */
export type CorruptedReport = (id: string) => void;

/** A reply that is a list, as strings; anything else as an empty list. */
export function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

/** A list of id members as ids. */
export function idsOf(reply: unknown): string[] {
  return strings(reply).map(idOfMember);
}

/** Decodes a TOUCH/PATCH reply: {state} or {'live', touched, value}. */
export function lookupReply(id: string, reply: unknown, corrupted: CorruptedReport): LookupResult {
  const [state, touchedFlag, value] = Array.isArray(reply) ? reply : [];
  if (state === 'live') {
    const record = decodeRecord(id, value);
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
  return { userId: decodeString(String(owner ?? '')) ?? null };
}

/** Decodes a list of member, value pairs, reporting corrupted ones. */
export function recordsReply(flat: unknown, corrupted: CorruptedReport): SessionRecord[] {
  const out: SessionRecord[] = [];
  const items = Array.isArray(flat) ? flat : [];
  for (let j = 0; j + 1 < items.length; j += 2) {
    const id = idOfMember(String(items[j]));
    const record = decodeRecord(id, items[j + 1]);
    if (record) out.push(record);
    else corrupted(id);
  }
  return out;
}
