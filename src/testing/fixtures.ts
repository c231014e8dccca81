/**
 * Record fixtures for store tests: random ids and users so tests never share state.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SessionData, SessionRecord } from '../core/types.js';

/** A random session id shaped like a real one (SHA-256 hex of a random token). */
export function randomSessionId(): string {
  return createHash('sha256').update(randomBytes(32)).digest('hex');
}

/** A random user id with a readable prefix. */
export function randomUserId(prefix = 'user'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

const HOUR = 3_600_000;

/** A live record created at `now` (30 min idle, 12 h absolute), with any field overridden. */
export function sampleRecord(
  overrides: Partial<SessionRecord> = {},
  now = Date.now(),
): SessionRecord {
  const data: SessionData = { theme: 'dark', cart: [1, 2, 3] };
  return {
    id: randomSessionId(),
    userId: randomUserId(),
    data,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + HOUR / 2,
    absoluteExpiresAt: now + 12 * HOUR,
    ip: '203.0.113.7',
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    device: {
      browser: 'Safari',
      browserVersion: '17.1',
      os: 'Mac OS',
      osVersion: '10.15.7',
      type: 'desktop',
    },
    csrf: randomBytes(32).toString('base64url'),
    version: 1,
    ...overrides,
  };
}
