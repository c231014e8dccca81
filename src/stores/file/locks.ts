/**
 * Lock files shared by every process using the folder: a lock is a file created with O_EXCL
 * (`open(…, 'wx')`) and deleted on release. A lock older than `staleAfter` was left by a crashed
 * process and is taken over (renamed aside first, so only one process takes it); a lock held longer
 * than `lockTimeout` fails the call with `StoreUnavailableError`.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { codeOf, FILE_STORE_NAME, fileError } from './errors.js';

export interface LockSettings {
  /** Where lock files live. */
  dir: string;
  /** Where a stale lock is renamed before it is deleted. */
  tmp: string;
  /** How long to wait for a lock held by another call, ms. */
  lockTimeout: number;
  /** Age past which a lock file was left by a crashed process, ms. */
  staleAfter: number;
  logger: Logger;
}

/** Runs `fn` holding the named lock. */
export type WithLock = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function fileLocks({ dir, tmp, lockTimeout, staleAfter, logger }: LockSettings): WithLock {
  async function lock(name: string): Promise<() => Promise<void>> {
    const path = join(dir, `${name}.lock`);
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
        const aside = join(tmp, `${name}.${randomBytes(4).toString('hex')}.stale`);
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

  return async (name, fn) => {
    const release = await lock(name);
    try {
      return await fn();
    } finally {
      await release();
    }
  };
}
