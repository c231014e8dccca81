/**
 * The in-memory session store: the default for development and tests. Bounded (`maxSessions`:
 * when full, the least recently active anonymous session is evicted, and a signed-in one only when
 * no anonymous session is left, so a flood of anonymous sessions can neither exhaust memory nor
 * sign users out), with an indexed expiry heap so cleanup costs follow the number expired. Every
 * operation runs synchronously inside one call, which is what makes it atomic in a single Node
 * process.
 */
import { ageStats, isLogin, LoginTally } from '../../core/analytics.js';
import { StoreError } from '../../core/errors.js';
import {
  byRecentActivity,
  expiresAt,
  expiryReason,
  isLive,
  patched,
  tallyStats,
  touchDue,
  touched,
} from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  CreateOptions,
  CreateResult,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  MissReason,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { ExpiryHeap } from '../expiry-heap.js';
import { positiveInteger } from '../options.js';

/** The memory store's defaults: each option's `@default` names its entry here. */
export const MEMORY_DEFAULTS = {
  maxSessions: 100_000,
  maxTombstones: 10_000,
} as const;

export interface MemoryStoreOptions {
  /**
   * The most sessions kept. When full, creating one evicts the least recently active anonymous
   * session, or the least recently active signed-in one when none is anonymous.
   * @default MEMORY_DEFAULTS.maxSessions
   */
  maxSessions?: number;
  /**
   * How many recently ended session ids are remembered, so a lookup can say `terminated` or
   * `expired_*` instead of `not_found`.
   * @default MEMORY_DEFAULTS.maxTombstones
   */
  maxTombstones?: number;
}

/** The memory store's option keys (the compiler checks them against the interface). */
export const MEMORY_KNOWN_KEYS = {
  maxSessions: true,
  maxTombstones: true,
} as const satisfies KnownKeys<MemoryStoreOptions>;

