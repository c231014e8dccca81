/**
 * The encrypted cookie store (`tessera-session/cookie`): client-side sessions. The whole session record
 * lives in the client's cookies, sealed with AES-256-GCM (see ./seal.ts), split across numbered
 * cookies when it outgrows one, and refused with `CookieTooLargeError` past `maxChunks` instead of
 * being silently truncated. Anything that does not unseal whole (tampered, truncated, re-ordered,
 * expired, sealed with an unknown key) is "no session" with a logged reason, never an exception.
 *
 * The HTTP layer calls `seal` when a response ends and `unseal` on each request. A cookie store
 * cannot list a user's sessions, nor kill one stolen cookie before it expires; with `generations`
 * (a per-user counter kept in any other store) `revokeUser` kills every cookie of a user at once.
 * `sessionStore(jar)` offers the same sealing behind the `SessionStore` contract over a cookie jar.
 */
import { ConfigError, DataTooLargeError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import {
  byRecentActivity,
  expiresAt,
  expiryReason,
  isLive,
  isSessionRecord,
  patched,
  touchDue,
  touched,
} from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
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
import { integerInRange } from '../options.js';
import type { GenerationStore } from './generations.js';
import { type CookieSecret, type SealingKey, seal, sealingKeys, unseal } from './seal.js';

export {
  GENERATION_DEFAULTS,
  type GenerationStore,
  generationsFromRateLimitStore,
  type RateLimitGenerationOptions,
} from './generations.js';
export { type CookieSecret, MIN_SECRET_BYTES, SEAL_VERSION } from './seal.js';

export const COOKIE_STORE_NAME = 'cookie';

/** The cookie store's defaults: each option's `@default` names its entry here. */
export const COOKIE_DEFAULTS = {
  cookieName: 'tessera',
  chunkSize: 3800,
  maxChunks: 4,
} as const;

/** A sealed session ready for `Set-Cookie`: the cookies to set and the stale chunk names to clear. */
export interface SealedCookies {
  /** Set these (in order: the first is the base name, then `<name>.1`, `<name>.2`, …). */
  set: { name: string; value: string }[];
  /** Clear these (chunks a previous, larger session used). */
  clear: string[];
  /** When the session ends (epoch ms): use it for the cookies' `Expires`. */
  expiresAt: number;
}

/** The request's cookies: an object of name → value, or a lookup function. */
export type CookieSource =
  | Record<string, string | undefined>
  | ((name: string) => string | undefined);

/** Why `unseal` found no session (logged; the lookup result says `not_found`, `expired_*` or `terminated`). */
export type CookieRejection =
  | 'absent'
  | 'malformed'
  | 'missing_chunk'
  | 'too_many_chunks'
  | 'unknown_version'
  | 'unknown_key'
  | 'tampered'
  | 'bad_payload'
  | 'expired'
  | 'revoked';

/** The sealed session needs more cookies than `maxChunks` allows. */
export class CookieTooLargeError extends DataTooLargeError {
  readonly chunks: number;
  readonly maxChunks: number;
  constructor(bytes: number, chunks: number, maxChunks: number, chunkSize: number) {
    super(bytes, maxChunks * chunkSize);
    this.chunks = chunks;
    this.maxChunks = maxChunks;
    this.message = `[tessera] [cookie] the sealed session is ${bytes} bytes and needs ${chunks} cookies of ${chunkSize} bytes, over maxChunks (${maxChunks}); keep less in session data or use a server-side store`;
  }
}

export interface CookieStoreOptions {
  /** Sealing secrets, each at least 32 bytes: the first seals, all unseal (rotation: prepend the new one). */
  secrets: readonly (string | Uint8Array | CookieSecret)[];
  /** Name of the first cookie; chunks are `<name>.1`, `<name>.2`, …. @default COOKIE_DEFAULTS.cookieName */
  cookieName?: string;
  /** Characters of sealed value per cookie (browsers keep about 4096 bytes per cookie, name and attributes included). @default COOKIE_DEFAULTS.chunkSize */
  chunkSize?: number;
  /** Most cookies one session may use; sealing a larger session throws `CookieTooLargeError`. @default COOKIE_DEFAULTS.maxChunks */
  maxChunks?: number;
  /** Server-side per-user generations that make `revokeUser` possible. @default none (no revocation) */
  generations?: GenerationStore;
  /** Where refused cookies are reported (with the reason, never the cookie). @default silent */
  logger?: Logger;
}

/** The cookie store's option keys. */
export const COOKIE_KNOWN_KEYS = {
  secrets: true,
  cookieName: true,
  chunkSize: true,
  maxChunks: true,
  generations: true,
  logger: true,
} as const satisfies KnownKeys<CookieStoreOptions>;

/** Cookies as a browser keeps them, one set per session id: what `sessionStore` reads and writes. */
export type CookieJar = Map<string, Record<string, string>>;

export interface CookieStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /** Every cookie name this store may set (the base name and its chunks), e.g. to clear them on logout. */
  readonly cookieNames: readonly string[];
  /** Seals a record into cookie values. Throws `CookieTooLargeError` past `maxChunks`. */
  seal(record: SessionRecord, now: number): Promise<SealedCookies>;
  /** Reads the session from the request's cookies; a miss for anything that does not unseal whole. */
  unseal(cookies: CookieSource, now: number): Promise<LookupResult>;
  /** Kills every cookie of `userId` sealed so far (needs `generations`, else `ConfigError`). */
  revokeUser(userId: string): Promise<void>;
  /** The `SessionStore` contract over a cookie jar (a `Map` of session id → that client's cookies). */
  sessionStore(jar?: CookieJar): SessionStore;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface Payload {
  r: SessionRecord;
  g: string | null;
}

export function createCookieStore(options: CookieStoreOptions): CookieStore {
  rejectUnknownKeys('createCookieStore()', options, COOKIE_KNOWN_KEYS);
  const keys: SealingKey[] = sealingKeys(options?.secrets);
  const cookieName = options.cookieName ?? COOKIE_DEFAULTS.cookieName;
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName))
    throw new ConfigError(
      'cookie.cookieName',
      'must be a cookie token (no spaces, = ; , or quotes)',
    );
  const chunkSize = integerInRange(
    'cookie.chunkSize',
    options.chunkSize ?? COOKIE_DEFAULTS.chunkSize,
    100,
    4000,
  );
  const maxChunks = integerInRange(
    'cookie.maxChunks',
    options.maxChunks ?? COOKIE_DEFAULTS.maxChunks,
    1,
    50,
  );
  const generations = options.generations;
  const logger = options.logger ?? silentLogger;
  const chunkName = (i: number) => (i === 0 ? cookieName : `${cookieName}.${i}`);
  const cookieNames = Array.from({ length: maxChunks }, (_, i) => chunkName(i));

  const capabilities: StoreCapabilities = {
    listUser: false,
    listAll: false,
    stats: false,
    audit: false,
    atomicLimit: false,
    revocation: false,
  };

  function refuse(reason: CookieRejection, result: LookupResult & { record: null }): LookupResult {
    if (reason !== 'absent')
      logger.info({ store: COOKIE_STORE_NAME, reason }, 'session cookie refused');
    return result;
  }

  async function sealRecord(record: SessionRecord, _now: number): Promise<SealedCookies> {
    const g =
      record.userId !== null && generations ? await generations.current(record.userId) : null;
    const token = seal(JSON.stringify({ r: record, g } satisfies Payload), keys[0]!, cookieName);
    // The first cookie carries the chunk count: `<n>~<piece>`; every chunk is non-empty.
    let count = Math.max(1, Math.ceil(token.length / chunkSize));
    while (`${count}~${token}`.length > count * chunkSize) count++;
    if (count > maxChunks) throw new CookieTooLargeError(token.length, count, maxChunks, chunkSize);
    const body = `${count}~${token}`;
    const set = Array.from({ length: count }, (_, i) => ({
      name: chunkName(i),
      value: body.slice(i * chunkSize, (i + 1) * chunkSize),
    }));
    return { set, clear: cookieNames.slice(count), expiresAt: expiresAt(record) };
  }

  async function unsealCookies(source: CookieSource, now: number): Promise<LookupResult> {
    const read = typeof source === 'function' ? source : (name: string) => source[name];
    const notFound = { record: null, reason: 'not_found' } as const;
    let payload: Partial<Payload>;
    try {
      const head = read(cookieName);
      if (head === undefined || head === '') return refuse('absent', notFound);
      const match = /^([1-9][0-9]?)~/.exec(head);
      if (!match) return refuse('malformed', notFound);
      const count = Number(match[1]);
      if (count > maxChunks) return refuse('too_many_chunks', notFound);
      const pieces = [head];
      for (let i = 1; i < count; i++) {
        const piece = read(chunkName(i));
        if (piece === undefined || piece === '') return refuse('missing_chunk', notFound);
        pieces.push(piece);
      }
      const opened = unseal(pieces.join('').slice(match[0].length), keys, cookieName);
      if (!opened.ok) return refuse(opened.reason, notFound);
      payload = JSON.parse(opened.plaintext) as Partial<Payload>;
    } catch {
      return refuse('bad_payload', notFound);
    }
    if (
      typeof payload !== 'object' ||
      payload === null ||
      !isSessionRecord(payload.r) ||
      !(payload.g === null || typeof payload.g === 'string')
    )
      return refuse('bad_payload', notFound);
    const record = payload.r;
    const expired = expiryReason(record, now);
    if (expired) return refuse('expired', { record: null, reason: expired });
    // Outside the try: a generation store that is down is an outage, not "no session".
    if (record.userId !== null && generations) {
      if (payload.g !== (await generations.current(record.userId)))
        return refuse('revoked', { record: null, reason: 'terminated' });
    }
    return { record, touched: false };
  }

  function view(jar: CookieJar): SessionStore {
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

  return {
    name: COOKIE_STORE_NAME,
    capabilities,
    cookieNames,
    seal: sealRecord,
    unseal: unsealCookies,
    async revokeUser(userId: string) {
      if (!generations)
        throw new ConfigError(
          'cookie.generations',
          'is needed to revoke cookies (a per-user generation kept in another store)',
        );
      await generations.bump(userId);
    },
    sessionStore(jar: CookieJar = new Map()) {
      return view(jar);
    },
  };
}
