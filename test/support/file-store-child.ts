/**
 * Child-process entry for the file store tests: hosts a file store on the folder given as argv[2]
 * and serves its methods over the IPC channel, so the contract suite's concurrency groups run
 * against two processes sharing one folder. Started by `startFileStoreProcess`.
 */
import { createFileStore } from '../../src/stores/file.js';

const path = process.argv[2];
if (!path) throw new Error('usage: file-store-child <folder>');
const store = createFileStore({ path }) as unknown as Record<
  string,
  (...args: unknown[]) => Promise<unknown>
>;

interface Call {
  seq: number;
  method: string;
  args: unknown[];
}

process.on('message', (message: Call) => {
  const { seq, method, args } = message;
  const fn = store[method];
  if (typeof fn !== 'function') {
    process.send?.({
      seq,
      ok: false,
      error: { name: 'TypeError', message: `no method ${method}` },
    });
    return;
  }
  fn.apply(store, args).then(
    (value) => process.send?.({ seq, ok: true, value: value === undefined ? null : value }),
    (err: Error & { code?: string; address?: string; bytes?: number; limit?: number }) =>
      process.send?.({
        seq,
        ok: false,
        error: {
          name: err.name,
          message: err.message,
          code: err.code,
          address: err.address,
          bytes: err.bytes,
          limit: err.limit,
        },
      }),
  );
});
process.send?.({
  ready: true,
  capabilities: (store as unknown as { capabilities: unknown }).capabilities,
});
