/**
 * The file store (`tessera-session/file`): one JSON file per session in a folder, named by the session id
 * (64 hex characters, checked: never a path built from input), written atomically (a temporary
 * file, then rename), and a per-user index file so listing a user reads only that user's sessions.
 *
 * Several Node processes may share the folder: every read-modify-write holds a lock file created
 * with O_EXCL (`open(…, 'wx')`), one per session and one per user index, and a lock left behind by
 * a crashed process is taken over once it is older than `staleLockAfter`. Plain reads take no lock
 * (rename makes every file whole). Cleanup walks the folder in batches, so its cost follows the
 * number of files, not only the expired ones; `list` and `stats` read every file too. It suits a
 * single machine with modest traffic (development, small deployments, tests).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ageStats } from '../../core/analytics.js';
import { ConfigError, StoreError } from '../../core/errors.js';
import { describeError, type Logger, silentLogger } from '../../core/logger.js';
import {
  byRecentActivity,
  expiryReason,
  isLive,
  parseRecord,
  patched,
  tallyStats,
  touchDue,
  touched,
} from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import { isSessionId } from '../../core/tokens.js';
import type {
  CreateOptions,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  RegenerateResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { durationOption, positiveInteger } from '../options.js';
import { FILE_STORE_NAME, fileError } from './errors.js';
import { sessionFolder } from './folder.js';
import { fileLocks } from './locks.js';

/** The file store's defaults: each option's `@default` names its entry here. */
export const FILE_DEFAULTS = {
  lockTimeout: 5000,
  staleLockAfter: 10_000,
  batchSize: 500,
} as const;

export interface FileStoreOptions {
  /** The folder that holds the sessions. It must exist and be writable; it is never created. */
  path: string;
  /** How long an operation waits for a lock held by another call before `StoreUnavailableError`. @default FILE_DEFAULTS.lockTimeout */
  lockTimeout?: number | string;
  /** A lock file older than this was left by a crashed process and is taken over. @default FILE_DEFAULTS.staleLockAfter */
  staleLockAfter?: number | string;
  /** Files read per step of `cleanup`, `list` and `stats`. @default FILE_DEFAULTS.batchSize */
  batchSize?: number;
  /** Where corrupted files and lock take-overs are reported. @default silent */
  logger?: Logger;
}

/** The file store's option keys. */
export const FILE_KNOWN_KEYS = {
  path: true,
  lockTimeout: true,
  staleLockAfter: true,
  batchSize: true,
  logger: true,
} as const satisfies KnownKeys<FileStoreOptions>;

interface UserIndex {
  userId: string;
  ids: string[];
}

