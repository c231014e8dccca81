/** The benchmark's PostgreSQL: the shared loopback server, in tables named for this run only. */
import pg from 'pg';

export const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs SQL on a short-lived connection. */
export async function postgresQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Drops a store table and its companions (`_user_locks`, `_migrations`). */
export async function dropPostgresTable(table: string): Promise<void> {
  await postgresQuery(
    `DROP TABLE IF EXISTS "${table}", "${table}_user_locks", "${table}_migrations"`,
  );
}

export async function postgresVersion(): Promise<string> {
  const r = await postgresQuery('SHOW server_version');
  return String(r.rows[0]?.server_version ?? 'unknown');
}
