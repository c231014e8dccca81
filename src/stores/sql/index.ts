/**
 * The SQL session store: PostgreSQL, MySQL/MariaDB and SQLite behind one set of Kysely queries.
 * The database is the truth and keeps an audit trail: a terminated session stays as a row with
 * `status = 'terminated'`, `terminated_at` and `termination_reason` until cleanup purges it after
 * `auditRetention`. Atomicity comes from transactions: the per-user limit holds a row lock on the
 * user's entry in `<table>_user_locks` (SQLite: the single writer of BEGIN IMMEDIATE), a patch
 * locks its row (`SELECT … FOR UPDATE`), and every write is conditional on `status = 'active'`,
 * so termination is final. Expiry is decided with the caller's `now`, never the database clock.
 */
import {
  IdentifierNode,
  Kysely,
  type KyselyPlugin,
  MysqlAdapter,
  MysqlDialect,
  type MysqlPool,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresAdapter,
  PostgresDialect,
  type PostgresPool,
  type QueryResult,
  type RootOperationNode,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  sql,
  type UnknownRow,
} from 'kysely';
import { resolveSqlConfig, type SqlConfig, type SqlDialect } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import { ConfigError, StoreError, StoreUnavailableError, TesseraError } from '../../core/errors.js';
import { describeError, type Logger, silentLogger } from '../../core/logger.js';
import type {
  CreateOptions,
  HealthReport,
  ListQuery,
  ListResult,
  LookupResult,
  MissReason,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoreStats,
  TerminatedSessionRecord,
  TerminationReason,
  TouchPolicy,
} from '../../core/types.js';
import { emptyStats, expiresAt, expiryReason, patched, touchDue, touched } from '../record.js';
import { type DialectSpec, type OpenedDialect, type TableNames, tableNames } from './dialect.js';
import { mysql } from './dialects/mysql.js';
import { postgres } from './dialects/postgres.js';
import { prepareSqlite, sqlite } from './dialects/sqlite.js';
import { readRow, recordToRow, type SessionRow } from './rows.js';

export const SQL_STORE_NAME = 'sql';

export const DIALECTS: Record<SqlDialect, DialectSpec> = { postgres, mysql, sqlite };

/** An existing connection the caller owns: the store uses it and leaves it open on `close()`. */
export type SqlHandle =
  | { dialect: 'postgres'; pool: PostgresPool }
  | { dialect: 'mysql'; pool: MysqlPool }
  | { dialect: 'sqlite'; database: SqliteDatabase }
  /** A Kysely instance on any of the three dialects (detected from its adapter). */
  // biome-ignore lint/suspicious/noExplicitAny: a caller's Kysely instance may have any schema type
  | { kysely: Kysely<any> };

export interface SqlStoreCommonOptions {
  /** Table that holds sessions; a plain identifier of at most 40 characters. @default "tessera_sessions" */
  table?: string;
  /** Connection and query timeout: past it an operation fails with StoreUnavailableError. @default 5000 ms */
  timeout?: number | string;
  /** How long terminated sessions are kept for the audit trail before cleanup purges them. @default "30d" */
  auditRetention?: number | string;
  /** Run `migrate()` before the first operation. Turn off when your own tooling applies `sql/<dialect>.sql`. @default true */
  migrate?: boolean;
  /** Rows per statement when cleanup ends expired sessions and purges audit rows. @default 500 */
  cleanupBatchSize?: number;
  /** Where invalid rows and cleanup counts are reported. @default silent */
  logger?: Logger;
}

export type SqlStoreOptions = (SqlConfig | SqlHandle) & SqlStoreCommonOptions;

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

/** Logical table names used in the queries; the plugin below swaps in the configured ones. */
interface Tables {
  __sessions: SessionRow;
  __user_locks: { user_id: string };
  __migrations: { version: number; applied_at: number };
}
type Db = Kysely<Tables>;

class TableNamePlugin implements KyselyPlugin {
  readonly #transformer: OperationNodeTransformer;
  constructor(names: TableNames) {
    const map: Record<string, string> = {
      __sessions: names.sessions,
      __user_locks: names.userLocks,
      __migrations: names.migrations,
    };
    this.#transformer = new (class extends OperationNodeTransformer {
      protected override transformIdentifier(node: IdentifierNode): IdentifierNode {
        const name = map[node.name];
        return name ? IdentifierNode.create(name) : super.transformIdentifier(node);
      }
    })();
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** Write serialisation per SQLite file inside this process (see `writeTx`). */
const sqliteWriteLocks = new Map<unknown, Promise<unknown>>();
function withFileLock<T>(key: unknown, fn: () => Promise<T>): Promise<T> {
  const previous = sqliteWriteLocks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  sqliteWriteLocks.set(key, tail);
  void tail.then(() => {
    if (sqliteWriteLocks.get(key) === tail) sqliteWriteLocks.delete(key);
  });
  return run;
}