export function createFileStore(options: FileStoreOptions): SessionStore {
  rejectUnknownKeys('createFileStore()', options, FILE_KNOWN_KEYS);
  if (typeof options?.path !== 'string' || options.path === '')
    throw new ConfigError('file.path', 'is required (the folder that holds the sessions)');
  const root = resolve(options.path);
  const lockTimeout = durationOption(
    'file.lockTimeout',
    options.lockTimeout ?? FILE_DEFAULTS.lockTimeout,
  );
  const staleAfter = durationOption(
    'file.staleLockAfter',
    options.staleLockAfter ?? FILE_DEFAULTS.staleLockAfter,
  );
  const batchSize = positiveInteger('file.batchSize', options.batchSize ?? FILE_DEFAULTS.batchSize);
  const logger = options.logger ?? silentLogger;
  const folder = sessionFolder(root);
  const { sessionPath, userPath, writeAtomic, readText, removeFile } = folder;
  const withLock = fileLocks({
    dir: folder.dirs.locks,
    tmp: folder.dirs.tmp,
    lockTimeout,
    staleAfter,
    logger,
  });
  const init = () => folder.init();

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  async function readSession(id: string): Promise<SessionRecord | null> {
    const text = await readText(sessionPath(id));
    if (text === null) return null;
    const record = parseRecord(text);
    if (!record || record.id !== id) {
      logger.warn({ store: FILE_STORE_NAME, sessionId: id }, 'corrupted session file ignored');
      return null;
    }
    return record;
  }

  async function readIndex(userId: string): Promise<string[]> {
    const text = await readText(userPath(userId));
    if (text === null) return [];
    try {
      const index = JSON.parse(text) as UserIndex;
      if (index.userId === userId && Array.isArray(index.ids)) return index.ids;
    } catch {}
    logger.warn({ store: FILE_STORE_NAME }, 'corrupted user index rebuilt');
    return [];
  }

  async function writeIndex(userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) await removeFile(userPath(userId));
    else await writeAtomic(userPath(userId), JSON.stringify({ userId, ids } satisfies UserIndex));
  }

  async function liveOf(ids: string[], userId: string, now: number): Promise<SessionRecord[]> {
    const records = await Promise.all(ids.map(readSession));
    return records.filter(
      (r): r is SessionRecord => r !== null && r.userId === userId && isLive(r, now),
    );
  }

  const userLock = (userId: string) => `u-${folder.userHash(userId)}`;
  const sessionLock = (id: string) => `s-${id}`;

  async function unindex(userId: string, gone: string[]): Promise<void> {
    const drop = new Set(gone);
    await withLock(userLock(userId), async () => {
      const ids = await readIndex(userId);
      if (ids.some((id) => drop.has(id)))
        await writeIndex(
          userId,
          ids.filter((id) => !drop.has(id)),
        );
    });
  }

  /** Adds an id to a user's index. */
  async function indexUnder(userId: string, id: string): Promise<void> {
    await withLock(userLock(userId), async () => {
      const ids = await readIndex(userId);
      if (!ids.includes(id)) await writeIndex(userId, [...ids, id]);
    });
  }

  /**
   * Deletes a session's file under its lock; returns the record it held. With `owner`, a session
   * that belongs to someone else now (moved by a patch or a re-create) is left alone.
   */
  async function terminate(id: string, owner?: string): Promise<SessionRecord | null> {
    return withLock(sessionLock(id), async () => {
      const record = await readSession(id);
      if (owner !== undefined && record?.userId !== owner) return null;
      await removeFile(sessionPath(id));
      return record;
    });
  }

  /** Creates `record`, replacing whatever its id held (see `SessionStore.create`). */
  async function insert(record: SessionRecord, options: CreateOptions): Promise<string[]> {
    if (!isSessionId(record.id))
      throw new StoreError(FILE_STORE_NAME, 'a session id must be 64 lowercase hex characters');
    // Under the session's lock, so a patch or touch in flight cannot write the old record back.
    await withLock(sessionLock(record.id), () =>
      writeAtomic(sessionPath(record.id), JSON.stringify(record)),
    );
    const userId = record.userId;
    if (userId === null) return [];
    const limit = options.maxSessionsPerUser;
    const victims = await withLock(userLock(userId), async () => {
      const ids = (await readIndex(userId)).filter((id) => id !== record.id);
      const others = (await liveOf(ids, userId, options.now)).sort(byRecentActivity);
      const cut = limit === null ? others.length : Math.max(0, limit - 1);
      await writeIndex(userId, [...others.slice(0, cut).map((r) => r.id), record.id]);
      return others.slice(cut).map((r) => r.id);
    });
    await Promise.all(victims.map((id) => terminate(id, userId)));
    return victims;
  }

  async function liveAll(now: number): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for await (const ids of folder.walk(batchSize))
      for (const r of await Promise.all(ids.map(readSession))) if (r && isLive(r, now)) out.push(r);
    return out;
  }

  return {
    name: FILE_STORE_NAME,
    capabilities,

    async create(record, options) {
      await init();
      return { evicted: await insert(record, options) };
    },

    async get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      await init();
      if (!isSessionId(id)) return { record: null, reason: 'not_found' };
      const record = await readSession(id);
      if (!record) return { record: null, reason: 'not_found' };
      const expired = expiryReason(record, now);
      if (expired) return { record: null, reason: expired };
      if (!touch || !touchDue(record, touch, now)) return { record, touched: false };
      return withLock(sessionLock(id), async (): Promise<LookupResult> => {
        // Re-read under the lock: a destroy or patch may have landed since.
        const current = await readSession(id);
        if (!current) return { record: null, reason: 'not_found' };
        const reason = expiryReason(current, now);
        if (reason) return { record: null, reason };
        if (!touchDue(current, touch, now)) return { record: current, touched: false };
        const next = touched(current, touch, now);
        await writeAtomic(sessionPath(id), JSON.stringify(next));
        return { record: next, touched: true };
      });
    },

    async patch(id: string, patch: SessionPatch, now: number) {
      await init();
      if (!isSessionId(id)) return null;
      return withLock(sessionLock(id), async () => {
        const current = await readSession(id);
        if (!current || !isLive(current, now)) return null;
        const next = patched(current, patch); // DataTooLargeError past maxDataBytes
        const moved = next.userId !== current.userId;
        // Under the session's lock the owner is this file's: index the new owner first (an index
        // entry whose file names someone else is ignored), write, then leave the old index.
        if (moved && next.userId !== null) await indexUnder(next.userId, id);
        await writeAtomic(sessionPath(id), JSON.stringify(next));
        if (moved && current.userId !== null) await unindex(current.userId, [id]);
        return next;
      });
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      await init();
      if (!isSessionId(id)) return null;
      const old = await terminate(id);
      if (old?.userId != null) await unindex(old.userId, [id]);
      return old !== null && isLive(old, now) ? { userId: old.userId } : null;
    },

    async destroyUser(userId, { exceptId, now }) {
      await init();
      const targets = (await readIndex(userId)).filter((id) => id !== exceptId);
      const ended: string[] = [];
      for (const id of targets) {
        const old = await terminate(id, userId);
        if (old && isLive(old, now)) ended.push(id);
      }
      if (targets.length > 0) await unindex(userId, targets);
      return ended;
    },

    async regenerate(oldId, record, options): Promise<RegenerateResult> {
      await init();
      if (!isSessionId(oldId)) return { ok: false, evicted: [] };
      // Deleting the old file under its lock is the claim: of two regenerates only one finds it.
      const old = await terminate(oldId);
      if (!old || !isLive(old, options.now)) return { ok: false, evicted: [] };
      if (old.userId !== null && old.userId !== record.userId) await unindex(old.userId, [oldId]);
      return { ok: true, evicted: await insert(record, options) };
    },

    async listUser(userId: string, now: number) {
      await init();
      return (await liveOf(await readIndex(userId), userId, now)).sort(byRecentActivity);
    },

    async list(query: ListQuery, now: number): Promise<ListResult> {
      await init();
      const all =
        query.userId !== undefined
          ? await liveOf(await readIndex(query.userId), query.userId, now)
          : await liveAll(now);
      all.sort(byRecentActivity);
      const offset = query.offset ?? 0;
      return { sessions: all.slice(offset, offset + query.limit), total: all.length };
    },

    async stats(now: number): Promise<StoreStats> {
      await init();
      const live = await liveAll(now);
      // No login counter: nothing in a folder of session files outlives a logout to count it.
      return { ...tallyStats(live), sessionAge: ageStats(live.map((r) => now - r.createdAt)) };
    },

    async cleanup(now: number) {
      await init();
      let removed = 0;
      for await (const ids of folder.walk(batchSize)) {
        const byUser = new Map<string, string[]>();
        for (const id of ids) {
          const record = await readSession(id);
          if (!record || isLive(record, now)) continue;
          const gone = await withLock(sessionLock(id), async () => {
            const current = await readSession(id);
            return current !== null && !isLive(current, now) && removeFile(sessionPath(id));
          });
          if (!gone) continue;
          removed++;
          if (record.userId !== null)
            byUser.set(record.userId, [...(byUser.get(record.userId) ?? []), id]);
        }
        for (const [userId, gone] of byUser) await unindex(userId, gone);
      }
      return removed;
    },

    async health(): Promise<HealthReport> {
      const started = performance.now();
      try {
        await init();
        await stat(folder.dirs.sessions);
        return {
          ok: true,
          store: FILE_STORE_NAME,
          latencyMs: performance.now() - started,
          detail: root,
        };
      } catch (err) {
        return {
          ok: false,
          store: FILE_STORE_NAME,
          detail: fileError(err, root).message ?? String(describeError(err).message),
        };
      }
    },

    async close() {
      folder.close();
    },
  };
}
