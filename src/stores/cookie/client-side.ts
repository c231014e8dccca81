/**
 * The cookie store driven by the HTTP layer: each request's session is the one its cookies carry.
 * `open` unseals the request's cookies into a scope; the manager's calls for that request run in
 * the scope (an `AsyncLocalStorage`), where the store's operations act on that one session; at
 * the end of the request `seal` turns the session back into cookie values. Nothing is kept
 * between requests except the per-user generations, when configured.
 *
 * What a client-side session cannot do is refused with `NotSupportedError`: listing a user's
 * sessions, ending a session other than the request's own, and (without generations) logging a
 * user out everywhere.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientSessionScope, ClientSideSessions } from '../../core/client-side.js';
import { NotSupportedError } from '../../core/errors.js';
import { expiryReason, isLive, patched, touchDue, touched } from '../../core/record.js';
import type {
  CreateOptions,
  LookupResult,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  TouchPolicy,
} from '../../core/types.js';
import type { GenerationStore } from './generations.js';
import type { CookieRejection, Payload } from './index.js';

/** What the store hands its client-side half. */
export interface ClientSideDeps {
  storeName: string;
  maxChunks: number;
  generations: GenerationStore | undefined;
  readPayload(
    read: (index: number) => string | undefined,
  ): { payload: Payload } | { reason: CookieRejection };
  sealPayload(payload: Payload): string[];
  /** Logs a refused cookie (never the cookie). */
  refused(reason: CookieRejection): void;
}

/** A session this request holds: as its cookie carried it, or as the request made it. */
interface Held {
  record: SessionRecord;
  /** The generation the cookie was sealed under; `undefined` when it must be read afresh. */
  generation: string | null | undefined;
  changed: boolean;
}

/** The store operations that act on the current request's session. */
export type ScopedOperations = Pick<
  SessionStore,
  'create' | 'get' | 'patch' | 'destroy' | 'destroyUser' | 'regenerate' | 'listUser'
>;

export interface ClientSide {
  clientSide: ClientSideSessions;
  /** The operations of the request being served, or `undefined` outside any request. */
  current(): ScopedOperations | undefined;
  /** The error for an operation that needs a request (called outside one). */
  outsideRequest(operation: string): NotSupportedError;
  /** The error for listing a user's sessions. */
  cannotList(): NotSupportedError;
  /** The error for ending a session that is not the request's own. */
  cannotEndOther(): NotSupportedError;
  /** Logs a user out of every browser (`generations.bump`), or `NotSupportedError` without them. */
  revokeUser(userId: string): Promise<void>;
}

export function createClientSide(deps: ClientSideDeps): ClientSide {
  const { storeName, generations } = deps;
  const scopes = new AsyncLocalStorage<ScopedOperations>();

  const cannotList = () =>
    new NotSupportedError(
      storeName,
      "cannot list a user's sessions: each one lives only in its browser's cookies (use a server-side store for a devices page)",
    );
  const cannotEndOther = () =>
    new NotSupportedError(
      storeName,
      "cannot end another browser's session: it lives only in that browser's cookies; end all of the user's sessions with terminateUser (needs generations), or use a server-side store",
    );
  const outsideRequest = (operation: string) =>
    new NotSupportedError(
      storeName,
      `keeps each session in its browser's cookies: ${operation} works only inside a request handled by tesseraSession() (for tests, pass a jar: sessionStore(new Map()))`,
    );

  async function revokeUser(userId: string): Promise<void> {
    if (!generations)
      throw new NotSupportedError(
        storeName,
        'cannot log a user out everywhere without `generations` (a per-user counter kept in a server-side store such as Redis): createCookieStore({ secrets, generations: generationsFromRateLimitStore(store) })',
      );
    await generations.bump(userId);
  }

  function scope(opened: Held | null): ScopedOperations & { held: Map<string, Held> } {
    const held = new Map<string, Held>();
    if (opened) held.set(opened.record.id, opened);
    const live = (id: string, now: number) => {
      const entry = held.get(id);
      return entry && isLive(entry.record, now) ? entry : undefined;
    };
    return {
      held,
      async create(record: SessionRecord, _options: CreateOptions) {
        held.set(record.id, { record, generation: undefined, changed: true });
        return { evicted: [] };
      },
      async get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
        const entry = held.get(id);
        if (!entry) return { record: null, reason: 'not_found' };
        const expired = expiryReason(entry.record, now);
        if (expired) return { record: null, reason: expired };
        const { userId } = entry.record;
        if (userId !== null && generations && entry.generation !== undefined) {
          if (entry.generation !== (await generations.current(userId))) {
            deps.refused('revoked');
            held.delete(id);
            return { record: null, reason: 'terminated', terminationReason: 'logout-all' };
          }
        }
        if (!touch || !touchDue(entry.record, touch, now))
          return { record: entry.record, touched: false };
        entry.record = touched(entry.record, touch, now);
        entry.changed = true;
        return { record: entry.record, touched: true };
      },
      async patch(id: string, patch: SessionPatch, now: number) {
        const entry = live(id, now);
        if (!entry) return null;
        entry.record = patched(entry.record, patch);
        if (patch.userId !== undefined) entry.generation = undefined;
        entry.changed = true;
        return entry.record;
      },
      async destroy(id: string) {
        const entry = held.get(id);
        if (!entry) throw cannotEndOther();
        held.delete(id);
        return { userId: entry.record.userId };
      },
      async destroyUser(userId, { exceptId }) {
        await revokeUser(userId);
        const ended: string[] = [];
        for (const [id, entry] of held) {
          if (entry.record.userId !== userId) continue;
          if (id === exceptId) {
            // Sealed again under the new generation: this browser stays signed in.
            entry.generation = undefined;
            entry.changed = true;
          } else {
            held.delete(id);
            ended.push(id);
          }
        }
        return ended;
      },
      async regenerate(oldId: string, record: SessionRecord, options: CreateOptions) {
        if (!live(oldId, options.now)) return { ok: false, evicted: [] } satisfies RegenerateResult;
        held.delete(oldId);
        held.set(record.id, { record, generation: undefined, changed: true });
        return { ok: true, evicted: [] };
      },
      async listUser() {
        throw cannotList();
      },
    };
  }

  const clientSide: ClientSideSessions = {
    maxChunks: deps.maxChunks,
    async open(chunk, _now): Promise<ClientSessionScope> {
      const read = deps.readPayload(chunk);
      if ('reason' in read && read.reason !== 'absent') deps.refused(read.reason);
      const payload = 'payload' in read && read.payload.t !== undefined ? read.payload : null;
      const operations = scope(
        payload ? { record: payload.r, generation: payload.g, changed: false } : null,
      );
      return {
        token: payload?.t ?? null,
        run: (fn) => scopes.run(operations, fn),
        changed: (id) => operations.held.get(id)?.changed ?? false,
        async seal(id, token, now) {
          const entry = operations.held.get(id);
          if (!entry || !isLive(entry.record, now)) return null;
          const { userId } = entry.record;
          entry.generation ??=
            userId !== null && generations ? await generations.current(userId) : null;
          return deps.sealPayload({ r: entry.record, g: entry.generation, t: token });
        },
      };
    },
  };

  return {
    clientSide,
    current: () => scopes.getStore(),
    outsideRequest,
    cannotList,
    cannotEndOther,
    revokeUser,
  };
}
