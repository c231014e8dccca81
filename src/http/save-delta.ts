/**
 * The data part of a request's commit: the pending delta saved on the stored session, or, for an
 * anonymous visitor's first write, a new session created with it. Cookies are decided afterwards
 * (./cookie-outcome.ts).
 */
import type { IssuedSession, Session, SessionManager } from '../core/manager-api.js';
import type { SessionData } from '../core/types.js';
import type { PendingChanges } from './pending-changes.js';

export type SavedDelta<Data extends SessionData> =
  | { kind: 'none' }
  | { kind: 'updated'; record: Session<Data> }
  /** The session ended meanwhile (a logout, a login in another tab): nothing was saved. */
  | { kind: 'ended' }
  | { kind: 'created'; issued: IssuedSession<Data> };

export async function saveDelta<Data extends SessionData>(
  manager: SessionManager<Data>,
  record: Session<Data> | null,
  pending: PendingChanges | null,
  visitor: { ip: string | null; userAgent: string | null; endedElsewhere: boolean },
): Promise<SavedDelta<Data>> {
  if (pending === null || pending.isEmpty) return { kind: 'none' };
  if (record) {
    const updated = await manager.update(record, {
      set: pending.setsAsData() as Partial<Data>,
      unset: [...pending.unsets],
    });
    return updated ? { kind: 'updated', record: updated } : { kind: 'ended' };
  }
  // First write of an anonymous visitor: only now does a stored session exist.
  if (pending.sets.size === 0 || visitor.endedElsewhere) return { kind: 'none' };
  const issued = await manager.create({
    userId: null,
    ip: visitor.ip,
    userAgent: visitor.userAgent,
    data: pending.setsAsData() as Data,
  });
  return { kind: 'created', issued };
}