/** Data is frozen on write so records can be handed out without a deep copy on every read. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export const MEMORY_STORE_NAME = 'memory';

export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  rejectUnknownKeys('createMemoryStore()', options, MEMORY_KNOWN_KEYS);
  const maxSessions = positiveInteger(
    'maxSessions',
    options.maxSessions ?? MEMORY_DEFAULTS.maxSessions,
  );
  const maxTombstones = positiveInteger(
    'maxTombstones',
    options.maxTombstones ?? MEMORY_DEFAULTS.maxTombstones,
  );

  // Insertion order is recency order: a touch re-inserts, so the first entry is the least recently active.
  const sessions = new Map<string, SessionRecord>();
  // The anonymous ids, in the same recency order: the ones a full store evicts first.
  const anonymous = new Set<string>();
  const byUser = new Map<string, Set<string>>();
  const heap = new ExpiryHeap();
  const tombstones = new Map<string, MissReason>();
  const logins = new LoginTally();
  let closed = false;

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  function remember(id: string, reason: MissReason): void {
    tombstones.delete(id);
    tombstones.set(id, reason);
    if (tombstones.size > maxTombstones) tombstones.delete(tombstones.keys().next().value!);
  }

  function index(id: string, userId: string | null): void {
    if (userId === null) return;
    const ids = byUser.get(userId) ?? new Set<string>();
    byUser.set(userId, ids);
    ids.add(id);
  }

  function unindex(id: string, userId: string | null): void {
    if (userId === null) return;
    const ids = byUser.get(userId);
    ids?.delete(id);
    if (ids?.size === 0) byUser.delete(userId);
  }

  /** Stores `record` as the most recently active; a record it replaces leaves its owner's index. */
  function put(record: SessionRecord): void {
    const previous = sessions.get(record.id);
    if (previous && previous.userId !== record.userId) unindex(record.id, previous.userId);
    sessions.delete(record.id);
    sessions.set(record.id, record);
    anonymous.delete(record.id);
    if (record.userId === null) anonymous.add(record.id);
    heap.set(record.id, expiresAt(record));
    index(record.id, record.userId);
  }

  function remove(id: string, why: MissReason): SessionRecord | undefined {
    const record = sessions.get(id);
    if (!record) return undefined;
    sessions.delete(id);
    anonymous.delete(id);
    heap.delete(id);
    unindex(id, record.userId);
    remember(id, why);
    return record;
  }

  /** The live record, removing it first if it has expired. */
  function live(id: string, now: number): SessionRecord | MissReason {
    const record = sessions.get(id);
    if (!record) return tombstones.get(id) ?? 'not_found';
    const expired = expiryReason(record, now);
    if (expired) {
      remove(id, expired);
      return expired;
    }
    return record;
  }

  function liveOfUser(userId: string, now: number): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const id of byUser.get(userId) ?? []) {
      const r = live(id, now);
      if (typeof r !== 'string') out.push(r);
    }
    return out;
  }

  /** Creates `record`, replacing whatever its id held (see `SessionStore.create`). */
  function insert(record: SessionRecord, options: CreateOptions): string[] {
    // The id's previous record (live or not) is replaced, never counted against a limit.
    if (sessions.has(record.id)) remove(record.id, 'terminated');
    tombstones.delete(record.id);
    const evicted: string[] = [];
    const limit = options.maxSessionsPerUser;
    if (record.userId !== null && limit !== null) {
      const mine = liveOfUser(record.userId, options.now).sort(byRecentActivity);
      for (const old of mine.slice(Math.max(0, limit - 1))) {
        remove(old.id, 'terminated');
        evicted.push(old.id);
      }
    }
    while (sessions.size >= maxSessions) {
      const oldest = anonymous.values().next().value ?? sessions.keys().next().value!;
      remove(oldest, 'terminated');
      evicted.push(oldest);
    }
    put({ ...record, data: deepFreeze(structuredClone(record.data)) });
    if (isLogin(record, options.now)) logins.record(options.now);
    return evicted;
  }

  function assertOpen(): void {
    if (closed) throw new StoreError(MEMORY_STORE_NAME, 'the store is closed');
  }

  return {
    name: MEMORY_STORE_NAME,
    capabilities,

    async create(record: SessionRecord, options: CreateOptions): Promise<CreateResult> {
      assertOpen();
      return { evicted: insert(record, options) };
    },

    async get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      assertOpen();
      const r = live(id, now);
      if (typeof r === 'string') return { record: null, reason: r };
      if (touch && touchDue(r, touch, now)) {
        const next = touched(r, touch, now);
        put(next);
        return { record: { ...next }, touched: true };
      }
      return { record: { ...r }, touched: false };
    },

    async patch(id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
      assertOpen();
      const r = live(id, now);
      if (typeof r === 'string') return null;
      const frozenPatch: SessionPatch = {
        ...patch,
        set: patch.set && deepFreeze(structuredClone(patch.set)),
      };
      const next = patched(r, frozenPatch);
      Object.freeze(next.data);
      // A patch is not activity: keep the record's place in recency order.
      sessions.set(id, next);
      if (next.userId !== r.userId) {
        unindex(id, r.userId);
        index(id, next.userId);
      }
      return { ...next };
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      assertOpen();
      const r = live(id, now);
      if (typeof r === 'string') return null;
      remove(id, 'terminated');
      return { userId: r.userId };
    },

    async destroyUser(userId, { exceptId, now }): Promise<string[]> {
      assertOpen();
      const ended: string[] = [];
      for (const r of liveOfUser(userId, now)) {
        if (r.id === exceptId) continue;
        remove(r.id, 'terminated');
        ended.push(r.id);
      }
      return ended;
    },

    async regenerate(
      oldId: string,
      record: SessionRecord,
      options: CreateOptions,
    ): Promise<RegenerateResult> {
      assertOpen();
      const old = live(oldId, options.now);
      if (typeof old === 'string') return { ok: false, evicted: [] };
      remove(oldId, 'terminated');
      return { ok: true, evicted: insert(record, options) };
    },

    async listUser(userId: string, now: number): Promise<SessionRecord[]> {
      assertOpen();
      return liveOfUser(userId, now)
        .sort(byRecentActivity)
        .map((r) => ({ ...r }));
    },

    async list(query: ListQuery, now: number): Promise<ListResult> {
      assertOpen();
      const all =
        query.userId !== undefined
          ? liveOfUser(query.userId, now)
          : [...sessions.values()].filter((r) => isLive(r, now));
      all.sort(byRecentActivity);
      const offset = query.offset ?? 0;
      return {
        sessions: all.slice(offset, offset + query.limit).map((r) => ({ ...r })),
        total: all.length,
      };
    },

    async stats(now: number): Promise<StoreStats> {
      assertOpen();
      const live = [...sessions.values()].filter((r) => isLive(r, now));
      return {
        ...tallyStats(live),
        sessionAge: ageStats(live.map((r) => now - r.createdAt)),
        logins: logins.stats(now),
      };
    },

    async cleanup(now: number): Promise<number> {
      assertOpen();
      let removed = 0;
      for (const id of heap.popExpired(now)) {
        const record = sessions.get(id);
        if (record) remove(id, expiryReason(record, now) ?? 'expired_idle');
        removed++;
      }
      return removed;
    },

    async health(): Promise<HealthReport> {
      return closed
        ? { ok: false, store: MEMORY_STORE_NAME, detail: 'closed' }
        : { ok: true, store: MEMORY_STORE_NAME, latencyMs: 0, detail: `${sessions.size} sessions` };
    },

    async close(): Promise<void> {
      closed = true;
      sessions.clear();
      byUser.clear();
      tombstones.clear();
    },
  };
}
