/**
 * The SQL store's schema: the logical table names the queries use (a Kysely plugin swaps in the
 * configured ones), the versioned migrations that create the tables, and `schemaSql`, the same
 * migrations as one script for teams that apply them with their own tooling.
 */
import {
  IdentifierNode,
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
} from 'kysely';
import type { SqlDialect } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { type DialectSpec, SQL_STORE_NAME, type TableNames, tableNames } from './dialect.js';
import { DIALECTS } from './dialects/index.js';
import type { SessionRow } from './rows.js';

/** Logical table names used in the queries; `TableNamePlugin` swaps in the configured ones. */
export interface Tables {
  __sessions: SessionRow;
  __user_locks: { user_id: string };
  __migrations: { version: number; applied_at: number };
}
export type Db = Kysely<Tables>;

/** Rewrites the logical table names of every query into the configured ones. */
export class TableNamePlugin implements KyselyPlugin {
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

/** A count as the drivers return it (pg: a string, others: a number). */
export const n = (value: unknown): number => Number(value ?? 0);

/** Runs dialect SQL written with `?` placeholders, each bound as a parameter by Kysely. */
export async function executeRaw(conn: Db, text: string, parameters: unknown[]): Promise<void> {
  const fragments = text.split('?');
  const strings = Object.assign([...fragments], { raw: [...fragments] });
  await sql(strings as unknown as TemplateStringsArray, ...parameters).execute(conn);
}

function migrationsTableSql(spec: DialectSpec, names: TableNames): string {
  return `CREATE TABLE IF NOT EXISTS ${spec.quote(names.migrations)} (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)`;
}

/**
 * Applies the migrations the database has not recorded yet and returns the schema version it is
 * at. Every statement is idempotent (IF NOT EXISTS), so two processes migrating at once is fine.
 */
export async function runMigrations(
  conn: Db,
  spec: DialectSpec,
  names: TableNames,
  logger: Logger,
): Promise<number> {
  await sql.raw(migrationsTableSql(spec, names)).execute(conn);
  const applied = new Set(
    (await conn.selectFrom('__migrations').select('version').execute()).map((r) => n(r.version)),
  );
  const versions = spec.migrations(names);
  for (const [index, statements] of versions.entries()) {
    const version = index + 1;
    if (applied.has(version)) continue;
    for (const statement of statements) await sql.raw(statement).execute(conn);
    await executeRaw(conn, spec.insertIgnore(names.migrations, ['version', 'applied_at']), [
      version,
      Date.now(),
    ]);
    logger.info(
      { store: SQL_STORE_NAME, table: names.sessions, version },
      'tessera: sql schema migrated',
    );
  }
  return versions.length;
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
