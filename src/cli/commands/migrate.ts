/** `tessera migrate`: creates or upgrades the SQL schema (the SQL store, or the hybrid store's database). */

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createStoreFromConfig } from '../../stores/from-config.js';
import type { SqlStore } from '../../stores/sql/index.js';
import { type CommandContext, EXIT, SetupError, UsageError } from '../context.js';
import { appliedSchemaVersion, sqliteFile } from '../probes.js';

export async function migrateCommand({ args, options, out, config }: CommandContext) {
  if (args.length) throw new UsageError(`migrate takes no argument "${args[0]}"`);
  const { env, store: storeOptions } = config();
  const database = env.database;
  if (!database) {
    const message = `nothing to migrate: the ${env.storage} store has no SQL schema (set DATABASE_URL for the sql or hybrid store)`;
    if (options.json) out.json({ migrated: false, reason: message });
    else out.line(`Nothing to migrate: the ${env.storage} store has no SQL schema.`);
    return EXIT.ok;
  }
  const file = database.dialect === 'sqlite' ? sqliteFile(database) : null;
  // SQLite creates the file but not its folder: say which folder, not "unable to open database".
  if (file !== null && !existsSync(dirname(file)))
    throw new SetupError(
      `the folder ${dirname(file)} of the SQLite file ${file} does not exist: create it first`,
    );
  const before = await appliedSchemaVersion(database);
  const store = (await createStoreFromConfig(
    { storage: 'sql', database },
    { ...storeOptions, migrate: false },
  )) as SqlStore;
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const after = store.schemaVersion;
  const target = `${database.dialect} table "${database.table}"`;
  if (options.json)
    out.json({
      migrated: after !== before,
      dialect: database.dialect,
      table: database.table,
      from: before,
      to: after,
    });
  else if (after === before) out.line(`The schema of ${target} is up to date (version ${after}).`);
  else out.line(`Migrated ${target} from schema version ${before} to ${after}.`);
  return EXIT.ok;
}
