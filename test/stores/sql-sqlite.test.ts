import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, it } from 'vitest';
import { MissingDependencyError, StoreUnavailableError } from '../../src/core/errors.js';
import { importDriver } from '../../src/stores/sql/dialect.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { randomUserId, sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';
import { testSqlStoreExtras } from './sql-shared.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
const file = join(folder, 'sessions.db');
const url = `sqlite:${file}`;
const table = `t_${randomBytes(6).toString('hex')}`;

// Hand edits go through a separate connection, as a person with a SQL shell would make them.
const raw = new Database(file, { timeout: 5000 });
const exec = async (text: string) => {
  const statement = raw.prepare(text);
  if (statement.reader) return statement.all() as Record<string, unknown>[];
  statement.run();
  return [];
};

afterAll(() => {
  raw.close();
  rmSync(folder, { recursive: true, force: true });
});

const make = () => createSqlStore({ url, table, timeout: 5000 });

describe('sql store (SQLite file): contract', () => {
  testSessionStore(it, make, {
    second: make,
    prefix: 'sqlite',
    unreachable: () =>
      createSqlStore({ url: `sqlite:${join(folder, 'missing', 'dir', 'x.db')}`, table }),
  });
  testDestroyReturnsOwner(it, make, 'sqlite');
});

describe('sql store (SQLite file): dialect extras', () => {
  testSqlStoreExtras(it, { dialect: 'sqlite', exec, url, table });

  it('sqlite: the file is in WAL mode', async () => {
    const store = make();
    await store.migrate();
    await store.close();
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  });

  it('sqlite: a caller-owned database handle is used and left open', async () => {
    const handle = new Database(file);
    const store = createSqlStore({ dialect: 'sqlite', database: handle, table });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    await store.close();
    assert.equal(handle.open, true);
    const other = make();
    assert.ok((await other.get(r.id, now)).record);
    await other.close();
    handle.close();
  });

  it('sqlite: two processes on one file: no "database is locked", the limit and every patch hold', async () => {
    const now = Date.now();
    const userId = randomUserId();
    const shared = sampleRecord({ userId: null, data: {} }, now);
    const store = make();
    await store.create(shared, { maxSessionsPerUser: null, now });
    // The other process runs the same store code through tsx on the same file and table.
    const script = join(folder, 'other-process.mts');
    writeFileSync(
      script,
      `import { createSqlStore } from ${JSON.stringify(resolve('src/stores/sql/index.ts'))};
import { sampleRecord } from ${JSON.stringify(resolve('src/testing/index.ts'))};
const store = createSqlStore({ url: ${JSON.stringify(url)}, table: ${JSON.stringify(table)}, timeout: 10000 });
const now = ${now};
await Promise.all([
  ...Array.from({ length: 15 }, () => store.create(sampleRecord({ userId: ${JSON.stringify(userId)} }, now), { maxSessionsPerUser: 5, now })),
  ...Array.from({ length: 50 }, (_, i) => store.patch(${JSON.stringify(shared.id)}, { set: { ['child' + i]: i } }, now)),
]);
await store.close();
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    // Keep writing from this process until the child has finished its writes.
    let i = 0;
    let done = false;
    void exited.then(() => {
      done = true;
    });
    while (!done || i < 50) {
      await Promise.all([
        store.create(sampleRecord({ userId }, now), { maxSessionsPerUser: 5, now }),
        store.patch(shared.id, { set: { [`parent${i}`]: i } }, now),
      ]);
      i++;
      // SQLite calls resolve without leaving the microtask queue: let the child's exit event in.
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await exited, 0, `the other process failed: ${stderr}`);
    assert.equal((await store.listUser(userId, now)).length, 5);
    const found = await store.get(shared.id, now);
    for (let k = 0; k < 50; k++) assert.equal(found.record?.data[`child${k}`], k);
    for (let k = 0; k < i; k++) assert.equal(found.record?.data[`parent${k}`], k);
    await store.close();
  }, 20_000);

  it('sqlite: a caller-owned Kysely instance is detected and used', async () => {
    const database = new Database(file);
    const kysely = new Kysely<{ app_users: { id: number } }>({
      dialect: new SqliteDialect({ database }),
    });
    const store = createSqlStore({ kysely, table });
    assert.equal(store.dialect, 'sqlite');
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    assert.ok((await store.get(r.id, now)).record);
    await store.close();
    assert.equal(database.open, true, 'left open for its owner');
    await kysely.destroy();
  });

  it('a driver that is not installed is MissingDependencyError naming the package', async () => {
    await assert.rejects(
      importDriver('tessera-no-such-driver', 'The test store'),
      (err: unknown) =>
        err instanceof MissingDependencyError && err.packageName === 'tessera-no-such-driver',
    );
  });

  it('sqlite: a missing folder is StoreUnavailableError, not a crash', async () => {
    const store = createSqlStore({ url: `sqlite:${join(folder, 'nope', 'x.db')}`, table });
    await assert.rejects(store.get('x', Date.now()), StoreUnavailableError);
    await store.close();
  });
});
