/**
 * The dashboard's JSON shapes: sessions without their data or CSRF token, times as ISO 8601 (the
 * stores keep epoch ms; JSON readers should not have to guess the unit).
 */

import { expiresAt } from '../core/record.js';
import type { DeviceInfo, SessionRecord, TerminatedSessionRecord } from '../core/types.js';

export interface SessionView {
  id: string;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  device: DeviceInfo;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string | null;
  /** The earlier of the idle and absolute expiry. */
  expiresAt: string;
}

export interface TerminatedView extends SessionView {
  terminatedAt: string;
  terminationReason: TerminatedSessionRecord['terminationReason'];
}

const iso = (at: number) => new Date(at).toISOString();

export function sessionView(record: SessionRecord): SessionView {
  return {
    id: record.id,
    userId: record.userId,
    ip: record.ip,
    userAgent: record.userAgent,
    device: record.device,
    createdAt: iso(record.createdAt),
    lastSeenAt: iso(record.lastSeenAt),
    idleExpiresAt: iso(record.idleExpiresAt),
    absoluteExpiresAt: record.absoluteExpiresAt === null ? null : iso(record.absoluteExpiresAt),
    expiresAt: iso(expiresAt(record)),
  };
}

export function terminatedView(record: TerminatedSessionRecord): TerminatedView {
  return {
    ...sessionView(record),
    terminatedAt: iso(record.terminatedAt),
    terminationReason: record.terminationReason,
  };
}
