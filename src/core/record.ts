/**
 * Pure functions on session records that every store implemented in JavaScript shares: when a
 * record expires and why, applying a delta (and checking the size it leaves), sliding the idle
 * expiry, tallying stats, and the JSON (de)serialisation with validation that turns a corrupted
 * record into "no session".
 */
import { DataTooLargeError } from './errors.js';
import type {
  DeviceType,
  MissReason,
  SessionData,
  SessionPatch,
  SessionRecord,
  StoreStats,
  TouchPolicy,
} from './types.js';

/** The moment a record stops being live: its idle expiry, capped by the absolute one. */
export function expiresAt(
  record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>,
): number {
  return record.absoluteExpiresAt === null
    ? record.idleExpiresAt
    : Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}

/** `null` while live; otherwise which timeout ended it. */
export function expiryReason(
  record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>,
  now: number,
): Extract<MissReason, 'expired_idle' | 'expired_absolute'> | null {
  if (record.absoluteExpiresAt !== null && now >= record.absoluteExpiresAt)
    return 'expired_absolute';
  if (now >= record.idleExpiresAt) return 'expired_idle';
  return null;
}

export function isLive(
  record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>,
  now: number,
): boolean {
  return now < expiresAt(record);
}

/** Whether a lookup with `policy` at `now` should write the new last-seen time. */
export function touchDue(
  record: Pick<SessionRecord, 'lastSeenAt'>,
  policy: TouchPolicy | undefined,
  now: number,
): boolean {
  return policy !== undefined && now - record.lastSeenAt >= policy.touchAfter;
}

/**
 * The record after a touch at `now`: last seen now, idle expiry slid by the session's own idle
 * window (`idleExpiresAt - lastSeenAt`) capped at `policy.idleTimeout` (by `idleTimeout` itself
 * with `policy.setWindow`), and by the absolute expiry.
 */
export function touched<R extends SessionRecord>(record: R, policy: TouchPolicy, now: number): R {
  const window = policy.setWindow
    ? policy.idleTimeout
    : Math.min(record.idleExpiresAt - record.lastSeenAt, policy.idleTimeout);
  const idle = now + window;
  return {
    ...record,
    lastSeenAt: now,
    idleExpiresAt:
      record.absoluteExpiresAt === null ? idle : Math.min(idle, record.absoluteExpiresAt),
    version: record.version + 1,
  };
}

/** New data with the delta applied; the input is not changed. */
export function applyDataPatch(data: SessionData, patch: SessionPatch): SessionData {
  const next: SessionData = patch.replace ? {} : { ...data };
  // defineProperty, not assignment: a key named "__proto__" is data, not the object's prototype.
  if (patch.set)
    for (const [key, value] of Object.entries(patch.set))
      Object.defineProperty(next, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  if (patch.unset) for (const key of patch.unset) delete next[key];
  return next;
}

/** How many bytes `data` takes as JSON in UTF-8: what `maxDataBytes` limits. */
export function dataBytes(data: SessionData): number {
  return Buffer.byteLength(JSON.stringify(data), 'utf8');
}

/**
 * Throws `DataTooLargeError` when data that took `before` bytes would take `after`, over `limit`.
 * A write that does not grow the data passes, so a session over a lowered limit can still shrink.
 */
export function checkGrowth(before: number, after: number, limit: number | undefined): void {
  if (limit !== undefined && after > limit && after > before)
    throw new DataTooLargeError(after, limit);
}

/**
 * The record with the delta applied (data, CSRF token, owner) and its version bumped. Throws
 * `DataTooLargeError` past `patch.maxDataBytes` (see `checkGrowth`); the input is not changed.
 */
export function patched<R extends SessionRecord>(record: R, patch: SessionPatch): R {
  const data = applyDataPatch(record.data, patch);
  if (patch.maxDataBytes !== undefined)
    checkGrowth(dataBytes(record.data), dataBytes(data), patch.maxDataBytes);
  return {
    ...record,
    data,
    csrf: patch.csrf ?? record.csrf,
    userId: patch.userId !== undefined ? patch.userId : record.userId,
    version: record.version + 1,
  };
}

export function emptyStats(): StoreStats {
  return {
    activeSessions: 0,
    distinctUsers: 0,
    anonymousSessions: 0,
    byBrowser: {},
    byOs: {},
    byDeviceType: {},
  };
}

/** Counts over live records (the caller filters out expired ones). */
export function tallyStats(records: Iterable<SessionRecord>): StoreStats {
  const stats = emptyStats();
  const users = new Set<string>();
  for (const r of records) {
    stats.activeSessions++;
    if (r.userId === null) stats.anonymousSessions++;
    else users.add(r.userId);
    countInto(stats.byBrowser, r.device.browser ?? 'unknown');
    countInto(stats.byOs, r.device.os ?? 'unknown');
    countInto(stats.byDeviceType, r.device.type);
  }
  stats.distinctUsers = users.size;
  return stats;
}

function countInto(tally: Record<string, number>, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

/** Most recently active first; ties broken by id so pages are stable. */
export function byRecentActivity(a: SessionRecord, b: SessionRecord): number {
  return b.lastSeenAt - a.lastSeenAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const DEVICE_TYPES: ReadonlySet<DeviceType> = new Set([
  'mobile',
  'tablet',
  'desktop',
  'bot',
  'unknown',
]);

function isNullableString(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Checks that a value read back from a backend is a well-formed record. A record another program
 * overwrote, or a row edited by hand into an invalid state, fails this and is treated as no session.
 */
export function isSessionRecord(value: unknown): value is SessionRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const device = r.device as Record<string, unknown> | null | undefined;
  return (
    typeof r.id === 'string' &&
    isNullableString(r.userId) &&
    typeof r.data === 'object' &&
    r.data !== null &&
    !Array.isArray(r.data) &&
    isFiniteNumber(r.createdAt) &&
    isFiniteNumber(r.lastSeenAt) &&
    isFiniteNumber(r.idleExpiresAt) &&
    (r.absoluteExpiresAt === null || isFiniteNumber(r.absoluteExpiresAt)) &&
    isNullableString(r.ip) &&
    isNullableString(r.userAgent) &&
    typeof device === 'object' &&
    device !== null &&
    isNullableString(device.browser) &&
    isNullableString(device.browserVersion) &&
    isNullableString(device.os) &&
    isNullableString(device.osVersion) &&
    DEVICE_TYPES.has(device.type as DeviceType) &&
    typeof r.csrf === 'string' &&
    isFiniteNumber(r.version)
  );
}

/** Parses a serialised record; `null` (never an exception) when it is not valid JSON or not a record. */
export function parseRecord(text: string): SessionRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return isSessionRecord(value) ? value : null;
}
