/**
 * The liveness read that protects a rotated session's cookies costs nothing on the common paths:
 * one store read per request (the validation) for an API client with a bearer token, and for a
 * browser whose cookies are current and whose touch is not due.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionHttp, handleFetch } from '../../src/http/index.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';

function countingStore(): { store: SessionStore; reads: () => number } {
  const store = createMemoryStore();
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (...args) => {
    reads++;
    return get(...args);
  };
  return { store, reads: () => reads };
}

describe('reads per request', () => {
  it('one read for a bearer request and for a browser with current cookies', async () => {
    const { store, reads } = countingStore();
    const manager = createSessionManager({ store, cleanupInterval: false });
    const http = createSessionHttp(manager, { mode: 'production' });
    const { token, csrfToken } = await manager.create({ userId: 'u' });
    const app = (headers: Record<string, string>) =>
      handleFetch(http, new Request('https://app.example/', { headers }), async (_r, s) =>
        Response.json({ user: s.userId }),
      );
    const cases: Record<string, string>[] = [
      { authorization: `Bearer ${token}` },
      { cookie: `__Host-tessera=${token}; __Host-tessera.csrf=${csrfToken}` },
    ];
    for (const headers of cases) {
      const before = reads();
      const res = await app(headers);
      assert.deepEqual(await res.json(), { user: 'u' });
      assert.equal(reads() - before, 1, JSON.stringify(Object.keys(headers)));
    }
    await manager.close();
  });
});
