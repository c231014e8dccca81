/**
 * A `SessionStore` whose calls run in another Node process (test/support/file-store-child.ts) on
 * the same folder: the second instance the file store's contract run uses, so locks and atomic
 * renames are checked across processes, not only across objects in one process.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DataTooLargeError, StoreError, StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionStore, StoreCapabilities } from '../../src/core/types.js';
import { FILE_STORE_NAME } from '../../src/stores/file.js';

const CHILD = fileURLToPath(new URL('./file-store-child.ts', import.meta.url));

interface Reply {
  seq?: number;
  ok?: boolean;
  value?: unknown;
  error?: {
    name: string;
    message: string;
    code?: string;
    address?: string;
    bytes?: number;
    limit?: number;
  };
  ready?: boolean;
  capabilities?: StoreCapabilities;
}

export async function startFileStoreProcess(path: string): Promise<SessionStore> {
  const child = fork(CHILD, [path], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const capabilities = await new Promise<StoreCapabilities>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`file store child exited ${code} before it was ready`)),
    );
    child.on('message', (reply: Reply) => {
      if (reply.ready) {
        resolve(reply.capabilities!);
        return;
      }
      const call = pending.get(reply.seq!);
      if (!call) return;
      pending.delete(reply.seq!);
      if (reply.ok) call.resolve(reply.value);
      else {
        const e = reply.error!;
        call.reject(
          e.name === 'StoreUnavailableError'
            ? new StoreUnavailableError(FILE_STORE_NAME, e.address, e.message)
            : e.name === 'StoreError'
              ? new StoreError(FILE_STORE_NAME, e.message)
              : e.name === 'DataTooLargeError'
                ? new DataTooLargeError(e.bytes!, e.limit!)
                : new Error(e.message),
        );
      }
    });
  });
  const call =
    (method: string) =>
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const n = ++seq;
        pending.set(n, { resolve, reject });
        child.send({ seq: n, method, args });
      });
  const proxy = Object.fromEntries(
    [
      'create',
      'get',
      'patch',
      'destroy',
      'destroyUser',
      'regenerate',
      'listUser',
      'list',
      'stats',
      'cleanup',
      'health',
    ].map((m) => [m, call(m)]),
  );
  return {
    ...(proxy as unknown as SessionStore),
    name: FILE_STORE_NAME,
    capabilities,
    async close() {
      child.kill();
      await exited;
    },
  };
}
