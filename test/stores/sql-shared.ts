/**
 * Tests every SQL dialect shares beyond the contract suite: the audit trail, retention, cleanup in
 * batches, migrations and the documented schema files, rows edited by hand into an invalid state,
 * and injection attempts. Each dialect's test file calls `testSqlStoreExtras` with its own factory
 * and a raw statement runner for hand edits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SqlDialect } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import {
  createSqlStore,
  type SqlStore,
  type SqlStoreCommonOptions,
  schemaSql,
} from '../../src/stores/sql/index.js';
import { randomUserId, sampleRecord } from '../../src/testing/index.js';

type It = (name: string, fn: () => Promise<void>) => unknown;

export interface ExtrasOptions {
  dialect: SqlDialect;
  /** Runs one raw statement on the same database (test-only hand edits); returns rows. */
  exec: (text: string) => Promise<Record<string, unknown>[]>;
  /** The connection URL the factory uses, to build stores with other options. */
  url: string;
  /** The table the factory uses. */
  table: string;
}

const HOUR = 3_600_000;

export function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const noop = () => {};
  return { debug: noop, info: noop, error: noop, warn: (obj) => warnings.push(obj), warnings };
}

export function testSqlStoreExtras(it: It, options: ExtrasOptions): void {
  const { dialect, exec, url, table } = options;
  const q = (id: string) => (dialect === 'mysql' ? `\`${id}\`` : `"${id}"`);
  const make = (extra: SqlStoreCommonOptions = {}): SqlStore =>
    createSqlStore({ url, table, timeout: 5000, ...extra });
  const using = async (extra: SqlStoreCommonOptions, fn: (s: SqlStore) => Promise<void>) => {
    const store = make(extra);
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  it(`${dialect}: the audit trail keeps terminated sessions with their reasons`, () =>
    using({}, async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const [a, b, c, d] = [0, 1, 2, 3].map((i) =>
        sampleRecord({ userId, lastSeenAt: now - 10_000 + i }, now),
      );
      for (const r of [a!, b!, c!]) await store.create(r, { maxSessionsPerUser: 3, now });
      await store.create(d!, { maxSessionsPerUser: 3, now: now + 1 }); // evicts a: limit
      await store.destroy(b!.id, 'logout', now + 2);
      const fresh = sampleRecord({ userId }, now);
      await store.regenerate(c!.id, fresh, { maxSessionsPerUser: 3, now: now + 3 });

      const active = await store.listUser(userId, now + 4);
      assert.deepEqual(active.map((r) => r.id).sort(), [d!.id, fresh.id].sort());
      const audit = await store.listTerminated({ userId, limit: 10 }, now + 4);
      assert.equal(audit.total, 3);
      assert.deepEqual(
        audit.sessions.map((r) => [r.id, r.terminationReason, r.terminatedAt, r.status]),
        [
          [c!.id, 'rotated', now + 3, 'terminated'],
          [b!.id, 'logout', now + 2, 'terminated'],
          [a!.id, 'limit', now + 1, 'terminated'],
        ],
      );
      assert.deepEqual(audit.sessions[1]!.data, b!.data, 'the audit row keeps the record');
      const ended = await store.destroyUser(userId, { reason: 'admin', now: now + 5 });
      assert.equal(ended.length, 2);
      const after = await store.listTerminated({ userId, limit: 2, offset: 0 }, now + 5);
      assert.equal(after.total, 5);
      assert.deepEqual(
        after.sessions.map((r) => r.terminationReason),
        ['admin', 'admin'],
      );
    }));

  it(`${dialect}: re-creating a terminated id replaces its audit row (the express-session store does)`, () =>
    using({}, async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const first = sampleRecord({ userId, data: { old: 1 } }, now);
      await store.create(first, { maxSessionsPerUser: null, now });
      await store.destroy(first.id, 'logout', now + 1);
      assert.deepEqual(
        (await store.listTerminated({ userId, limit: 10 }, now + 1)).sessions.map((r) => r.id),
        [first.id],
      );
      const again = sampleRecord({ id: first.id, userId, data: { fresh: 2 } }, now + 2);
      await store.create(again, { maxSessionsPerUser: null, now: now + 2 });
      const audit = await store.listTerminated({ userId, limit: 10 }, now + 2);
      assert.equal(audit.total, 0, 'the old audit row is gone: one row per id');
      assert.deepEqual((await store.get(first.id, now + 3)).record?.data, { fresh: 2 });
      const rows = await exec(`SELECT status FROM ${q(table)} WHERE id = '${first.id}'`);
      assert.deepEqual(
        rows.map((r) => r.status),
        ['active'],
      );
    }));

  it(`${dialect}: cleanup ends expired sessions in batches as timeouts and purges old audit rows`, () =>
    using({ cleanupBatchSize: 7, auditRetention: '1h' }, async (store) => {
      // A clock far in the future of every other test's rows keeps counts exact on a shared table.
      const base = Date.now() + 1000 * 24 * HOUR;
      await store.cleanup(base); // clear anything earlier tests left expiring before `base`
      const userId = randomUserId();
      const expired = Array.from({ length: 30 }, (_, i) =>
        sampleRecord(
          {
            userId: i % 3 ? null : userId,
            idleExpiresAt: base + 1000 + i,
            absoluteExpiresAt: null,
          },
          base,
        ),
      );
      const live = Array.from({ length: 5 }, () =>
        sampleRecord({ userId, idleExpiresAt: base + 10 * HOUR, absoluteExpiresAt: null }, base),
      );
      for (const r of [...expired, ...live])
        await store.create(r, { maxSessionsPerUser: null, now: base });
      assert.equal(await store.cleanup(base + 60_000), 30);
      assert.equal(await store.cleanup(base + 60_000), 0, 'a second run finds nothing');
      assert.equal((await store.listUser(userId, base + 60_000)).length, 5);
      const audit = await store.listTerminated({ userId, limit: 100 }, base + 60_000);
      assert.equal(audit.total, 10);
      for (const r of audit.sessions) {
        assert.equal(r.terminationReason, 'timeout');
        assert.equal(r.terminatedAt, r.idleExpiresAt, 'ended at its expiry, not at cleanup');
      }
      // Past the retention the audit rows are gone, the live sessions are not.
      await store.cleanup(base + 1002 + 30 + HOUR + 1);
      assert.equal((await store.listTerminated({ userId, limit: 100 }, base)).total, 0);
      assert.equal((await store.listUser(userId, base + 60_000)).length, 5);
    }));

  it(`${dialect}: rows edited by hand into an invalid state are no session, logged, never thrown`, async () => {
    const logger = recordingLogger();
    await using({ logger }, async (store) => {
      const now = Date.now();
      const userId = randomUserId();
      const badJson = sampleRecord({ userId }, now);
      const nullExpiry = sampleRecord({ userId }, now);
      const badStatus = sampleRecord({ userId }, now);
      const good = sampleRecord({ userId }, now);
      for (const r of [badJson, nullExpiry, badStatus, good])
        await store.create(r, { maxSessionsPerUser: 10, now });
      await exec(`UPDATE ${q(table)} SET data = '{"broken' WHERE id = '${badJson.id}'`);
      await exec(
        `UPDATE ${q(table)} SET idle_expires_at = NULL, expires_at = NULL WHERE id = '${nullExpiry.id}'`,
      );
      await exec(`UPDATE ${q(table)} SET device_type = 'toaster' WHERE id = '${badStatus.id}'`);

      for (const r of [badJson, nullExpiry, badStatus]) {
        assert.deepEqual(await store.get(r.id, now), { record: null, reason: 'not_found' });
        assert.equal(await store.patch(r.id, { set: { x: 1 } }, now), null);
      }
      assert.deepEqual(
        (await store.listUser(userId, now)).map((r) => r.id),
        [good.id],
        'listing skips the invalid rows',
      );
      const ids = logger.warnings.map((w) => w.sessionId);
      for (const r of [badJson, nullExpiry, badStatus]) assert.ok(ids.includes(r.id));
      assert.ok(
        logger.warnings.every((w) => typeof w.problem === 'string'),
        'the log says what is wrong',
      );
      assert.ok((await store.get(good.id, now)).record, 'a good row next to them is served');
    });
  });

  it(`${dialect}: injection attempts in user ids and data keys are plain values`, () =>
    using({}, async (store) => {
      const now = Date.now();
      const evil = [
        `x' OR '1'='1`,
        `x'); DROP TABLE ${table}; --`,
        `x" OR "1"="1`,
        `\\'; DELETE FROM ${table} WHERE '1'='1`,
      ];
      const victim = sampleRecord({}, now);
      await store.create(victim, { maxSessionsPerUser: 5, now });
      for (const userId of evil) {
        const r = sampleRecord({ userId, data: { [`k'); DROP TABLE ${table}; --`]: `'"\\` } }, now);
        await store.create(r, { maxSessionsPerUser: 1, now });
        assert.deepEqual(
          (await store.listUser(userId, now)).map((s) => s.id),
          [r.id],
        );
        const injectedKey = `a' || (SELECT 1) || '`;
        const patched = await store.patch(
          r.id,
          { set: { [injectedKey]: 1 }, unset: [`'; DROP TABLE ${table}; --`] },
          now,
        );
        assert.equal(patched?.data[injectedKey], 1);
        assert.deepEqual(await store.destroyUser(userId, { reason: 'admin', now }), [r.id]);
      }
      assert.ok((await store.get(victim.id, now)).record, 'other rows are untouched');
      assert.deepEqual(await store.listUser(evil[0]!, now), []);
    }));

  it(`${dialect}: user ids compare exactly (no case folding, no trailing-space padding)`, async () => {
    const store = make();
    try {
      const now = Date.now();
      const base = `Case-${randomBytes(4).toString('hex')}`;
      const upper = sampleRecord({ userId: base.toUpperCase() }, now);
      const lower = sampleRecord({ userId: base.toLowerCase() }, now);
      const spaced = sampleRecord({ userId: `${base.toLowerCase()} ` }, now);
      for (const r of [upper, lower, spaced]) await store.create(r, { maxSessionsPerUser: 1, now });
      for (const r of [upper, lower, spaced])
        assert.deepEqual(
          (await store.listUser(r.userId!, now)).map((s) => s.id),
          [r.id],
          `user ${JSON.stringify(r.userId)} sees only its own session`,
        );
    } finally {
      await store.close();
    }
  });

  it(`${dialect}: a table name that is not a plain identifier is refused at construction`, () => {
    for (const bad of [`${table}; DROP TABLE x`, 'a-b', '1abc', 'x"y', `a${'b'.repeat(60)}`]) {
      assert.throws(
        () => createSqlStore({ url, table: bad }),
        (err: unknown) => err instanceof ConfigError && err.field === 'database.table',
      );
    }
    return Promise.resolve();
  });

  it(`${dialect}: migrate is idempotent and versioned`, () =>
    using({}, async (store) => {
      await store.migrate();
      await store.migrate();
      assert.equal(store.schemaVersion, 1);
      const rows = await exec(`SELECT version FROM ${q(`${table}_migrations`)}`);
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        [1],
      );
    }));

  it(`${dialect}: sql/${dialect}.sql is the documented schema and works on its own`, async () => {
    const documented = readFileSync(new URL(`../../sql/${dialect}.sql`, import.meta.url), 'utf8');
    assert.equal(documented, schemaSql(dialect), `regenerate sql/${dialect}.sql from schemaSql()`);
    const own = `d_${randomBytes(5).toString('hex')}`;
    const script = schemaSql(dialect, own)
      .split('\n')
      .filter((line) => !line.startsWith('--'))
      .join('\n');
    for (const statement of script.split(';').map((s) => s.trim()))
      if (statement) await exec(statement);
    const store = createSqlStore({ url, table: own, migrate: false });
    try {
      const now = Date.now();
      const r = sampleRecord({}, now);
      await store.create(r, { maxSessionsPerUser: 5, now });
      assert.ok((await store.get(r.id, now)).record);
      await store.migrate();
      assert.equal(store.schemaVersion, 1);
      const versions = await exec(`SELECT version FROM ${q(`${own}_migrations`)}`);
      assert.equal(versions.length, 1, 'migrate() found the script already applied');
    } finally {
      await store.close();
      for (const t of [own, `${own}_user_locks`, `${own}_migrations`])
        await exec(`DROP TABLE IF EXISTS ${q(t)}`);
    }
  });
}

/** Drops the tables a test file created. */
export async function dropTables(
  dialect: SqlDialect,
  exec: ExtrasOptions['exec'],
  table: string,
): Promise<void> {
  const q = (id: string) => (dialect === 'mysql' ? `\`${id}\`` : `"${id}"`);
  for (const t of [table, `${table}_user_locks`, `${table}_migrations`])
    await exec(`DROP TABLE IF EXISTS ${q(t)}`);
}
