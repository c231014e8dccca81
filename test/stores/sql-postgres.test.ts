import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { freePort, requireService } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { dropTables, testSqlStoreExtras } from './sql-shared.js';

const url = 'postgres://postgres@127.0.0.1:5432/test';
const table = `t_${randomBytes(6).toString('hex')}`;
const ok = await requireService(
  'PostgreSQL',
  '127.0.0.1',
  5432,
  'apt-get install -y postgresql (user postgres, database test, trust auth on 127.0.0.1)',
);
const admin = new pg.Pool({ connectionString: url, max: 2 });
const exec = async (text: string) => (await admin.query(text)).rows as Record<string, unknown>[];
const deadPort = await freePort();

afterAll(async () => {
  if (ok) await dropTables('postgres', exec, table);
  await admin.end();
});

const make = () => createSqlStore({ url, table, timeout: 5000, poolSize: 5 });

describe.skipIf(!ok)('sql store (PostgreSQL): contract', () => {
  testSessionStore(it, make, {
    second: make,
    prefix: 'postgres',
    unreachable: () =>
      createSqlStore({
        url: `postgres://postgres@127.0.0.1:${deadPort}/test`,
        table,
        timeout: 1000,
      }),
    unavailableWithinMs: 1500,
  });
  testDestroyReturnsOwner(it, make, 'postgres');
});

describe.skipIf(!ok)('sql store (PostgreSQL): dialect extras', () => {
  testSqlStoreExtras(it, { dialect: 'postgres', exec, url, table });

  let silent: Server;
  let silentPort = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    silentPort = await freePort();
    // Accepts connections and never answers: a hung server, not a refused port.
    silent = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {}); // the client hangs up after its timeout
    });
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('postgres: a server that never answers is StoreUnavailableError within the timeout', async () => {
    const store = createSqlStore({
      url: `postgres://postgres@127.0.0.1:${silentPort}/test`,
      table,
      timeout: 800,
    });
    try {
      for (const op of [
        () => store.get('x', Date.now()),
        () => store.create(sampleRecord(), { maxSessionsPerUser: 5, now: Date.now() }),
      ]) {
        const started = Date.now();
        await assert.rejects(op(), StoreUnavailableError);
        const took = Date.now() - started;
        assert.ok(took < 1300, `took ${took} ms with an 800 ms timeout`);
      }
      assert.equal((await store.health()).ok, false);
    } finally {
      await store.close();
    }
  });

  it('postgres: recovers by itself after its connections are killed mid-run', async () => {
    const appName = `tessera-${randomBytes(4).toString('hex')}`;
    const store = createSqlStore({
      url: `${url}?application_name=${appName}`,
      table,
      timeout: 3000,
      poolSize: 4,
    });
    try {
      const now = Date.now();
      const records = Array.from({ length: 8 }, () => sampleRecord({}, now));
      for (const r of records) await store.create(r, { maxSessionsPerUser: 5, now });
      const killed = await exec(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = '${appName}'`,
      );
      assert.ok(killed.length > 0, 'the store had connections to kill');
      // Some calls may fail while the pool finds out its connections are dead; none may hang,
      // every failure must be typed, and soon every call succeeds again.
      const failures: unknown[] = [];
      let recovered = false;
      const deadline = Date.now() + 5000;
      while (!recovered && Date.now() < deadline) {
        const results = await Promise.allSettled(records.map((r) => store.get(r.id, now)));
        const rejected = results.filter((x) => x.status === 'rejected');
        for (const x of rejected) failures.push(x.reason);
        recovered = rejected.length === 0;
      }
      assert.ok(recovered, 'the store works again without being rebuilt');
      for (const err of failures) assert.ok(err instanceof StoreUnavailableError, String(err));
      for (const r of records) assert.ok((await store.get(r.id, now)).record);
    } finally {
      await store.close();
    }
  });

  it('postgres: a caller-owned pool is used and left open', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const store = createSqlStore({ dialect: 'postgres', pool, table });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    assert.ok((await store.get(r.id, now)).record);
    await store.close();
    assert.equal((await pool.query('select 1 as one')).rows[0].one, 1, 'the pool still works');
    await pool.end();
  });
});
