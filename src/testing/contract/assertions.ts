/**
 * Small values the guarantee files share: a time unit and the sorted ids used to compare sets of
 * sessions regardless of the order a backend returns them in.
 */
import type { SessionRecord } from '../../core/types.js';

export const HOUR = 3_600_000;

/** The records' ids, sorted. */
export function ids(records: SessionRecord[]): string[] {
  return records.map((r) => r.id).sort();
}
