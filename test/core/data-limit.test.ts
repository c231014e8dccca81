/**
 * `maxDataBytes` holds on what is stored, not only on what one request loaded (issue 14, point 5):
 * concurrent `manager.update` calls that each add a large key to one session can never together
 * push it past the limit, and the session stays writable afterwards. On the memory, Redis, SQLite
 * and PostgreSQL stores (real servers); every store is also held to it by the contract suite.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { DataTooLargeError } from '../../src/core/errors.js';
import type { SessionEvents } from '../../src/core/events.js';
import { dataBytes } from '../../src/core/record.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { requireService } from '../support/services.js';

const LIMIT = 65_536;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(join(tmpdir(), 'tessera-data-limit-'));
const pgTable = `dl_${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!pgUp) return;
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(
    `DROP TABLE IF EXISTS "${pgTable}", "${pgTable}_user_locks", "${pgTable}_migrations"`,
  );
  await client.end();
});

const redisUp = await requireService('Redis', '127.0.0.1', 6379, 'redis-server --port 6379');
const pgUp = await requireService('PostgreSQL', '127.0.0.1', 5432, 'a local PostgreSQL');

const backends: [string, boolean, () => SessionStore][] = [
  ['memory', true, () => createMemoryStore()],
  ['Redis', redisUp, () => createRedisStore({ prefix: `dl-${randomBytes(4).toString('hex')}:` })],
  ['SQLite', true, () => createSqlStore({ url: `sqlite:${join(dir, 'limit.sqlite')}` })],
  ['PostgreSQL', pgUp, () => createSqlStore({ url: PG_URL, table: pgTable })],
];

for (const [name, enabled, makeStore] of backends) {
  describe.skipIf(!enabled)(`maxDataBytes on the ${name} store`, () => {
    it('20 concurrent 60 KB writes to different keys store at most 64 KiB; later writes work', async () => {
      const store = makeStore();
      const storeErrors: SessionEvents['storeError'][] = [];
      const manager = createSessionManager({
        store,
        maxDataBytes: LIMIT,
        cleanupInterval: false,
        on: { storeError: (e) => storeErrors.push(e) },
      });
      try {
        const { session } = await manager.create({ userId: 'alice', data: { theme: 'dark' } });
        // Each request loaded the same small session: each alone fits under the limit.
        const value = 'v'.repeat(60_000);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            manager.update(session, { set: { [`k${i}`]: value } }),
          ),
        );
        const stored = await store.get(session.id, Date.now());
        assert.ok(stored.record);
        const bytes = dataBytes(stored.record.data);
        assert.ok(bytes <= LIMIT, `${bytes} bytes stored, over the ${LIMIT}-byte limit`);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results)
          if (r.status === 'rejected')
            assert.ok(r.reason instanceof DataTooLargeError, String(r.reason));
        assert.deepEqual(storeErrors, [], 'a refused write is not a store failure');

        // The session was never pushed past its limit, so it stays usable.
        const later = await manager.update(session, { set: { note: 'still writable' } });
        assert.equal(later?.data.note, 'still writable');
        const big = Object.keys(stored.record.data).find((k) => k.startsWith('k'))!;
        const swapped = await manager.update(session, { unset: [big], set: { other: value } });
        assert.ok(swapped && dataBytes(swapped.data) <= LIMIT);
      } finally {
        await manager.close();
        await store.close();
      }
    }, 30_000);
  });
}
