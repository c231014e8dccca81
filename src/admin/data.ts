/**
 * What the dashboard reads from the manager and its store: the overview (counts, health, the
 * activity samples it records as a side effect), pages of live sessions, the audit trail, and one
 * session for a confirmation page. Pages and the JSON API both read through here.
 */
import type { SessionManager } from '../core/manager-api.js';
import type { SessionRecord } from '../core/types.js';
import type { ActivityHistory } from './history.js';
import { type SessionView, sessionView, type TerminatedView, terminatedView } from './json.js';

export interface AdminData {
  /** Counts and health now; records an activity sample when the store can count. */
  overview(): Promise<{
    now: number;
    stats: Awaited<ReturnType<SessionManager['stats']>>;
    health: Awaited<ReturnType<SessionManager['health']>>;
    samples: ReturnType<ActivityHistory['since']>;
  }>;
  /** Whether the store can list every session (the sessions table). */
  listable(): boolean;
  /** Whether the store keeps terminated sessions (the audit trail). */
  auditable(): boolean;
  /** A page of live sessions, of one user when `user` is not empty. */
  listSessions(
    user: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; sessions: SessionView[] }>;
  listAudit(offset: number, limit: number): Promise<{ total: number; sessions: TerminatedView[] }>;
  /** One live session, read without touching it, or `null` when it is not live. */
  findSession(id: string): Promise<SessionRecord | null>;
}

export function createAdminData(
  // biome-ignore lint/suspicious/noExplicitAny: any manager's data type is fine here
  manager: SessionManager<any>,
  history: ActivityHistory,
  window: number,
  clock: () => number,
): AdminData {
  const store = manager.store;
  return {
    async overview() {
      const now = clock();
      const [stats, health] = await Promise.all([manager.stats(), manager.health()]);
      if (stats.sessions)
        history.record({
          at: now,
          activeSessions: stats.sessions.activeSessions,
          distinctUsers: stats.sessions.distinctUsers,
        });
      return { now, stats, health, samples: history.since(now - window) };
    },
    listable: () => store.capabilities.listAll && typeof store.list === 'function',
    auditable: () => store.capabilities.audit && typeof store.listTerminated === 'function',
    async listSessions(user, offset, limit) {
      const query = user ? { userId: user, offset, limit } : { offset, limit };
      const result = await store.list!(query, clock());
      return { total: result.total, sessions: result.sessions.map(sessionView) };
    },
    async listAudit(offset, limit) {
      const result = await store.listTerminated!({ offset, limit }, clock());
      return { total: result.total, sessions: result.sessions.map(terminatedView) };
    },
    async findSession(id) {
      return (await store.get(id, clock())).record;
    },
  };
}
