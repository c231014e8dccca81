/**
 * The file store's folder: its layout (`sessions/<id>.json`, `users/<sha256 of user id>.json`,
 * `locks/`, `tmp/`), the one-time check that it exists and is writable, and the file operations
 * every step uses: whole-or-nothing writes (a temporary file, then rename), reads that say "absent"
 * instead of failing, and a walk over the session files in batches.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, opendir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../core/errors.js';
import { codeOf, FILE_STORE_NAME, fileError } from './errors.js';

const SESSION_FILE = /^([0-9a-f]{64})\.json$/;

export interface SessionFolder {
  readonly root: string;
  readonly dirs: { sessions: string; users: string; locks: string; tmp: string };
  sessionPath(id: string): string;
  /** A user's index file, named by a hash so any user id makes a safe file name. */
  userPath(userId: string): string;
  /** The hash that names a user's files. */
  userHash(userId: string): string;
  /** Checks the folder once (exists, is a folder, is writable) and creates its sub-folders. */
  init(): Promise<void>;
  /** Refuses every later `init()`: the store is closed. */
  close(): void;
  /** Writes `text` to `path` whole or not at all: a temporary file in the same folder tree, then rename. */
  writeAtomic(path: string, text: string): Promise<void>;
  /** The file's text, or `null` when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Deletes the file; `false` when it did not exist. */
  removeFile(path: string): Promise<boolean>;
  /** Every session id with a file, `batchSize` at a time. */
  walk(batchSize: number): AsyncGenerator<string[]>;
}

export function sessionFolder(root: string): SessionFolder {
  const dirs = {
    sessions: join(root, 'sessions'),
    users: join(root, 'users'),
    locks: join(root, 'locks'),
    tmp: join(root, 'tmp'),
  };
  let closed = false;
  let ready: Promise<void> | null = null;
  const userHash = (userId: string) => createHash('sha256').update(userId, 'utf8').digest('hex');

  return {
    root,
    dirs,
    sessionPath: (id) => join(dirs.sessions, `${id}.json`),
    userPath: (userId) => join(dirs.users, `${userHash(userId)}.json`),
    userHash,

    init() {
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
    },

    close() {
      closed = true;
    },

    async writeAtomic(path, text) {
      const tmp = join(dirs.tmp, `${randomBytes(8).toString('hex')}.tmp`);
      try {
        await writeFile(tmp, text);
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw fileError(err, path);
      }
    },

    async readText(path) {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        if (codeOf(err) === 'ENOENT') return null;
        throw fileError(err, path);
      }
    },

    async removeFile(path) {
      try {
        await unlink(path);
        return true;
      } catch (err) {
        if (codeOf(err) === 'ENOENT') return false;
        throw fileError(err, path);
      }
    },

    async *walk(batchSize) {
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
    },
  };
}
