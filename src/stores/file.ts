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
import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, opendir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, StoreError, StoreUnavailableError, shownValue } from '../core/errors.js';
import { describeError, type Logger, silentLogger } from '../core/logger.js';
import { isSessionId } from '../core/tokens.js';
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
} from '../core/types.js';
import {
  byRecentActivity,
  expiryReason,
  isLive,
  parseRecord,
  patched,
  tallyStats,
  touchDue,
  touched,
} from './record.js';

export const FILE_STORE_NAME = 'file';

export interface FileStoreOptions {
  /** The folder that holds the sessions. It must exist and be writable; it is never created. */
  path: string;
  /** How long an operation waits for a lock held by another call before `StoreUnavailableError`. @default 5000 ms */
  lockTimeout?: number;
  /** A lock file older than this was left by a crashed process and is taken over. @default 10_000 ms */
  staleLockAfter?: number;
  /** Files read per step of `cleanup`, `list` and `stats`. @default 500 */
  batchSize?: number;
  /** Where corrupted files and lock take-overs are reported. @default silent */
  logger?: Logger;
}

interface UserIndex {
  userId: string;
  ids: string[];
}

const SESSION_FILE = /^([0-9a-f]{64})\.json$/;

function positive(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(field, `must be a positive number, got ${shownValue(value)}`);
  return value;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A file-system failure as a typed error naming the path (and what is wrong with it). */
export function fileError(err: unknown, path: string): Error {
  if (err instanceof StoreUnavailableError || err instanceof StoreError) return err;
  const code = codeOf(err);
  const detail =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'the folder does not exist'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'the folder is not writable'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'the disk is full'
          : code === 'EMFILE' || code === 'ENFILE' || code === 'EIO'
            ? `the file system failed (${code})`
            : null;
  if (detail)
    return new StoreUnavailableError(FILE_STORE_NAME, path, `${detail} (${code})`, { cause: err });
  return new StoreError(FILE_STORE_NAME, `file operation failed at ${path}`, { cause: err });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createFileStore(options: FileStoreOptions): SessionStore {
  if (typeof options?.path !== 'string' || options.path === '')
    throw new ConfigError('file.path', 'is required (the folder that holds the sessions)');
  const root = resolve(options.path);
  const lockTimeout = positive('file.lockTimeout', options.lockTimeout ?? 5000);
  const staleAfter = positive('file.staleLockAfter', options.staleLockAfter ?? 10_000);
  const batchSize = positive('file.batchSize', options.batchSize ?? 500);
  const logger = options.logger ?? silentLogger;
  const dirs = {
    sessions: join(root, 'sessions'),
    users: join(root, 'users'),
    locks: join(root, 'locks'),
    tmp: join(root, 'tmp'),
  };
  let closed = false;
  let ready: Promise<void> | null = null;

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: false,
    atomicLimit: true,
    revocation: true,
  };

  const sessionPath = (id: string) => join(dirs.sessions, `${id}.json`);
  const userHash = (userId: string) => createHash('sha256').update(userId, 'utf8').digest('hex');
  const userPath = (userId: string) => join(dirs.users, `${userHash(userId)}.json`);

  /** Checks the folder once (exists, is a folder, is writable) and creates its sub-folders. */
  function init(): Promise<void> {
    if (closed) return Promise.reject(new StoreUnavailableError(FILE_STORE_NAME, root, 'closed'));
    ready ??= (async () => {
      try {
        const info = await stat(root);
        if (!info.isDirectory())
          throw new StoreUnavailableError(FILE_STORE_NAME, root, 'the path is not a folder');
        for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
        const probe = join(dirs.tmp, `probe-${randomBytes(6).toString('hex')}`);
        await writeFile(probe, '');
        await unlink(probe);
      } catch (err) {
        throw fileError(err, root);
      }
    })();
    // A failed check is retried by the next call (the folder may have been fixed meanwhile).
    ready.catch(() => {
      ready = null;
    });
    return ready;
  }

  /** Writes `text` to `path` whole or not at all: a temporary file in the same folder tree, then rename. */
  async function writeAtomic(path: string, text: string): Promise<void> {
    const tmp = join(dirs.tmp, `${randomBytes(8).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, text);
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw fileError(err, path);
    }
  }

  async function lock(name: string): Promise<() => Promise<void>> {
    const path = join(dirs.locks, `${name}.lock`);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.close();
        return () => unlink(path).catch(() => {});
      } catch (err) {
        if (codeOf(err) !== 'EEXIST') throw fileError(err, path);
      }
      const info = await stat(path).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleAfter) {
        // Renaming first means only one process takes the stale lock over; the others retry.
        const aside = join(dirs.tmp, `${name}.${randomBytes(4).toString('hex')}.stale`);
        if (
          await rename(path, aside).then(
            () => true,
            () => false,
          )
        ) {
          await unlink(aside).catch(() => {});
          logger.warn({ store: FILE_STORE_NAME, lock: name }, 'stale lock taken over');
        }
        continue;
      }
      if (Date.now() - started > lockTimeout)
        throw new StoreUnavailableError(
          FILE_STORE_NAME,
          path,
          `lock still held after ${lockTimeout} ms`,
        );
      await sleep(1 + Math.random() * Math.min(2 + attempt, 20));
    }
  }

  async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const release = await lock(name);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  async function readText(path: string): Promise<string | null> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return null;
      throw fileError(err, path);
    }
  }

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

  async function removeFile(path: string): Promise<boolean> {
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return false;
      throw fileError(err, path);
    }
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

  const userLock = (userId: string) => `u-${userHash(userId)}`;
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

  /** Deletes a session's file under its lock; returns the record it held. */
  async function terminate(id: string): Promise<SessionRecord | null> {
    return withLock(sessionLock(id), async () => {
      const record = await readSession(id);
      await removeFile(sessionPath(id));
      return record;
    });
  }

  async function insert(record: SessionRecord, options: CreateOptions): Promise<string[]> {
    if (!isSessionId(record.id))
      throw new StoreError(FILE_STORE_NAME, 'a session id must be 64 lowercase hex characters');
    await writeAtomic(sessionPath(record.id), JSON.stringify(record));
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
    await Promise.all(victims.map(terminate));
    return victims;
  }

  /** Every session file, read `batchSize` names at a time. */
  async function* walk(): AsyncGenerator<string[]> {
    let dir: Awaited<ReturnType<typeof opendir>>;
    try {
      dir = await opendir(dirs.sessions, { bufferSize: Math.min(batchSize, 1024) });
    } catch (err) {
      throw fileError(err, dirs.sessions);
    }
    let batch: string[] = [];
    for await (const entry of dir as AsyncIterable<Dirent>) {
      const match = SESSION_FILE.exec(entry.name);
      if (!match) continue;
      batch.push(match[1]!);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async function liveAll(now: number): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for await (const ids of walk())
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
        const next = patched(current, patch);
        await writeAtomic(sessionPath(id), JSON.stringify(next));
        return next;
      });
    },

    async destroy(id: string, _reason: TerminationReason, now: number) {
      await init();
      if (!isSessionId(id)) return false;
      const old = await terminate(id);
      if (old?.userId != null) await unindex(old.userId, [id]);
      return old !== null && isLive(old, now);
    },

    async destroyUser(userId, { exceptId, now }) {
      await init();
      const targets = (await readIndex(userId)).filter((id) => id !== exceptId);
      const ended: string[] = [];
      for (const id of targets) {
        const old = await terminate(id);
        if (old && old.userId === userId && isLive(old, now)) ended.push(id);
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
      return tallyStats(await liveAll(now));
    },

    async cleanup(now: number) {
      await init();
      let removed = 0;
      for await (const ids of walk()) {
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
        await stat(dirs.sessions);
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
      closed = true;
    },
  };
}
