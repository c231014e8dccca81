/**
 * `tessera-session/file`: the file store (./file/store.ts), one JSON file per session in a folder that
 * several processes may share, with its folder layout (./file/folder.ts), lock files
 * (./file/locks.ts) and typed file-system errors (./file/errors.ts) beside it.
 */
export { FILE_STORE_NAME, fileError } from './file/errors.js';
export { createFileStore, FILE_DEFAULTS, type FileStoreOptions } from './file/store.js';
