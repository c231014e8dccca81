/**
 * A session's own timeouts ("remember me"): the idle timeout and absolute lifetime given to
 * `create`, `regenerate` or `session.login`, checked against the manager's bounds
 * (`maxIdleTimeout`, `maxAbsoluteTimeout`), and what a regenerated session keeps of the old one's.
 *
 * A session keeps the idle window it was created with: the stores slide its idle expiry by
 * `idleExpiresAt - lastSeenAt` at each touch (capped by the manager's `maxIdleTimeout`), so the
 * window needs no field of its own.
 */
import { type Duration, parseDuration } from './duration.js';
import { InvalidInputError } from './errors.js';
import type { RecordSettings } from './new-record.js';
import type { SessionRecord } from './types.js';

/** A session's own timeouts, as `create`, `regenerate` and `session.login` take them. */
export interface SessionTimeouts {
  /**
   * This session's sliding idle timeout ("remember me": `'30d'`), kept across every touch and
   * regenerate. Longer than `touchAfter`, at most the manager's `maxIdleTimeout`.
   * @default the manager's `idleTimeout` (a `regenerate` without a login keeps the old session's)
   */
  idleTimeout?: Duration;
  /**
   * This session's absolute lifetime, from now; `false`: none, allowed only when the manager's
   * `maxAbsoluteTimeout` is `false`. At most `maxAbsoluteTimeout`.
   * @default the manager's `absoluteTimeout` (a `regenerate` without a login keeps the old
   * session's end)
   */
  absoluteTimeout?: Duration | false;
}

/** The manager settings the checks read (ms). */
export interface TimeoutBounds {
  touchAfter: number;
  maxIdleTimeout: number;
  /** `false`: no bound. */
  maxAbsoluteTimeout: number | false;
}

/** Checked timeouts in ms; a field is absent when it was not given. */
export interface OwnTimeouts {
  idle?: number;
  /** `false`: no absolute lifetime. */
  absolute?: number | false;
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** `ms` in the largest unit that divides it (`"30d"`, `"90s"`), for messages. */
function human(ms: number): string {
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function duration(field: string, value: unknown, orOff: boolean): number {
  const ms = parseDuration(value as Duration);
  if (ms === null || ms === 0)
    throw new InvalidInputError(
      field,
      `${JSON.stringify(value) ?? String(value)} is not a duration (use milliseconds or a string like "30d"${orOff ? ', or false for none' : ''})`,
    );
  return ms;
}

/**
 * Checks a session's own timeouts against the bounds. Throws `InvalidInputError` naming the
 * timeout and the bound it breaks (a value past the bound is refused, never silently shortened).
 */
export function checkTimeouts(bounds: TimeoutBounds, input: SessionTimeouts): OwnTimeouts {
  const own: OwnTimeouts = {};
  if (input.idleTimeout !== undefined) {
    const idle = duration('idleTimeout', input.idleTimeout, false);
    if (idle <= bounds.touchAfter)
      throw new InvalidInputError(
        'idleTimeout',
        `${human(idle)} is not longer than touchAfter (${human(bounds.touchAfter)}): an active session would expire between touches`,
      );
    if (idle > bounds.maxIdleTimeout)
      throw new InvalidInputError(
        'idleTimeout',
        `${human(idle)} is longer than maxIdleTimeout (${human(bounds.maxIdleTimeout)}); raise the manager's maxIdleTimeout to allow it`,
      );
    own.idle = idle;
  }
  if (input.absoluteTimeout !== undefined) {
    if (input.absoluteTimeout === false) {
      if (bounds.maxAbsoluteTimeout !== false)
        throw new InvalidInputError(
          'absoluteTimeout',
          `false (no absolute lifetime) needs the manager's maxAbsoluteTimeout to be false; it is ${human(bounds.maxAbsoluteTimeout)}`,
        );
      own.absolute = false;
    } else {
      const absolute = duration('absoluteTimeout', input.absoluteTimeout, true);
      if (bounds.maxAbsoluteTimeout !== false && absolute > bounds.maxAbsoluteTimeout)
        throw new InvalidInputError(
          'absoluteTimeout',
          `${human(absolute)} is longer than maxAbsoluteTimeout (${human(bounds.maxAbsoluteTimeout)}); raise the manager's maxAbsoluteTimeout to allow it`,
        );
      own.absolute = absolute;
    }
  }
  return own;
}

/** The manager settings a new session is built with (ms). */
export interface TimeoutDefaults extends RecordSettings {
  maxIdleTimeout: number;
}

/** The record settings of a new session: its own timeouts where given, else the manager's. */
export function createSettings(defaults: TimeoutDefaults, own: OwnTimeouts): RecordSettings {
  return {
    idleTimeout: own.idle ?? defaults.idleTimeout,
    absoluteTimeout: own.absolute ?? defaults.absoluteTimeout,
    csrf: defaults.csrf,
    idFits: defaults.idFits,
  };
}

/**
 * The idle window a session was created with: `idleExpiresAt - lastSeenAt`. Where the absolute
 * expiry cut the idle expiry short, the window is not known from the record, so it is at least the
 * manager's idle timeout; never more than `maxIdleTimeout` (the cap every touch applies).
 */
export function ownIdleWindow(defaults: TimeoutDefaults, record: SessionRecord): number {
  let window = record.idleExpiresAt - record.lastSeenAt;
  if (record.absoluteExpiresAt !== null && record.idleExpiresAt >= record.absoluteExpiresAt)
    window = Math.max(window, defaults.idleTimeout);
  return Math.min(window, defaults.maxIdleTimeout);
}

/**
 * How a regenerated session's timeouts are set: its own where given; else, on a login (another
 * user), the manager's defaults; else (the same user) the old session's idle window and absolute
 * end, so "remember me" survives a privilege change and a regenerate never extends a session's
 * life. Returns the record settings and the absolute expiry to pass to `newRecord` (`undefined`:
 * from the settings).
 */
export function regenerateSettings(
  defaults: TimeoutDefaults,
  own: OwnTimeouts,
  old: SessionRecord,
  login: boolean,
  now: number,
): { settings: RecordSettings; absolute: number | null | undefined } {
  const idleTimeout = own.idle ?? (login ? defaults.idleTimeout : ownIdleWindow(defaults, old));
  const absolute =
    own.absolute !== undefined
      ? own.absolute === false
        ? null
        : now + own.absolute
      : login
        ? undefined
        : old.absoluteExpiresAt;
  return {
    settings: {
      idleTimeout,
      absoluteTimeout: defaults.absoluteTimeout,
      csrf: defaults.csrf,
      idFits: defaults.idFits,
    },
    absolute,
  };
}
