/**
 * Small values the guarantee files share: a time unit and the sorted ids used to compare sets of
 * sessions regardless of the order a backend returns them in.
 */
import type { SessionRecord, SessionStore } from '../../core/types.js';
import { randomSessionId } from '../fixtures.js';

export const HOUR = 3_600_000;

/** The records' ids, sorted. */
export function ids(records: SessionRecord[]): string[] {
  return records.map((r) => r.id).sort();
}

/**
 * The record with an id that fits its user in `store` (`SessionStore.idFitsUser`), drawn as the
 * manager draws it: what the per-user limit and the user counts rely on in a store that places
 * sessions by id. Unchanged for an anonymous record or a store that places none.
 */
export function fitted<R extends SessionRecord>(store: SessionStore, record: R): R {
  const { userId } = record;
  if (!store.idFitsUser || userId === null) return record;
  let id = record.id;
  while (!store.idFitsUser(id, userId)) id = randomSessionId();
  return { ...record, id };
}
