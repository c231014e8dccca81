/**
 * A new session record and its token: creation and expiry times from the manager's timeouts, the
 * device parsed from the user agent, a fresh CSRF token, and the id (SHA-256 of the token).
 */
import { parseDevice } from './device.js';
import type { CreateSessionInput } from './manager-api.js';
import { generateToken, sessionIdFor } from './tokens.js';
import type { SessionData, SessionRecord } from './types.js';

/** The manager settings a new record is built with (durations in ms). */
export interface RecordSettings {
  idleTimeout: number;
  absoluteTimeout: number | false;
  csrf: boolean;
}

/**
 * Builds a record for `input` at `now`. `createdAt` and `absolute` carry a session's lifetime over
 * (a regenerate without a login); by default the session starts afresh.
 */
export function newRecord<Data extends SessionData>(
  settings: RecordSettings,
  input: CreateSessionInput<Data>,
  now: number,
  createdAt = now,
  absolute?: number | null,
): { token: string; record: SessionRecord<Data> } {
  const absoluteExpiresAt =
    absolute !== undefined
      ? absolute
      : settings.absoluteTimeout === false
        ? null
        : now + settings.absoluteTimeout;
  const idle = now + settings.idleTimeout;
  const userAgent = input.userAgent ?? null;
  const token = generateToken();
  const record: SessionRecord<Data> = {
    id: sessionIdFor(token),
    userId: input.userId ?? null,
    data: (input.data ?? {}) as Data,
    createdAt,
    lastSeenAt: now,
    idleExpiresAt: absoluteExpiresAt === null ? idle : Math.min(idle, absoluteExpiresAt),
    absoluteExpiresAt,
    ip: input.ip ?? null,
    userAgent,
    device: parseDevice(userAgent),
    csrf: settings.csrf ? generateToken() : '',
    version: 1,
  };
  return { token, record };
}
