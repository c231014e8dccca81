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
  /**
   * The store's `idFitsUser`: tokens are drawn until the id fits the session's user (a Redis
   * Cluster store keeps a user's sessions in the user's bucket). Absent: the first token is used.
   */
  idFits?: (id: string, userId: string) => boolean;
}

/** Most draws for an id that fits: past it the last one is used (the store still accepts it). */
const MAX_DRAWS = 4096;

/** A fresh token and its id, drawn until the id fits `userId` when the store asks for it. */
function drawToken(settings: RecordSettings, userId: string | null) {
  for (let draw = 1; ; draw++) {
    const token = generateToken();
    const id = sessionIdFor(token);
    if (!settings.idFits || userId === null || draw >= MAX_DRAWS || settings.idFits(id, userId))
      return { token, id };
  }
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
  const userId = input.userId ?? null;
  const { token, id } = drawToken(settings, userId);
  const record: SessionRecord<Data> = {
    id,
    userId,
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
