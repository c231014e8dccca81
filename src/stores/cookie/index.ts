/**
 * The encrypted cookie store (`tessera-session/cookie`): client-side sessions. The whole session record
 * lives in the client's cookies, sealed with AES-256-GCM (see ./seal.ts), split across numbered
 * cookies when it outgrows one, and refused with `CookieTooLargeError` past `maxChunks` instead of
 * being silently truncated. Anything that does not unseal whole (tampered, truncated, re-ordered,
 * expired, sealed with an unknown key) is "no session" with a logged reason, never an exception.
 *
 * Given to a manager as `sessionStore()`, it is driven by the HTTP adapters (./client-side.ts): each
 * request's session is the one its cookies carry, sealed again into the response's cookies when it
 * changes. A cookie store cannot list a user's sessions, nor kill one stolen cookie before it
 * expires; with `generations` (a per-user counter kept in a server-side store) "log out
 * everywhere" kills every cookie of a user at once. `seal` / `unseal` serve custom request handling;
 * `sessionStore(jar)` runs the same sealing behind the `SessionStore` contract over a cookie jar.
 */
import { ConfigError, DataTooLargeError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { expiresAt, expiryReason, isSessionRecord } from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import { isWellFormedToken, sessionIdFor } from '../../core/tokens.js';
import type {
  HealthReport,
  LookupResult,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
} from '../../core/types.js';
import { integerInRange } from '../options.js';
import { createClientSide, type ScopedOperations } from './client-side.js';
import type { GenerationStore } from './generations.js';
import { jarStore } from './jar-store.js';
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
  /**
   * The store to give a manager. Inside a request handled by the adapters (`tesseraSession`,
   * `handleFetch`) it acts on that request's cookies. Outside a request it acts on `jar` (a `Map` of
   * session id → that client's cookies, for tests and scripts) when given; without one, what needs a
   * browser's cookies throws `NotSupportedError`, and `destroyUser` bumps the user's generation.
   */
  sessionStore(jar?: CookieJar): SessionStore;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What a cookie seals: the record, the user's generation, and (through the HTTP layer) the token. */
export interface Payload {
  r: SessionRecord;
  g: string | null;
  /** The session's token, sealed by the HTTP layer so the manager can validate it. */
  t?: string;
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

  /** The sealed cookie values of a payload, chunk 0 first. Throws `CookieTooLargeError`. */
  function sealPayload(payload: Payload): string[] {
    const token = seal(JSON.stringify(payload), keys[0]!, cookieName);
    // The first cookie carries the chunk count: `<n>~<piece>`; every chunk is non-empty.
    let count = Math.max(1, Math.ceil(token.length / chunkSize));
    while (`${count}~${token}`.length > count * chunkSize) count++;
    if (count > maxChunks) throw new CookieTooLargeError(token.length, count, maxChunks, chunkSize);
    const body = `${count}~${token}`;
    return Array.from({ length: count }, (_, i) => body.slice(i * chunkSize, (i + 1) * chunkSize));
  }

  /** The user's current generation (`null` for an anonymous session or without generations). */
  async function generationOf(userId: string | null): Promise<string | null> {
    return userId !== null && generations ? await generations.current(userId) : null;
  }

  async function sealRecord(record: SessionRecord, _now: number): Promise<SealedCookies> {
    const values = sealPayload({ r: record, g: await generationOf(record.userId) });
    const set = values.map((value, i) => ({ name: chunkName(i), value }));
    return { set, clear: cookieNames.slice(values.length), expiresAt: expiresAt(record) };
  }

  /** Reads and authenticates the payload from the chunks (`read(i)`); never throws. */
  function readPayload(
    read: (index: number) => string | undefined,
  ): { payload: Payload } | { reason: CookieRejection } {
    let payload: Partial<Payload>;
    try {
      const head = read(0);
      if (head === undefined || head === '') return { reason: 'absent' };
      const match = /^([1-9][0-9]?)~/.exec(head);
      if (!match) return { reason: 'malformed' };
      const count = Number(match[1]);
      if (count > maxChunks) return { reason: 'too_many_chunks' };
      const pieces = [head];
      for (let i = 1; i < count; i++) {
        const piece = read(i);
        if (piece === undefined || piece === '') return { reason: 'missing_chunk' };
        pieces.push(piece);
      }
      const opened = unseal(pieces.join('').slice(match[0].length), keys, cookieName);
      if (!opened.ok) return { reason: opened.reason };
      payload = JSON.parse(opened.plaintext) as Partial<Payload>;
    } catch {
      return { reason: 'bad_payload' };
    }
    if (
      typeof payload !== 'object' ||
      payload === null ||
      !isSessionRecord(payload.r) ||
      !(payload.g === null || typeof payload.g === 'string') ||
      !(
        payload.t === undefined ||
        (isWellFormedToken(payload.t) && sessionIdFor(payload.t) === payload.r.id)
      )
    )
      return { reason: 'bad_payload' };
    return { payload: payload as Payload };
  }

  async function unsealCookies(source: CookieSource, now: number): Promise<LookupResult> {
    const read = typeof source === 'function' ? source : (name: string) => source[name];
    const notFound = { record: null, reason: 'not_found' } as const;
    const opened = readPayload((i) => read(chunkName(i)));
    if ('reason' in opened) return refuse(opened.reason, notFound);
    const { r: record, g } = opened.payload;
    const expired = expiryReason(record, now);
    if (expired) return refuse('expired', { record: null, reason: expired });
    // Outside the try: a generation store that is down is an outage, not "no session".
    if (record.userId !== null && generations) {
      if (g !== (await generations.current(record.userId)))
        return refuse('revoked', { record: null, reason: 'terminated' });
    }
    return { record, touched: false };
  }

  const client = createClientSide({
    storeName: COOKIE_STORE_NAME,
    maxChunks,
    generations,
    readPayload,
    sealPayload,
    refused: (reason) => refuse(reason, { record: null, reason: 'not_found' }),
  });

  /**
   * The store a manager uses. Inside a request handled by the HTTP layer every operation acts on
   * that request's cookies; outside one, on `jar` when given (tests, scripts), else an operation
   * that needs a browser's cookies throws `NotSupportedError`.
   */
  function sessionStoreOf(jar: CookieJar | undefined): SessionStore {
    const local = jar ? jarStore(jar, sealRecord, unsealCookies, capabilities) : undefined;
    const here = (operation: string): ScopedOperations => {
      const scoped = client.current() ?? local;
      if (!scoped) throw client.outsideRequest(operation);
      return scoped;
    };
    return {
      name: COOKIE_STORE_NAME,
      capabilities,
      clientSide: client.clientSide,
      create: async (record, options) => here('create').create(record, options),
      get: async (id, now, touch) => here('reading a session').get(id, now, touch),
      patch: async (id, patch, now) => here('update').patch(id, patch, now),
      async destroy(id, reason, now) {
        const scoped = client.current() ?? local;
        if (!scoped) throw client.cannotEndOther();
        return scoped.destroy(id, reason, now);
      },
      regenerate: async (oldId, record, options) =>
        here('regenerate').regenerate(oldId, record, options),
      async destroyUser(userId, options) {
        const scoped = client.current() ?? local;
        if (scoped) return scoped.destroyUser(userId, options);
        await client.revokeUser(userId);
        return [];
      },
      async listUser(userId, now) {
        if (!local || client.current()) throw client.cannotList();
        return local.listUser(userId, now);
      },
      async cleanup(now) {
        return local && !client.current() ? local.cleanup(now) : 0;
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
    sessionStore(jar?: CookieJar) {
      return sessionStoreOf(jar);
    },
  };
}
