/**
 * The Memcached store (`tessera-session/memcached`): one item per session (its JSON record), a per-user
 * index item (the user's session ids) kept exact with compare-and-swap retries, and expiry buckets
 * (ids appended to one item per minute of expiry) so cleanup reads only the buckets that can hold
 * expired sessions. Every read-modify-write (touch, patch, destroy, the index) is a `gets` + `cas`
 * loop, which is what keeps concurrent patches and termination correct across processes.
 *
 * What Memcached cannot do, declared in `capabilities`: list every session (it cannot enumerate
 * keys), count them (stats), keep an audit trail. Items can also be evicted under memory pressure,
 * which logs those sessions out. The hybrid store with SQL fills those gaps. The rate-limit store
 * is in ./rate-limit.ts, the text-protocol client in ./client.ts.
 */
import { describeError, silentLogger } from '../../core/logger.js';
import {
  byRecentActivity,
  expiresAt,
  expiryReason,
  isLive,
  parseRecord,
  patched,
  touchDue,
  touched,
} from '../../core/record.js';
import { rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  CreateOptions,
  CreateResult,
  HealthReport,
  LookupResult,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { RETRY, retryOnConflict } from './cas.js';
import { MEMCACHED_STORE_NAME, MemcachedClient } from './client.js';
import { makeKeyer, ttlSeconds } from './keys.js';
import { MEMCACHED_KNOWN_KEYS, type MemcachedStoreOptions, resolveOptions } from './options.js';

export { MEMCACHED_STORE_NAME } from './client.js';
export { ttlSeconds } from './keys.js';
export { MEMCACHED_DEFAULTS, type MemcachedStoreOptions } from './options.js';
export {
  createMemcachedRateLimitStore,
  MEMCACHED_RATE_LIMIT_DEFAULTS,
  type MemcachedRateLimitStoreOptions,
} from './rate-limit.js';

/** A terminated session's item: a CAS write of a record in flight finds it changed and fails. */
const TOMBSTONE = 'T';

type Stored =
  | { kind: 'missing' }
  | { kind: 'tombstone'; cas: string }
  | { kind: 'corrupt'; cas: string }
  | { kind: 'record'; record: SessionRecord; cas: string };

export function createMemcachedStore(options: MemcachedStoreOptions = {}): SessionStore {
  rejectUnknownKeys('createMemcachedStore()', options, MEMCACHED_KNOWN_KEYS);
  const o = resolveOptions(options);
  const logger = options.logger ?? silentLogger;
  const client = new MemcachedClient(o);
  const key = makeKeyer(o.prefix);
  const sKey = (id: string) => key(`${o.prefix}s:${id}`);
  const uKey = (userId: string) => key(`${o.prefix}u:${userId}`);
  const xKey = (bucket: number) => key(`${o.prefix}x:${bucket}`);

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: false,
    stats: false,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  const recordTtl = (record: SessionRecord, now: number) =>
    ttlSeconds(expiresAt(record) + o.grace, now);
  /** Writes a record over the item read with token `cas`; EXISTS when it changed meanwhile. */
  const casRecord = (record: SessionRecord, now: number, cas: string) =>
    client.cas(sKey(record.id), JSON.stringify(record), recordTtl(record, now), cas);

  function decode(id: string, value: Buffer, cas: string): Stored {
    const text = value.toString('utf8');
    if (text === TOMBSTONE) return { kind: 'tombstone', cas };
    const record = parseRecord(text);
    if (!record || record.id !== id) {
      logger.warn({ store: MEMCACHED_STORE_NAME, sessionId: id }, 'corrupted session item ignored');
      return { kind: 'corrupt', cas };
    }
    return { kind: 'record', record, cas };
  }

  async function read(id: string): Promise<Stored> {
    const item = await client.gets(sKey(id));
    return item ? decode(id, item.value, item.cas) : { kind: 'missing' };
  }

  const casLoop = <T>(what: string, step: () => Promise<T | typeof RETRY>) =>
    retryOnConflict(o.attempts, what, step);

  /** Adds the id to the bucket of its expiry, so cleanup finds it without a key listing. */
  async function registerExpiry(record: SessionRecord, now: number): Promise<void> {
    const bucket = Math.floor(expiresAt(record) / o.bucketMs);
    const k = xKey(bucket);
    const entry = `${record.id},`;
    try {
      for (let i = 0; i < 3; i++) {
        if ((await client.append(k, entry)) === 'STORED') return;
        const ttl = ttlSeconds((bucket + 1) * o.bucketMs + o.grace, now);
        if ((await client.add(k, entry, ttl)) === 'STORED') return;
      }
    } catch (err) {
      // A full bucket, or a bucket on a server that is down, only means cleanup will not see this
      // session; its item still expires by TTL. It must not fail the login or the touch.
      logger.warn(
        { store: MEMCACHED_STORE_NAME, err: describeError(err) },
        'expiry bucket not updated',
      );
    }
  }

  /** Ids in a user's index and the index's CAS token (`null` when there is no index item). */
  async function readIndex(userId: string): Promise<{ ids: string[]; cas: string | null }> {
    const item = await client.gets(uKey(userId));
    if (!item) return { ids: [], cas: null };
    try {
      const ids = JSON.parse(item.value.toString('utf8')) as unknown;
      if (Array.isArray(ids) && ids.every((x) => typeof x === 'string'))
        return { ids, cas: item.cas };
    } catch {}
    logger.warn({ store: MEMCACHED_STORE_NAME }, 'corrupted user index rebuilt');
    return { ids: [], cas: item.cas };
  }

  /** Live records for `ids` at `now`. */
  async function liveRecords(ids: string[], now: number): Promise<SessionRecord[]> {
    if (ids.length === 0) return [];
    const values = await client.getMany(ids.map(sKey));
    const out: SessionRecord[] = [];
    for (const id of ids) {
      const value = values.get(sKey(id));
      if (!value) continue;
      const stored = decode(id, value, '');
      if (stored.kind === 'record' && isLive(stored.record, now)) out.push(stored.record);
    }
    return out;
  }

  /** Writes a user's index with CAS; `false` on a conflict. The index never expires on its own. */
  async function writeIndex(userId: string, ids: string[], cas: string | null): Promise<boolean> {
    const k = uKey(userId);
    if (ids.length === 0 && cas !== null) {
      // An empty index is kept (not deleted) so a concurrent create's CAS still sees a change.
      return (await client.cas(k, '[]', 0, cas)) === 'STORED';
    }
    const value = JSON.stringify(ids);
    const reply = cas === null ? await client.add(k, value, 0) : await client.cas(k, value, 0, cas);
    return reply === 'STORED';
  }

  /** Removes ids from a user's index (a CAS loop). */
  async function unindex(userId: string, gone: string[]): Promise<void> {
    const drop = new Set(gone);
    await casLoop('user index update', async () => {
      const { ids, cas } = await readIndex(userId);
      if (cas === null || !ids.some((id) => drop.has(id))) return undefined;
      return (await writeIndex(
        userId,
        ids.filter((id) => !drop.has(id)),
        cas,
      ))
        ? undefined
        : RETRY;
    });
  }

  /** Adds an id to a user's index (a CAS loop). */
  async function indexUnder(userId: string, id: string): Promise<void> {
    await casLoop('user index update', async () => {
      const { ids, cas } = await readIndex(userId);
      if (ids.includes(id)) return undefined;
      return (await writeIndex(userId, [...ids, id], cas)) ? undefined : RETRY;
    });
  }

  /**
   * Replaces a record by a tombstone with CAS, so no touch or patch in flight can write it back.
   * Returns the record it replaced (live or not), or `null` when there was none. With `owner`, a
   * record that belongs to someone else now (moved by a patch or a re-create) is left alone.
   */
  async function terminate(id: string, now: number, owner?: string): Promise<SessionRecord | null> {
    return casLoop('destroy', async () => {
      const stored = await read(id);
      if (stored.kind === 'missing' || stored.kind === 'tombstone') return null;
      if (owner !== undefined && (stored.kind !== 'record' || stored.record.userId !== owner))
        return null;
      const ttl = stored.kind === 'record' ? recordTtl(stored.record, now) : 60;
      const reply = await client.cas(sKey(id), TOMBSTONE, ttl, stored.cas);
      if (reply === 'EXISTS') return RETRY;
      if (reply === 'NOT_FOUND') return null;
      return stored.kind === 'record' ? stored.record : null;
    });
  }

  async function insert(record: SessionRecord, options: CreateOptions): Promise<string[]> {
    const { now, maxSessionsPerUser: limit } = options;
    await client.set(sKey(record.id), JSON.stringify(record), recordTtl(record, now));
    await registerExpiry(record, now);
    const userId = record.userId;
    if (userId === null) return [];
    const victims = await casLoop('per-user limit', async () => {
      const { ids, cas } = await readIndex(userId);
      // An index may still name a session that moved to another owner: it is not this user's.
      const others = (
        await liveRecords(
          ids.filter((id) => id !== record.id),
          now,
        )
      )
        .filter((r) => r.userId === userId)
        .sort(byRecentActivity);
      const keep = limit === null ? others : others.slice(0, Math.max(0, limit - 1));
      const evict = limit === null ? [] : others.slice(Math.max(0, limit - 1));
      const next = [...keep.map((r) => r.id), record.id];
      return (await writeIndex(userId, next, cas)) ? evict.map((r) => r.id) : RETRY;
    });
    // Each victim left the index in exactly one successful CAS, so it is reported exactly once.
    await Promise.all(victims.map((id) => terminate(id, now, userId)));
    return victims;
  }

  return {
    name: MEMCACHED_STORE_NAME,
    capabilities,

    async create(record, options): Promise<CreateResult> {
      return { evicted: await insert(record, options) };
    },

    async get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      return casLoop('touch', async () => {
        const stored = await read(id);
        if (stored.kind === 'missing' || stored.kind === 'corrupt')
          return { record: null, reason: 'not_found' } as const;
        if (stored.kind === 'tombstone') return { record: null, reason: 'terminated' } as const;
        const expired = expiryReason(stored.record, now);
        if (expired) return { record: null, reason: expired } as const;
        if (!touch || !touchDue(stored.record, touch, now))
          return { record: stored.record, touched: false };
        const next = touched(stored.record, touch, now);
        const reply = await casRecord(next, now, stored.cas);
        if (reply === 'EXISTS') return RETRY;
        if (reply === 'NOT_FOUND') return { record: null, reason: 'not_found' } as const;
        await registerExpiry(next, now);
        return { record: next, touched: true };
      });
    },

    async patch(id: string, patch: SessionPatch, now: number): Promise<SessionRecord | null> {
      const result = await casLoop('patch', async () => {
        const stored = await read(id);
        if (stored.kind !== 'record' || !isLive(stored.record, now)) return null;
        const next = patched(stored.record, patch); // DataTooLargeError past maxDataBytes
        // A new owner's index names the session before the record says so: an index entry
        // without the record is ignored (listings check the owner), a record without one is lost.
        if (next.userId !== null && next.userId !== stored.record.userId)
          await indexUnder(next.userId, id);
        const reply = await casRecord(next, now, stored.cas);
        if (reply === 'EXISTS') return RETRY;
        return reply === 'STORED' ? { next, previousOwner: stored.record.userId } : null;
      });
      if (!result) return null;
      const { next, previousOwner } = result;
      if (previousOwner !== null && previousOwner !== next.userId)
        await unindex(previousOwner, [id]);
      return next;
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      const old = await terminate(id, now);
      if (old?.userId != null) await unindex(old.userId, [id]);
      return old !== null && isLive(old, now) ? { userId: old.userId } : null;
    },

    async destroyUser(userId, { exceptId, now }): Promise<string[]> {
      const { ids } = await readIndex(userId);
      const targets = ids.filter((id) => id !== exceptId);
      const ended: string[] = [];
      for (const id of targets) {
        // Only sessions still this user's: one that moved to another owner stays live.
        const old = await terminate(id, now, userId);
        if (old && isLive(old, now)) ended.push(id);
      }
      if (targets.length > 0) await unindex(userId, targets);
      return ended;
    },

    async regenerate(oldId, record, options): Promise<RegenerateResult> {
      // The tombstone CAS is the claim: of two concurrent regenerates only one replaces the record.
      const old = await terminate(oldId, options.now);
      if (!old || !isLive(old, options.now)) return { ok: false, evicted: [] };
      if (old.userId !== null && old.userId !== record.userId) await unindex(old.userId, [oldId]);
      return { ok: true, evicted: await insert(record, options) };
    },

    async listUser(userId: string, now: number): Promise<SessionRecord[]> {
      const { ids } = await readIndex(userId);
      return (await liveRecords(ids, now))
        .filter((r) => r.userId === userId)
        .sort(byRecentActivity);
    },

    async cleanup(now: number): Promise<number> {
      // Items past their grace are gone already; only the buckets in between can hold expired ids.
      const first = Math.floor((now - o.grace - o.bucketMs) / o.bucketMs);
      const last = Math.floor(now / o.bucketMs);
      const buckets = Array.from({ length: last - first + 1 }, (_, i) => first + i);
      const contents = await client.getMany(buckets.map(xKey));
      const ids = new Set<string>();
      for (const value of contents.values())
        for (const id of value.toString('latin1').split(',')) if (id) ids.add(id);
      let removed = 0;
      const byUser = new Map<string, string[]>();
      const values = await client.getMany([...ids].map(sKey));
      for (const id of ids) {
        const value = values.get(sKey(id));
        if (!value) continue;
        const stored = decode(id, value, '');
        if (stored.kind !== 'record' || isLive(stored.record, now)) continue;
        // Expired at `now`: no touch can bring it back, so a plain delete is safe.
        if (await client.delete(sKey(id))) {
          removed++;
          const userId = stored.record.userId;
          if (userId !== null) byUser.set(userId, [...(byUser.get(userId) ?? []), id]);
        }
      }
      for (const [userId, gone] of byUser) await unindex(userId, gone);
      // Buckets wholly in the past are done: a session touched since sits in a later bucket.
      for (const b of buckets)
        if ((b + 1) * o.bucketMs <= now && contents.has(xKey(b))) await client.delete(xKey(b));
      return removed;
    },

    async health(): Promise<HealthReport> {
      const results = await client.versions();
      const down = results.filter((r) => r.error !== undefined);
      const latency = Math.max(0, ...results.map((r) => r.ms ?? 0));
      return down.length === 0
        ? {
            ok: true,
            store: MEMCACHED_STORE_NAME,
            latencyMs: latency,
            detail: `${results.length} server(s)`,
          }
        : {
            ok: false,
            store: MEMCACHED_STORE_NAME,
            detail: `down: ${down.map((r) => `${r.address} (${r.error})`).join(', ')}`,
          };
    },

    async close(): Promise<void> {
      client.close();
    },
  };
}
