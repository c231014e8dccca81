import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, describe, it } from 'vitest';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { freePort, requireService } from '../support/services.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { dropTables, testSqlStoreExtras } from './sql-shared.js';

const url = 'mysql://root@127.0.0.1:3306/test';
const table = `t_${randomBytes(6).toString('hex')}`;
const ok = await requireService(
  'MariaDB/MySQL',
  '127.0.0.1',
  3306,
  'apt-get install -y mariadb-server (root with an empty password, database test)',
);
const admin = mysql.createPool({ uri: url, connectionLimit: 2 });
const exec = async (text: string) => {
  const [rows] = await admin.query(text);
  return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
};
const deadPort = await freePort();

afterAll(async () => {
  if (ok) await dropTables('mysql', exec, table);
  await admin.end();
});

const make = () => createSqlStore({ url, table, timeout: 5000, poolSize: 5 });

describe.skipIf(!ok)('sql store (MariaDB): contract', () => {
  testSessionStore(it, make, {
    second: make,
    prefix: 'mysql',
    unreachable: () =>
      createSqlStore({ url: `mysql://root@127.0.0.1:${deadPort}/test`, table, timeout: 1000 }),
    unavailableWithinMs: 1500,
  });
  testDestroyReturnsOwner(it, make, 'mysql');
});

describe.skipIf(!ok)('sql store (MariaDB): dialect extras', () => {
  testSqlStoreExtras(it, { dialect: 'mysql', exec, url, table });

  it('mysql: a caller-owned pool is used and left open', async () => {
    const { createPool } = await import('mysql2');
    const pool = createPool({ uri: url, connectionLimit: 2 });
    const store = createSqlStore({ dialect: 'mysql', pool, table });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    assert.ok((await store.get(r.id, now)).record);
    await store.close();
    const [rows] = await pool.promise().query('select 1 as one');
    assert.equal((rows as { one: number }[])[0]!.one, 1, 'the pool still works');
    await pool.promise().end();
  });
});
