/** How the file store's file-system failures become typed errors naming the path, never a code. */
import { StoreError, StoreUnavailableError } from '../../core/errors.js';

export const FILE_STORE_NAME = 'file';

/** The `code` of a Node file-system error (`ENOENT`, `EEXIST`, …). */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A file-system failure as a typed error naming the path (and what is wrong with it). */
export function fileError(err: unknown, path: string): StoreUnavailableError | StoreError {
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
