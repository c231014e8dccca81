/**
 * Before a command other than `migrate` (and `doctor`, which reports instead) opens an SQL store:
 * an SQLite file must already exist, since opening it would silently create an empty database
 * (a typo in DATABASE_URL then looked like "0 sessions"), and the session table must be there, so
 * a database that was never migrated is named as such on every dialect rather than failing as
 * "[sql] stats failed".
 */
import { existsSync } from 'node:fs';
import type { CliConfig } from './config.js';
import { SetupError } from './context.js';
import { sessionTableExists, sqliteFile, sqlLocation } from './probes.js';

export async function assertSqlReady(config: CliConfig): Promise<void> {
  const { env } = config;
  const usesDatabase = [env.storage, env.fallback].some((k) => k === 'sql' || k === 'hybrid');
  const database = env.database;
  if (!usesDatabase || !database) return;
  const setting =
    config.source === 'environment' ? 'DATABASE_URL' : `database.url in ${config.source}`;
  if (database.dialect === 'sqlite') {
    const file = sqliteFile(database);
    if (file === null) return; // in memory: nothing to find, and nothing this process could see
    if (!existsSync(file))
      throw new SetupError(
        `the SQLite file ${file} does not exist: check ${setting}, or run \`tessera migrate\` to create it`,
      );
  }
  if ((await sessionTableExists(database)) === false)
    throw new SetupError(
      `table ${database.table} does not exist here: run \`tessera migrate\` (${sqlLocation(database)}, from ${setting})`,
    );
}
