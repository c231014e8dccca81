/**
 * The SQL session store (`tessera-session/sql`): PostgreSQL, MySQL/MariaDB and SQLite behind one set of
 * Kysely queries. The database is the truth and keeps an audit trail: a terminated session stays
 * as a row with `status = 'terminated'`, `terminated_at` and `termination_reason` until cleanup
 * purges it after `auditRetention`, or until a create of the same id replaces the row (only the
 * express-session store re-creates an id). Atomicity comes from transactions: the per-user limit
 * holds a row lock on the user's entry in `<table>_user_locks` (SQLite: the single writer of BEGIN
 * IMMEDIATE), a patch locks its row (`SELECT … FOR UPDATE`; an owner change is its `user_id`), and
 * every write is conditional on `status = 'active'`, so termination is final. Expiry is decided
 * with the caller's `now`, never the database clock.
 *
 * This module holds the options and the session lifecycle; the connection (./connection.ts),
 * transactions (./transactions.ts), schema (./schema.ts), per-user limit (./user-limit.ts),
 * listing and stats (./reporting.ts) and cleanup (./cleanup.ts) live beside it.
 */
import { sql } from 'kysely';
import {
  resolveSqlConfig,
  SQL_CONFIG_KNOWN_KEYS,
  type SqlConfig,
  type SqlDialect,
} from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { describeError, type Logger, silentLogger } from '../../core/logger.js';
import { expiresAt, patched, touchDue, touched } from '../../core/record.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';
import type {
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  SessionPatch,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminatedSessionRecord,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { positiveInteger, retentionOption } from '../options.js';
import { loginsPerHour, sessionAge } from './analytics.js';
import { cleanupRows } from './cleanup.js';
import { isHandle, openSqlConnection, type SqlHandle } from './connection.js';
import { SQL_STORE_NAME, tableNames } from './dialect.js';
import { listLive, listTerminated, liveStats } from './reporting.js';
import { liveRecord, liveRecords, missOf, type SessionRow, userIdOf } from './rows.js';
import { n } from './schema.js';
import { sqlWriter } from './transactions.js';
import {
  ensureUserLockRow,
  insertWithLimit,
  lockUser,
  terminateRows,
  type UserLimitContext,
} from './user-limit.js';

export type { SqlHandle } from './connection.js';
export { SQL_STORE_NAME } from './dialect.js';
export { DIALECTS } from './dialects/index.js';
export { schemaSql } from './schema.js';

/**
 * The SQL store's defaults: each option's `@default` names its entry here. `table` and `timeout`
 * default as in every `SqlConfig` (`"tessera_sessions"`, 5000 ms).
 */
export const SQL_DEFAULTS = {
  auditRetention: '30d',
  migrate: true,
  cleanupBatchSize: 500,
} as const;

export interface SqlStoreCommonOptions {
  /** Table that holds sessions; a plain identifier of at most 40 characters. @default "tessera_sessions" */
  table?: string;
  /** Connection and query timeout: past it an operation fails with StoreUnavailableError. @default 5000 ms */
  timeout?: number | string;
  /** How long terminated sessions are kept for the audit trail before cleanup purges them. @default SQL_DEFAULTS.auditRetention */
  auditRetention?: number | string;
  /** Run `migrate()` before the first operation. Turn off when your own tooling applies `sql/<dialect>.sql`. @default SQL_DEFAULTS.migrate */
  migrate?: boolean;
  /** Rows per statement when cleanup ends expired sessions and purges audit rows. @default SQL_DEFAULTS.cleanupBatchSize */
  cleanupBatchSize?: number;
  /** Where invalid rows and cleanup counts are reported. @default silent */
  logger?: Logger;
}

export type SqlStoreOptions = (SqlConfig | SqlHandle) & SqlStoreCommonOptions;

/**
 * The SQL store's option keys: a `SqlConfig`'s, a handle's (`pool`, `database`, `kysely`: the
 * caller's client instances, used as they are) and the store's own.
 */
export const SQL_KNOWN_KEYS = {
  ...SQL_CONFIG_KNOWN_KEYS,
  pool: true,
  database: true,
  kysely: true,
  auditRetention: true,
  migrate: true,
  cleanupBatchSize: true,
  logger: true,
} as const satisfies KnownKeys<SqlStoreOptions>;

/** A SessionStore with the SQL extras: migrations and the audit query always exist. */
export interface SqlStore extends SessionStore {
  readonly dialect: SqlDialect;
  /** Creates or upgrades the tables; idempotent and versioned (`<table>_migrations`). */
  migrate(): Promise<void>;
  /** The schema version the database is at after `migrate()`. */
  readonly schemaVersion: number;
  listTerminated(
    query: ListQuery,
    now: number,
  ): Promise<{ sessions: TerminatedSessionRecord[]; total: number }>;
  list(query: ListQuery, now: number): Promise<ListResult>;
  stats(now: number): Promise<StoreStats>;
}

const TABLE_MAX_LENGTH = 40;

export function createSqlStore(options: SqlStoreOptions): SqlStore {
  rejectUnknownKeys('createSqlStore()', options, SQL_KNOWN_KEYS);
  const handle = isHandle(options) ? options : undefined;
  // A handle carries its own connection; its table/timeout are validated by the same schema.
  const resolved = handle
    ? resolveSqlConfig({ dialect: 'sqlite', table: options.table, timeout: options.timeout })
    : resolveSqlConfig(options as SqlConfig);
  const table = resolved.table;
  if (table.length > TABLE_MAX_LENGTH)
    throw new ConfigError(
      'database.table',
      `must be at most ${TABLE_MAX_LENGTH} characters (index and companion table names add a suffix)`,
    );
  const retention = retentionOption(
    'auditRetention',
    options.auditRetention ?? SQL_DEFAULTS.auditRetention,
  );
  const batchSize = positiveInteger(
    'cleanupBatchSize',
    options.cleanupBatchSize ?? SQL_DEFAULTS.cleanupBatchSize,
  );
  const logger = options.logger ?? silentLogger;
  const names = tableNames(table);
  const connection = openSqlConnection({
    handle,
    dialect: resolved.dialect,
    url: resolved.url,
    poolSize: resolved.poolSize,
    timeout: resolved.timeout,
    names,
    autoMigrate: options.migrate ?? SQL_DEFAULTS.migrate,
    logger,
  });
  const { op, spec } = connection;
  const write = sqlWriter(connection);
  const limits: UserLimitContext = { spec, names };

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: true,
    atomicLimit: true,
    revocation: true,
  };

  function invalid(row: SessionRow, problem: string): void {
    logger.warn(
      { store: SQL_STORE_NAME, table, sessionId: row.id, problem },
      'tessera: invalid session row treated as no session',
    );
  }

  return {
    name: SQL_STORE_NAME,
    dialect: connection.dialect,
    capabilities,
    get schemaVersion() {
      return connection.schemaVersion;
    },
    migrate: () => connection.migrate(),

    create(record, options) {
      return op('create', async (conn) => {
        await ensureUserLockRow(conn, limits, record.userId);
        const evicted = await write.tx(conn, async (trx) => {
          await lockUser(trx, limits, record.userId);
          return insertWithLimit(trx, limits, record, options);
        });
        return { evicted };
      });
    },

    get(id: string, now: number, touch?: TouchPolicy): Promise<LookupResult> {
      return op('get', async (conn) => {
        const row = await conn
          .selectFrom('__sessions')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        const found = liveRecord(row, now, invalid);
        if (typeof found === 'string') return missOf(row, found);
        if (!touch || !touchDue(found, touch, now)) return { record: found, touched: false };
        const next = touched(found, touch, now);
        // Only the time columns change, and only while the session is still active and live:
        // a touch racing a patch keeps the patch's data, one racing a destroy changes nothing.
        // The new idle expiry follows the window read (idle_expires_at - last_seen_at): the update
        // applies only while both columns still hold what was read, so a concurrent touch or a
        // re-create with another window makes it miss rather than write a window computed from
        // the old row.
        const result = await write.one(conn, (c) =>
          c
            .updateTable('__sessions')
            .set((eb) => ({
              last_seen_at: now,
              idle_expires_at: next.idleExpiresAt,
              expires_at: expiresAt(next),
              version: eb('version', '+', 1),
            }))
            .where('id', '=', id)
            .where('status', '=', 'active')
            .where('expires_at', '>', now)
            .where('last_seen_at', '<=', now - touch.touchAfter)
            .where('last_seen_at', '=', found.lastSeenAt)
            .where('idle_expires_at', '=', found.idleExpiresAt)
            .executeTakeFirst(),
        );
        return n(result.numUpdatedRows) > 0
          ? { record: next, touched: true }
          : { record: found, touched: false };
      });
    },

    patch(id: string, patch: SessionPatch, now: number) {
      return op('patch', (conn) =>
        write.tx(conn, async (trx) => {
          let query = trx.selectFrom('__sessions').selectAll().where('id', '=', id);
          if (spec.rowLocks) query = query.forUpdate();
          const found = liveRecord(await query.executeTakeFirst(), now, invalid);
          if (typeof found === 'string') return null;
          // Throws DataTooLargeError past patch.maxDataBytes: the transaction rolls back, nothing changes.
          const next = patched(found, patch);
          await trx
            .updateTable('__sessions')
            .set({
              data: JSON.stringify(next.data),
              csrf: next.csrf,
              version: next.version,
              // An owner change is this column: listUser and destroyUser read it under the row lock.
              ...(patch.userId !== undefined && { user_id: next.userId }),
            })
            .where('id', '=', id)
            .execute();
          return next;
        }),
      );
    },

    destroy(id: string, reason: TerminationReason, now: number) {
      return op('destroy', async (conn) => {
        // The owner is read first and the update is conditional on it: a patch or create that
        // moved the session to another owner in between makes the update miss, and we read again.
        for (;;) {
          const row = await conn
            .selectFrom('__sessions')
            .select(['user_id', 'status', 'expires_at'])
            .where('id', '=', id)
            .executeTakeFirst();
          if (row?.status !== 'active' || !(n(row.expires_at) > now)) return null;
          const owner = userIdOf(row.user_id);
          const result = await write.one(conn, (c) =>
            c
              .updateTable('__sessions')
              .set({ status: 'terminated', terminated_at: now, termination_reason: reason })
              .where('id', '=', id)
              .where('status', '=', 'active')
              .where('expires_at', '>', now)
              .where((eb) =>
                owner === null ? eb('user_id', 'is', null) : eb('user_id', '=', owner),
              )
              .executeTakeFirst(),
          );
          if (n(result.numUpdatedRows) > 0) return { userId: owner };
        }
      });
    },

    destroyUser(userId, { exceptId, reason, now }) {
      return op('destroyUser', async (conn) => {
        await ensureUserLockRow(conn, limits, userId);
        return write.tx(conn, async (trx) => {
          await lockUser(trx, limits, userId);
          let query = trx
            .selectFrom('__sessions')
            .select('id')
            .where('user_id', '=', userId)
            .where('status', '=', 'active')
            .where('expires_at', '>', now);
          if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
          if (spec.rowLocks) query = query.forUpdate();
          const ids = (await query.execute()).map((r) => r.id);
          await terminateRows(trx, ids, reason, now);
          return ids;
        });
      });
    },

    regenerate(oldId, record, options) {
      return op('regenerate', async (conn) => {
        await ensureUserLockRow(conn, limits, record.userId);
        return write.tx(conn, async (trx) => {
          // Lock order everywhere: the user's lock first, then session rows.
          await lockUser(trx, limits, record.userId);
          let query = trx.selectFrom('__sessions').selectAll().where('id', '=', oldId);
          if (spec.rowLocks) query = query.forUpdate();
          const old = liveRecord(await query.executeTakeFirst(), options.now, invalid);
          if (typeof old === 'string') return { ok: false, evicted: [] };
          await terminateRows(trx, [oldId], 'rotated', options.now);
          return { ok: true, evicted: await insertWithLimit(trx, limits, record, options) };
        });
      });
    },

    listUser(userId: string, now: number) {
      return op('listUser', async (conn) => {
        const rows = await conn
          .selectFrom('__sessions')
          .selectAll()
          .where('user_id', '=', userId)
          .where('status', '=', 'active')
          .where('expires_at', '>', now)
          .orderBy('last_seen_at', 'desc')
          .orderBy('id', 'asc')
          .execute();
        return liveRecords(rows, now, invalid);
      });
    },

    list: (query: ListQuery, now: number) =>
      op('list', (conn) => listLive(conn, query, now, invalid)),

    listTerminated: (query: ListQuery, _now: number) =>
      op('listTerminated', (conn) => listTerminated(conn, query, invalid)),

    stats: (now: number) =>
      op('stats', async (conn) => {
        const stats = await liveStats(conn, now);
        stats.sessionAge = await sessionAge(conn, now, stats.activeSessions);
        stats.logins = await loginsPerHour(conn, now);
        return stats;
      }),

    cleanup(now: number) {
      return op('cleanup', async (conn) => {
        const counts = await cleanupRows(conn, write, now, { batchSize, retention });
        if (counts.ended || counts.purged || counts.invalid)
          logger.info({ store: SQL_STORE_NAME, table, ...counts }, 'tessera: sql cleanup');
        return counts.ended;
      });
    },

    async health(): Promise<HealthReport> {
      const started = performance.now();
      try {
        await op('health', (conn) => sql`select 1`.execute(conn));
        return {
          ok: true,
          store: SQL_STORE_NAME,
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
          detail: `${connection.dialect} schema v${connection.schemaVersion}`,
        };
      } catch (err) {
        return { ok: false, store: SQL_STORE_NAME, detail: String(describeError(err).message) };
      }
    },

    close: () => connection.close(),
  };
}