const MAX_TX_ATTEMPTS = 8;
const TABLE_MAX_LENGTH = 40;

function isHandle(options: SqlStoreOptions): options is SqlHandle & SqlStoreCommonOptions {
  return 'kysely' in options || 'pool' in options || 'database' in options;
}

// biome-ignore lint/suspicious/noExplicitAny: only the adapter is read
function detectDialect(db: Kysely<any>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new ConfigError('kysely', 'must use the PostgreSQL, MySQL or SQLite dialect');
}

const n = (value: unknown): number => Number(value ?? 0);

function migrationsTableSql(spec: DialectSpec, names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${spec.quote(names.migrations)} (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)`;
}

/**
 * The whole schema as one SQL script, for teams that apply migrations with their own tooling
 * (`sql/<dialect>.sql` is this output for the default table name). It records the versions it
 * applies, so a store started afterwards with `migrate: true` finds nothing left to do.
 */
export function schemaSql(dialect: SqlDialect, table = 'tessera_sessions'): string {
  const spec = DIALECTS[dialect];
  const names = tableNames(table);
  const out = [
    `-- Tessera session store schema for ${dialect}, table ${JSON.stringify(table)}.`,
    '-- Generated from src/stores/sql (schemaSql); createSqlStore().migrate() applies the same statements.',
    '-- Times are epoch milliseconds. expires_at = min(idle_expires_at, absolute_expires_at) and is',
    '-- kept up to date on every touch, so cleanup finds expired rows through an index.',
    "-- status is 'active' or 'terminated'; terminated rows are the audit trail (terminated_at,",
    '-- termination_reason) and are purged by cleanup after the audit retention (default 30 days).',
    '-- <table>_user_locks holds one row per user: creates lock it to enforce the per-user limit.',
    '',
    `${migrationsTableSql(spec, names)};`,
  ];
  for (const [index, statements] of spec.migrations(names).entries()) {
    out.push('', `-- version ${index + 1}`);
    for (const statement of statements) out.push(`${statement};`);
    const insert = spec.insertIgnore(names.migrations, ['version', 'applied_at']);
    const values = [String(index + 1), '0'];
    out.push(`${insert.replace(/\?/g, () => values.shift()!)};`);
  }
  return `${out.join('\n')}\n`;
}

export function createSqlStore(options: SqlStoreOptions): SqlStore {
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
  const timeout = resolved.timeout;
  const retention = parseDuration(options.auditRetention ?? '30d');
  if (retention === null || retention < 0)
    throw new ConfigError('auditRetention', 'must be a duration such as "30d" or milliseconds');
  const batchSize = options.cleanupBatchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError('cleanupBatchSize', 'must be a positive integer');
  const logger = options.logger ?? silentLogger;
  const autoMigrate = options.migrate ?? true;

  let dialectName: SqlDialect;
  if (handle && 'kysely' in handle) dialectName = detectDialect(handle.kysely);
  else if (handle) dialectName = handle.dialect;
  else dialectName = resolved.dialect;
  const spec = DIALECTS[dialectName];
  const names = tableNames(table);
  const plugin = new TableNamePlugin(names);

  let address = handle ? `${dialectName} (caller's connection)` : resolved.url;
  if (!handle && dialectName !== 'sqlite') {
    try {
      const u = new URL(resolved.url);
      address = `${u.hostname}:${u.port || 'default'}`;
    } catch {
      address = dialectName;
    }
  }

  const capabilities: StoreCapabilities = {
    listUser: true,
    listAll: true,
    stats: true,
    audit: true,
    atomicLimit: true,
    revocation: true,
  };

  // ---- connection and migrations ---------------------------------------------------------------

  let db: Db | undefined;
  let owned = false;
  let fileKey: unknown;
  let opening: Promise<Db> | undefined;
  let migrated: Promise<void> | undefined;
  let schemaVersion = 0;
  let closed = false;

  async function connect(): Promise<Db> {
    if (db) return db;
    if (handle && 'kysely' in handle) {
      fileKey = handle.kysely;
      db = (handle.kysely as unknown as Db).withPlugin(plugin);
      return db;
    }
    let opened: OpenedDialect;
    if (handle) {
      if (handle.dialect === 'sqlite') {
        prepareSqlite(handle.database as { pragma?(s: string): unknown }, timeout);
        const file = (handle.database as { name?: unknown }).name;
        opened = {
          dialect: new SqliteDialect({ database: handle.database }),
          address: typeof file === 'string' ? file : 'sqlite',
          fileKey: typeof file === 'string' && file !== ':memory:' ? file : handle.database,
        };
      } else if (handle.dialect === 'postgres') {
        opened = { dialect: new PostgresDialect({ pool: handle.pool }), address };
      } else {
        opened = { dialect: new MysqlDialect({ pool: handle.pool }), address };
      }
    } else {
      opened = await spec.open(resolved.url, { poolSize: resolved.poolSize, timeout });
      owned = true;
    }
    address = opened.address;
    fileKey = opened.fileKey;
    db = new Kysely<Tables>({ dialect: opened.dialect, plugins: [plugin] });
    return db;
  }

  async function runMigrations(conn: Db): Promise<void> {
    await sql.raw(migrationsTableSql(spec, names)).execute(conn);
    const applied = new Set(
      (await conn.selectFrom('__migrations').select('version').execute()).map((r) => n(r.version)),
    );
    const versions = spec.migrations(names);
    for (const [index, statements] of versions.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      // Every statement is idempotent (IF NOT EXISTS), so two processes migrating at once is fine.
      for (const statement of statements) await sql.raw(statement).execute(conn);
      await executeRaw(conn, spec.insertIgnore(names.migrations, ['version', 'applied_at']), [
        version,
        Date.now(),
      ]);
      logger.info({ store: SQL_STORE_NAME, table, version }, 'tessera: sql schema migrated');
    }
    schemaVersion = versions.length;
  }

  /** The connection, migrated. A failure is not cached: the next operation tries again. */
  async function ready(): Promise<Db> {
    if (closed) throw new StoreError(SQL_STORE_NAME, 'the store is closed');
    opening ??= connect().catch((err) => {
      opening = undefined;
      throw err;
    });
    const conn = await opening;
    if (autoMigrate) {
      migrated ??= runMigrations(conn).catch((err) => {
        migrated = undefined;
        throw err;
      });
      await migrated;
    }
    return conn;
  }

  // ---- errors, timeouts, transactions ------------------------------------------------------------

  function typed(err: unknown, operation: string): TesseraError {
    if (err instanceof TesseraError) return err;
    if (spec.isUnavailable(err))
      return new StoreUnavailableError(SQL_STORE_NAME, address, `${operation} failed`, {
        cause: err,
      });
    return new StoreError(SQL_STORE_NAME, `${operation} failed`, { cause: err });
  }

  /** Runs one store operation: connected and migrated, typed errors, never longer than `timeout`. */
  async function op<T>(operation: string, fn: (conn: Db) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const work = (async () => fn(await ready()))();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StoreUnavailableError(
              SQL_STORE_NAME,
              address,
              `${operation} got no answer within ${timeout} ms`,
            ),
          ),
        timeout,
      );
    });
    // The abandoned work may still fail later: that rejection is expected, not unhandled.
    work.catch(() => {});
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      throw typed(err, operation);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A write transaction. PostgreSQL/MySQL: READ COMMITTED with row locks, run again on a deadlock.
   * SQLite: BEGIN IMMEDIATE takes the one write lock up front (no upgrade deadlock), and instances
   * of this process on the same file queue here first: better-sqlite3 is synchronous, so waiting
   * on the busy timeout inside the process would block the very event loop that must release it.
   */
  async function writeTx<T>(conn: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
    if (dialectName === 'sqlite') {
      return withFileLock(fileKey, () =>
        conn.connection().execute(async (c) => {
          await sql`begin immediate`.execute(c);
          try {
            const result = await fn(c);
            await sql`commit`.execute(c);
            return result;
          } catch (err) {
            await sql`rollback`.execute(c).catch(() => {});
            throw err;
          }
        }),
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await conn.transaction().setIsolationLevel('read committed').execute(fn);
      } catch (err) {
        if (attempt >= MAX_TX_ATTEMPTS || !spec.isRetryable(err) || closed) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /** A single write statement; on SQLite it queues behind this process's other writers too. */
  function writeOne<T>(conn: Db, fn: (c: Db) => Promise<T>): Promise<T> {
    return dialectName === 'sqlite' ? withFileLock(fileKey, () => fn(conn)) : fn(conn);
  }

  /** Runs dialect SQL written with `?` placeholders, each bound as a parameter by Kysely. */
  async function executeRaw(conn: Db, text: string, parameters: unknown[]): Promise<void> {
    const fragments = text.split('?');
    const strings = Object.assign([...fragments], { raw: [...fragments] });
    await sql(strings as unknown as TemplateStringsArray, ...parameters).execute(conn);
  }

  // ---- shared pieces of the operations -----------------------------------------------------------

  function invalid(row: SessionRow, problem: string): void {
    logger.warn(
      { store: SQL_STORE_NAME, table, sessionId: row.id, problem },
      'tessera: invalid session row treated as no session',
    );
  }

  /** The live record of a row, or why it is not live. */
  function liveRecord(
    row: SessionRow | undefined,
    now: number,
  ): SessionRecord | 'not_found' | 'terminated' | 'expired_idle' | 'expired_absolute' {
    if (!row) return 'not_found';
    const read = readRow(row);
    if (!read.ok) {
      invalid(row, read.problem);
      return 'not_found';
    }
    if (read.status === 'terminated') return 'terminated';
    return expiryReason(read.record, now) ?? read.record;
  }

  /**
   * The miss for a row that is not live. A terminated row says why it ended (the audit row keeps
   * it); one that cleanup retired as a timeout reports its expiry, as before cleanup ran.
   */
  function missOf(row: SessionRow | undefined, reason: MissReason): LookupResult {
    const read = reason === 'terminated' && row ? readRow(row) : null;
    if (!read?.ok || read.status !== 'terminated') return { record: null, reason };
    const ended = read.record.terminationReason;
    const expired =
      ended === 'timeout' ? expiryReason(read.record, read.record.terminatedAt) : null;
    if (expired) return { record: null, reason: expired };
    return { record: null, reason, terminationReason: ended };
  }

  function liveRecords(rows: SessionRow[], now: number): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const row of rows) {
      const r = liveRecord(row, now);
      if (typeof r !== 'string') out.push(r);
    }
    return out;
  }

  /** Makes sure the user's lock row exists (outside the transaction, so no lock is held after). */
  async function ensureUserLockRow(conn: Db, userId: string | null): Promise<void> {
    if (userId === null || !spec.rowLocks) return;
    await executeRaw(conn, spec.insertIgnore(names.userLocks, ['user_id']), [userId]);
  }

  /** Serialises every change to one user's set of sessions (no-op on SQLite: one writer anyway). */
  async function lockUser(trx: Db, userId: string | null): Promise<void> {
    if (userId === null || !spec.rowLocks) return;
    await trx
      .selectFrom('__user_locks')
      .select('user_id')
      .where('user_id', '=', userId)
      .forUpdate()
      .execute();
  }

  async function terminate(
    trx: Db,
    ids: string[],
    reason: TerminationReason,
    now: number,
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await trx
      .updateTable('__sessions')
      .set({ status: 'terminated', terminated_at: now, termination_reason: reason })
      .where('id', 'in', ids)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return n(result.numUpdatedRows);
  }

  /** Inside a transaction that holds the user's lock: evict past the limit, then insert. */
  async function insertWithLimit(
    trx: Db,
    record: SessionRecord,
    options: CreateOptions,
  ): Promise<string[]> {
    let evicted: string[] = [];
    const limit = options.maxSessionsPerUser;
    if (record.userId !== null && limit !== null) {
      let query = trx
        .selectFrom('__sessions')
        .select('id')
        .where('user_id', '=', record.userId)
        .where('status', '=', 'active')
        .where('expires_at', '>', options.now)
        .orderBy('last_seen_at', 'desc')
        .orderBy('id', 'asc');
      if (spec.rowLocks) query = query.forUpdate();
      const mine = await query.execute();
      evicted = mine.slice(Math.max(0, limit - 1)).map((r) => r.id);
      await terminate(trx, evicted, 'limit', options.now);
    }
    await trx.insertInto('__sessions').values(recordToRow(record)).execute();
    return evicted;
  }

  async function migrate(): Promise<void> {
    await op('migrate', async (conn) => {
      migrated = undefined;
      await runMigrations(conn);
    });
  }

  return {
    name: SQL_STORE_NAME,
    dialect: dialectName,
    capabilities,
    get schemaVersion() {
      return schemaVersion;
    },
    migrate,

    create(record, options) {
      return op('create', async (conn) => {
        await ensureUserLockRow(conn, record.userId);
        const evicted = await writeTx(conn, async (trx) => {
          await lockUser(trx, record.userId);
          return insertWithLimit(trx, record, options);
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
        const found = liveRecord(row, now);
        if (typeof found === 'string') return missOf(row, found);
        if (!touch || !touchDue(found, touch, now)) return { record: found, touched: false };
        const next = touched(found, touch, now);
        // Only the time columns change, and only while the session is still active and live:
        // a touch racing a patch keeps the patch's data, one racing a destroy changes nothing.
        const result = await writeOne(conn, (c) =>
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
            .executeTakeFirst(),
        );
        return n(result.numUpdatedRows) > 0
          ? { record: next, touched: true }
          : { record: found, touched: false };
      });
    },

    patch(id: string, patch: SessionPatch, now: number) {
      return op('patch', (conn) =>
        writeTx(conn, async (trx) => {
          let query = trx.selectFrom('__sessions').selectAll().where('id', '=', id);
          if (spec.rowLocks) query = query.forUpdate();
          const found = liveRecord(await query.executeTakeFirst(), now);
          if (typeof found === 'string') return null;
          const next = patched(found, patch);
          await trx
            .updateTable('__sessions')
            .set({ data: JSON.stringify(next.data), csrf: next.csrf, version: next.version })
            .where('id', '=', id)
            .execute();
          return next;
        }),
      );
    },

    destroy(id: string, reason: TerminationReason, now: number) {
      return op('destroy', async (conn) => {
        const result = await writeOne(conn, (c) =>
          c
            .updateTable('__sessions')
            .set({ status: 'terminated', terminated_at: now, termination_reason: reason })
            .where('id', '=', id)
            .where('status', '=', 'active')
            .where('expires_at', '>', now)
            .executeTakeFirst(),
        );
        return n(result.numUpdatedRows) > 0;
      });
    },

    destroyUser(userId, { exceptId, reason, now }) {
      return op('destroyUser', async (conn) => {
        await ensureUserLockRow(conn, userId);
        return writeTx(conn, async (trx) => {
          await lockUser(trx, userId);
          let query = trx
            .selectFrom('__sessions')
            .select('id')
            .where('user_id', '=', userId)
            .where('status', '=', 'active')
            .where('expires_at', '>', now);
          if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
          if (spec.rowLocks) query = query.forUpdate();
          const ids = (await query.execute()).map((r) => r.id);
          await terminate(trx, ids, reason, now);
          return ids;
        });
      });
    },

    regenerate(oldId, record, options) {
      return op('regenerate', async (conn) => {
        await ensureUserLockRow(conn, record.userId);
        return writeTx(conn, async (trx) => {
          // Lock order everywhere: the user's lock first, then session rows.
          await lockUser(trx, record.userId);
          let query = trx.selectFrom('__sessions').selectAll().where('id', '=', oldId);
          if (spec.rowLocks) query = query.forUpdate();
          const old = liveRecord(await query.executeTakeFirst(), options.now);
          if (typeof old === 'string') return { ok: false, evicted: [] };
          await terminate(trx, [oldId], 'rotated', options.now);
          return { ok: true, evicted: await insertWithLimit(trx, record, options) };
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
        return liveRecords(rows, now);
      });
    },

    list(query: ListQuery, now: number) {
      return op('list', async (conn) => {
        const base = conn
          .selectFrom('__sessions')
          .where('status', '=', 'active')
          .where('expires_at', '>', now)
          .$if(query.userId !== undefined, (qb) => qb.where('user_id', '=', query.userId!));
        const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
        const rows = await base
          .selectAll()
          .orderBy('last_seen_at', 'desc')
          .orderBy('id', 'asc')
          .limit(query.limit)
          .offset(query.offset ?? 0)
          .execute();
        return { sessions: liveRecords(rows, now), total: n(total?.n) };
      });
    },

    listTerminated(query: ListQuery, _now: number) {
      return op('listTerminated', async (conn) => {
        const base = conn
          .selectFrom('__sessions')
          .where('status', '=', 'terminated')
          .$if(query.userId !== undefined, (qb) => qb.where('user_id', '=', query.userId!));
        const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
        const rows = await base
          .selectAll()
          .orderBy('terminated_at', 'desc')
          .orderBy('id', 'asc')
          .limit(query.limit)
          .offset(query.offset ?? 0)
          .execute();
        const sessions: TerminatedSessionRecord[] = [];
        for (const row of rows) {
          const read = readRow(row);
          if (read.ok && read.status === 'terminated') sessions.push(read.record);
          else if (!read.ok) invalid(row, read.problem);
        }
        return { sessions, total: n(total?.n) };
      });
    },

    stats(now: number) {
      return op('stats', async (conn) => {
        const live = conn
          .selectFrom('__sessions')
          .where('status', '=', 'active')
          .where('expires_at', '>', now);
        const totals = await live
          .select((eb) => [
            eb.fn.countAll().as('sessions'),
            eb.fn.count('user_id').distinct().as('users'),
            eb.fn
              .sum<number>(eb.case().when('user_id', 'is', null).then(1).else(0).end())
              .as('anonymous'),
          ])
          .executeTakeFirst();
        const stats = emptyStats();
        stats.activeSessions = n(totals?.sessions);
        stats.distinctUsers = n(totals?.users);
        stats.anonymousSessions = n(totals?.anonymous);
        const groups = [
          ['device_browser', stats.byBrowser],
          ['device_os', stats.byOs],
          ['device_type', stats.byDeviceType],
        ] as const;
        for (const [column, into] of groups) {
          const rows = await live
            .select([column, (eb) => eb.fn.countAll().as('n')])
            .groupBy(column)
            .execute();
          for (const row of rows) {
            const key = (row[column] as string | null) ?? 'unknown';
            into[key] = (into[key] ?? 0) + n(row.n);
          }
        }
        return stats;
      });
    },

    cleanup(now: number) {
      return op('cleanup', async (conn) => {
        // Expired sessions become audit rows (reason `timeout`, ended at their expiry), found by
        // the (status, expires_at) index one batch at a time: the cost follows the expired count.
        let ended = 0;
        for (;;) {
          const ids = (
            await conn
              .selectFrom('__sessions')
              .select('id')
              .where('status', '=', 'active')
              .where('expires_at', '<=', now)
              .orderBy('expires_at')
              .limit(batchSize)
              .execute()
          ).map((r) => r.id);
          if (ids.length === 0) break;
          const result = await writeOne(conn, (c) =>
            c
              .updateTable('__sessions')
              .set((eb) => ({
                status: 'terminated',
                terminated_at: eb.ref('expires_at'),
                termination_reason: 'timeout',
              }))
              .where('id', 'in', ids)
              .where('status', '=', 'active')
              .where('expires_at', '<=', now)
              .executeTakeFirst(),
          );
          ended += n(result.numUpdatedRows);
          if (ids.length < batchSize) break;
        }
        // Rows edited into a NULL expiry are never served; retire them too.
        const broken = await writeOne(conn, (c) =>
          c
            .updateTable('__sessions')
            .set({ status: 'terminated', terminated_at: now, termination_reason: 'timeout' })
            .where('status', '=', 'active')
            .where('expires_at', 'is', null)
            .executeTakeFirst(),
        );
        let purged = 0;
        for (;;) {
          const ids = (
            await conn
              .selectFrom('__sessions')
              .select('id')
              .where('status', '=', 'terminated')
              .where('terminated_at', '<', now - retention)
              .orderBy('terminated_at')
              .limit(batchSize)
              .execute()
          ).map((r) => r.id);
          if (ids.length === 0) break;
          const result = await writeOne(conn, (c) =>
            c
              .deleteFrom('__sessions')
              .where('id', 'in', ids)
              .where('status', '=', 'terminated')
              .executeTakeFirst(),
          );
          purged += n(result.numDeletedRows);
          if (ids.length < batchSize) break;
        }
        if (ended || purged || n(broken.numUpdatedRows))
          logger.info(
            { store: SQL_STORE_NAME, table, ended, purged, invalid: n(broken.numUpdatedRows) },
            'tessera: sql cleanup',
          );
        return ended;
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
          detail: `${dialectName} schema v${schemaVersion}`,
        };
      } catch (err) {
        return { ok: false, store: SQL_STORE_NAME, detail: String(describeError(err).message) };
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Kysely.destroy ends the pool / closes the database: only for connections we opened.
      if (db && owned) await db.destroy().catch(() => {});
    },
  };
}
