/**
 * Session lifecycle events. Listeners are called synchronously after the operation succeeded; a
 * listener that throws is logged and never breaks the operation that emitted the event.
 */
import type { Logger } from './logger.js';
import { describeError } from './logger.js';
import type { MissReason, TerminationReason } from './types.js';

export interface SessionEvents {
  /** A session was created (`evicted`: ids ended to respect the per-user limit). */
  created: { id: string; userId: string | null; evicted: string[] };
  /** `regenerate()` replaced `oldId` by `newId`. */
  rotated: { oldId: string; newId: string; userId: string | null };
  /** A session ended. */
  terminated: { id: string; userId: string | null; reason: TerminationReason };
  /** A session was ended to respect the per-user limit (also reported as `terminated`/`limit`). */
  evicted: { id: string; userId: string | null };
  /** A lookup found a session past its idle or absolute timeout, or cleanup removed `count`. */
  expired: {
    id?: string;
    reason: Extract<MissReason, 'expired_idle' | 'expired_absolute'> | 'cleanup';
    count: number;
  };
  /** A CSRF token did not match its session. */
  csrfRejected: { id: string };
  /** A login attempt was refused by the rate limiter. `ip` is the counter key (IPv6 by /64). */
  rateLimited: { ip: string | null; username: string | null; retryAfterMs: number };
  /** A store operation failed. */
  storeError: { operation: string; error: unknown };
}

export type SessionEventName = keyof SessionEvents;
export type SessionEventListener<E extends SessionEventName> = (event: SessionEvents[E]) => void;
export type SessionEventListeners = { [E in SessionEventName]?: SessionEventListener<E> };

export class SessionEventBus {
  private readonly listeners = new Map<SessionEventName, Set<(event: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void {
    const set = this.listeners.get(name) ?? new Set();
    this.listeners.set(name, set);
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  emit<E extends SessionEventName>(name: E, event: SessionEvents[E]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as SessionEventListener<E>)(event);
      } catch (err) {
        this.logger.error(
          { event: name, err: describeError(err) },
          'tessera: event listener threw',
        );
      }
    }
  }
}
