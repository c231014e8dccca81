/**
 * Rows ↔ records. A row holds the record's fields as columns (times as BIGINT epoch ms, data as
 * JSON text, the device split into columns so stats can GROUP BY). Reading is defensive: a row
 * edited by hand into an invalid state (bad JSON, a NULL expiry, an unknown status) comes back as
 * `null` with the problem named, never as an exception.
 */

import { expiresAt, expiryReason, isSessionRecord } from '../../core/record.js';
import type {
  LookupResult,
  MissReason,
  SessionRecord,
  TerminatedSessionRecord,
  TerminationReason,
} from '../../core/types.js';
import { TERMINATION_REASONS } from '../../core/types.js';

/** Column values as the drivers return them: pg gives BIGINT as strings, the others as numbers. */
export interface SessionRow {
  id: string;
  /** MySQL keeps it as VARBINARY (exact comparison), which mysql2 returns as a Buffer. */
  user_id: string | Uint8Array | null;
  data: string;
  created_at: number | string;
  last_seen_at: number | string;
  idle_expires_at: number | string | null;
  absolute_expires_at: number | string | null;
  expires_at: number | string | null;
  ip: string | null;
  user_agent: string | null;
  device_browser: string | null;
  device_browser_version: string | null;
  device_os: string | null;
  device_os_version: string | null;
  device_type: string;
  csrf: string;
  version: number | string;
  status: string;
  terminated_at: number | string | null;
  termination_reason: string | null;
}

/** The row written for a new record. */
export function recordToRow(record: SessionRecord): SessionRow {
  return {
    id: record.id,
    user_id: record.userId,
    data: JSON.stringify(record.data),
    created_at: record.createdAt,
    last_seen_at: record.lastSeenAt,
    idle_expires_at: record.idleExpiresAt,
    absolute_expires_at: record.absoluteExpiresAt,
    expires_at: expiresAt(record),
    ip: record.ip,
    user_agent: record.userAgent,
    device_browser: record.device.browser,
    device_browser_version: record.device.browserVersion,
    device_os: record.device.os,
    device_os_version: record.device.osVersion,
    device_type: record.device.type,
    csrf: record.csrf,
    version: record.version,
    status: 'active',
    terminated_at: null,
    termination_reason: null,
  };
}

/** The user id column as a string: MySQL's VARBINARY comes back as bytes. */
export function userIdOf(value: SessionRow['user_id']): string | null {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value;
}

function num(value: number | string | null): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : Number.NaN;
}

export type RowReading =
  | { ok: true; record: SessionRecord; status: 'active' }
  | { ok: true; record: TerminatedSessionRecord; status: 'terminated' }
  | { ok: false; problem: string };

/** Parses and checks a row; an invalid one is reported with what is wrong, never thrown. */
export function readRow(row: SessionRow): RowReading {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    return { ok: false, problem: 'the data column is not valid JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { ok: false, problem: 'the data column is not a JSON object' };
  if (num(row.expires_at) === null || num(row.idle_expires_at) === null)
    return { ok: false, problem: 'the expiry is NULL' };
  const candidate = {
    id: row.id,
    userId: userIdOf(row.user_id),
    data,
    createdAt: num(row.created_at),
    lastSeenAt: num(row.last_seen_at),
    idleExpiresAt: num(row.idle_expires_at),
    absoluteExpiresAt: num(row.absolute_expires_at),
    ip: row.ip,
    userAgent: row.user_agent,
    device: {
      browser: row.device_browser,
      browserVersion: row.device_browser_version,
      os: row.device_os,
      osVersion: row.device_os_version,
      type: row.device_type,
    },
    csrf: row.csrf,
    version: num(row.version),
  };
  if (!isSessionRecord(candidate))
    return { ok: false, problem: 'a column holds a value of the wrong type' };
  if (num(row.expires_at) !== expiresAt(candidate))
    return { ok: false, problem: 'expires_at does not match the idle and absolute expiry' };
  if (row.status === 'active') return { ok: true, record: candidate, status: 'active' };
  const terminatedAt = num(row.terminated_at);
  const reason = row.termination_reason as TerminationReason;
  if (
    row.status !== 'terminated' ||
    terminatedAt === null ||
    Number.isNaN(terminatedAt) ||
    !TERMINATION_REASONS.includes(reason)
  )
    return { ok: false, problem: 'the status or termination columns are invalid' };
  return {
    ok: true,
    status: 'terminated',
    record: { ...candidate, status: 'terminated', terminatedAt, terminationReason: reason },
  };
}

/** Told about a row that does not read back as a record (so it can be logged). */
export type InvalidRowReport = (row: SessionRow, problem: string) => void;

/** The live record of a row, or why it is not live. */
export function liveRecord(
  row: SessionRow | undefined,
  now: number,
  invalid: InvalidRowReport,
): SessionRecord | MissReason {
  if (!row) return 'not_found';
  const read = readRow(row);
  if (!read.ok) {
    invalid(row, read.problem);
    return 'not_found';
  }
  if (read.status === 'terminated') return 'terminated';
  return expiryReason(read.record, now) ?? read.record;
}

/**
 * The miss for a row that is not live. A terminated row says why it ended (the audit row keeps
 * it); one that cleanup retired as a timeout reports its expiry, as before cleanup ran.
 */
export function missOf(row: SessionRow | undefined, reason: MissReason): LookupResult {
  const read = reason === 'terminated' && row ? readRow(row) : null;
  if (!read?.ok || read.status !== 'terminated') return { record: null, reason };
  const ended = read.record.terminationReason;
  const expired = ended === 'timeout' ? expiryReason(read.record, read.record.terminatedAt) : null;
  if (expired) return { record: null, reason: expired };
  return { record: null, reason, terminationReason: ended };
}

/** The live records of `rows`, in their order. */
export function liveRecords(
  rows: SessionRow[],
  now: number,
  invalid: InvalidRowReport,
): SessionRecord[] {
  const out: SessionRecord[] = [];
  for (const row of rows) {
    const r = liveRecord(row, now, invalid);
    if (typeof r !== 'string') out.push(r);
  }
  return out;
}
