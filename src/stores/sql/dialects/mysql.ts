/** MySQL / MariaDB (`mysql2`): what differs from the shared SQL store. */
import { MysqlDialect } from 'kysely';
import type { DialectSpec } from '../dialect.js';
import { importDriver, urlAddress } from '../dialect.js';

interface Mysql2Module {
  createPool(config: Record<string, unknown>): import('kysely').MysqlPool;
}

const q = (id: string) => `\`${id}\``;

/** Deadlock, and lock wait timeout (InnoDB rolls back only the statement: we retry the transaction). */
const RETRYABLE = new Set([1213, 1205]);
/** Too many connections, server shutdown, connection killed, server gone. */
const UNAVAILABLE = new Set([1040, 1053, 1077, 1927, 2002, 2003, 2006, 2013]);

export const mysql: DialectSpec = {
  name: 'mysql',
  quote: q,
  rowLocks: true,
  onDuplicateKey: true,
  migrations: (t) => [
    [
      // user_id is VARBINARY: compared byte for byte, with no case folding and no PAD SPACE
      // ("alice " is not "alice", which utf8mb4_bin would treat as equal on MariaDB).
      `CREATE TABLE IF NOT EXISTS ${q(t.sessions)} (
  id VARCHAR(128) NOT NULL PRIMARY KEY,
  user_id VARBINARY(1020) NULL,
  data LONGTEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  idle_expires_at BIGINT NULL,
  absolute_expires_at BIGINT NULL,
  expires_at BIGINT NULL,
  ip VARCHAR(255) NULL,
  user_agent TEXT NULL,
  device_browser VARCHAR(255) NULL,
  device_browser_version VARCHAR(255) NULL,
  device_os VARCHAR(255) NULL,
  device_os_version VARCHAR(255) NULL,
  device_type VARCHAR(16) NOT NULL DEFAULT 'unknown',
  csrf VARCHAR(255) NOT NULL,
  version INT NOT NULL DEFAULT 1,
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  terminated_at BIGINT NULL,
  termination_reason VARCHAR(32) NULL,
  INDEX ${q(`${t.sessions}_user_idx`)} (user_id, status),
  INDEX ${q(`${t.sessions}_expiry_idx`)} (status, expires_at),
  INDEX ${q(`${t.sessions}_terminated_idx`)} (status, terminated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      `CREATE TABLE IF NOT EXISTS ${q(t.userLocks)} (
  user_id VARBINARY(1020) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    ],
  ],
  insertIgnore: (table, columns) =>
    `INSERT IGNORE INTO ${q(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,

  async open(url, { poolSize, timeout }) {
    const driver = await importDriver<Mysql2Module>('mysql2', 'The MySQL/MariaDB session store');
    const pool = driver.createPool({
      uri: url,
      connectionLimit: poolSize,
      connectTimeout: timeout,
      charset: 'UTF8MB4_BIN',
      enableKeepAlive: true,
    });
    return { dialect: new MysqlDialect({ pool }), address: urlAddress(url) };
  },

  isUnavailable(err) {
    const e = err as { sqlState?: unknown; errno?: unknown; fatal?: unknown } | null;
    // mysql2 marks connection-level failures fatal; a server SQL error carries an SQLSTATE.
    if (e?.fatal === true || typeof e?.sqlState !== 'string') return true;
    return e.sqlState.startsWith('08') || UNAVAILABLE.has(Number(e.errno));
  },
  isRetryable: (err) => RETRYABLE.has(Number((err as { errno?: unknown } | null)?.errno)),
};
