/**
 * The cookie store behind the `SessionStore` contract over a cookie jar: a `Map` of session id →
 * that client's cookies, sealed and unsealed exactly as browsers would carry them. For the
 * contract suite, tests and scripts; the adapters drive the store through ./client-side.ts.
 */
import { byRecentActivity, isLive, patched, touchDue, touched } from '../../core/record.js';
import type {
  CreateOptions,
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
import type { CookieJar, SealedCookies } from './index.js';

const COOKIE_STORE_NAME = 'cookie';

export function jarStore(
  jar: CookieJar,
  sealRecord: (record: SessionRecord, now: number) => Promise<SealedCookies>,
  unsealCookies: (cookies: Record<string, string>, now: number) => Promise<LookupResult>,
  capabilities: StoreCapabilities,
): SessionStore {
  // Writes to one id run one after another, as one browser's requests would be applied.
  const queues = new Map<string, Promise<unknown>>();
  function serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    queues.set(id, tail);
    void tail.then(() => {
      if (queues.get(id) === tail) queues.delete(id);
    });
    return run;
  }
  async function lookup(id: string, now: number): Promise<LookupResult> {
    const cookies = jar.get(id);
    if (!cookies) return { record: null, reason: 'not_found' };
    const found = await unsealCookies(cookies, now);
    if (found.record && found.record.id !== id) return { record: null, reason: 'not_found' };
    return found;
  }
  async function write(record: SessionRecord, now: number): Promise<void> {
    const sealed = await sealRecord(record, now);
    jar.set(id(record), Object.fromEntries(sealed.set.map((c) => [c.name, c.value])));
  }
  const id = (r: SessionRecord) => r.id;
  async function ofUser(userId: string, now: number): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for (const key of [...jar.keys()]) {
      const found = await lookup(key, now);
      if (found.record?.userId === userId) out.push(found.record);
    }
    return out.sort(byRecentActivity);
  }
  return {
    name: COOKIE_STORE_NAME,
    capabilities,
    async create(record: SessionRecord, options: CreateOptions) {
      await serial(record.id, () => write(record, options.now));
      return { evicted: [] };
    },
    get(sid: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      return serial(sid, async () => {
        const found = await lookup(sid, now);
        if (!found.record || !touch || !touchDue(found.record, touch, now)) return found;
        const next = touched(found.record, touch, now);
        await write(next, now);
        return { record: next, touched: true };
      });
    },
    patch(sid: string, patch: SessionPatch, now: number) {
      return serial(sid, async () => {
        const found = await lookup(sid, now);
        if (!found.record) return null;
        const next = patched(found.record, patch);
        await write(next, now);
        return next;
      });
    },
    destroy(sid: string, _reason: TerminationReason, now: number) {
      return serial(sid, async () => {
        const found = await lookup(sid, now);
        jar.delete(sid);
        return found.record ? { userId: found.record.userId } : null;
      });
    },
    async destroyUser(userId, { exceptId, now }) {
      const ended: string[] = [];
      for (const r of await ofUser(userId, now)) {
        if (r.id === exceptId) continue;
        jar.delete(r.id);
        ended.push(r.id);
      }
      return ended;
    },
    regenerate(oldId: string, record: SessionRecord, options: CreateOptions) {
      return serial(oldId, async (): Promise<RegenerateResult> => {
        const found = await lookup(oldId, options.now);
        if (!found.record) return { ok: false, evicted: [] };
        jar.delete(oldId);
        await serial(record.id, () => write(record, options.now));
        return { ok: true, evicted: [] };
      });
    },
    listUser: ofUser,
    async cleanup(now: number) {
      let removed = 0;
      for (const key of [...jar.keys()]) {
        const found = await lookup(key, now);
        if (found.record === null) {
          jar.delete(key);
          if (found.reason === 'expired_idle' || found.reason === 'expired_absolute') removed++;
        } else if (!isLive(found.record, now)) jar.delete(key);
      }
      return removed;
    },
    async health(): Promise<HealthReport> {
      return { ok: true, store: COOKIE_STORE_NAME, latencyMs: 0, detail: 'client-side cookies' };
    },
    async close() {},
  };
}
