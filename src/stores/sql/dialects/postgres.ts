/** PostgreSQL (`pg`): what differs from the shared SQL store. */
import { PostgresDialect } from 'kysely';
import type { DialectSpec } from '../dialect.js';
import { errorCode, importDriver, urlAddress } from '../dialect.js';

interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => import('kysely').PostgresPool & PgEvents<PgEvents<unknown>>;
}

interface PgEvents<Client> {
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'connect', listener: (client: Client) => void): unknown;
}

const q = (id: string) => `"${id}"`;

export const postgres: DialectSpec = {
  name: 'postgres',
  quote: q,
  rowLocks: true,
  onDuplicateKey: false,
  migrations: (t) => [
    [
      `CREATE TABLE IF NOT EXISTS ${q(t.sessions)} (
  id VARCHAR(128) PRIMARY KEY,
  user_id VARCHAR(255),
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  idle_expires_at BIGINT,
  absolute_expires_at BIGINT,
  expires_at BIGINT,
  ip VARCHAR(255),
  user_agent TEXT,
  device_browser VARCHAR(255),
  device_browser_version VARCHAR(255),
  device_os VARCHAR(255),
  device_os_version VARCHAR(255),
  device_type VARCHAR(16) NOT NULL DEFAULT 'unknown',
  csrf VARCHAR(255) NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  terminated_at BIGINT,
  termination_reason VARCHAR(32)
)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_user_idx`)} ON ${q(t.sessions)} (user_id, status)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_expiry_idx`)} ON ${q(t.sessions)} (status, expires_at)`,
      `CREATE INDEX IF NOT EXISTS ${q(`${t.sessions}_terminated_idx`)} ON ${q(t.sessions)} (status, terminated_at)`,
      `CREATE TABLE IF NOT EXISTS ${q(t.userLocks)} (user_id VARCHAR(255) PRIMARY KEY)`,
    ],
  ],
  insertIgnore: (table, columns) =>
    `INSERT INTO ${q(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,

  async open(url, { poolSize, timeout }) {
    const pg = await importDriver<PgModule>('pg', 'The PostgreSQL session store');
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      // A connection the server ended while idle must not crash the process: the pool drops it.
      keepAlive: true,
    });
    // A connection the server ends (restart, pg_terminate_backend) emits 'error' on the idle pool
    // or on a checked-out client between queries; unheard, that would crash the process. The pool
    // drops such a client, the next operation gets a fresh one: the store recovers by itself.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    return { dialect: new PostgresDialect({ pool }), address: urlAddress(url) };
  },

  isUnavailable(err) {
    const e = err as { severity?: unknown } | null;
    const code = errorCode(err);
    // A server-side SQL error carries a severity and a five-character SQLSTATE; anything else
    // (ECONNREFUSED, a closed socket, a pool timeout) is the connection failing.
    if (typeof e?.severity !== 'string' || !code || code.length !== 5) return true;
    return /^(08|53|57)/.test(code);
  },
  isRetryable: (err) => errorCode(err) === '40P01' || errorCode(err) === '40001',
};
