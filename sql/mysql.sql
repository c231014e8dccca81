-- Tessera session store schema for mysql, table "tessera_sessions".
-- Generated from src/stores/sql (schemaSql); createSqlStore().migrate() applies the same statements.
-- Times are epoch milliseconds. expires_at = min(idle_expires_at, absolute_expires_at) and is
-- kept up to date on every touch, so cleanup finds expired rows through an index.
-- status is 'active' or 'terminated'; terminated rows are the audit trail (terminated_at,
-- termination_reason) and are purged by cleanup after the audit retention (default 30 days).
-- <table>_user_locks holds one row per user: creates lock it to enforce the per-user limit.

CREATE TABLE IF NOT EXISTS `tessera_sessions_migrations` (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL);

-- version 1
CREATE TABLE IF NOT EXISTS `tessera_sessions` (
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
  INDEX `tessera_sessions_user_idx` (user_id, status),
  INDEX `tessera_sessions_expiry_idx` (status, expires_at),
  INDEX `tessera_sessions_terminated_idx` (status, terminated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS `tessera_sessions_user_locks` (
  user_id VARBINARY(1020) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT IGNORE INTO `tessera_sessions_migrations` (version, applied_at) VALUES (1, 0);
