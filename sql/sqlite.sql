-- Tessera session store schema for sqlite, table "tessera_sessions".
-- Generated from src/stores/sql (schemaSql); createSqlStore().migrate() applies the same statements.
-- Times are epoch milliseconds. expires_at = min(idle_expires_at, absolute_expires_at) and is
-- kept up to date on every touch, so cleanup finds expired rows through an index.
-- status is 'active' or 'terminated'; terminated rows are the audit trail (terminated_at,
-- termination_reason) and are purged by cleanup after the audit retention (default 30 days).
-- <table>_user_locks holds one row per user: creates lock it to enforce the per-user limit.

CREATE TABLE IF NOT EXISTS "tessera_sessions_migrations" (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL);

-- version 1
CREATE TABLE IF NOT EXISTS "tessera_sessions" (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER,
  absolute_expires_at INTEGER,
  expires_at INTEGER,
  ip TEXT,
  user_agent TEXT,
  device_browser TEXT,
  device_browser_version TEXT,
  device_os TEXT,
  device_os_version TEXT,
  device_type TEXT NOT NULL DEFAULT 'unknown',
  csrf TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'active',
  terminated_at INTEGER,
  termination_reason TEXT
);
CREATE INDEX IF NOT EXISTS "tessera_sessions_user_idx" ON "tessera_sessions" (user_id, status);
CREATE INDEX IF NOT EXISTS "tessera_sessions_expiry_idx" ON "tessera_sessions" (status, expires_at);
CREATE INDEX IF NOT EXISTS "tessera_sessions_terminated_idx" ON "tessera_sessions" (status, terminated_at);
CREATE TABLE IF NOT EXISTS "tessera_sessions_user_locks" (user_id TEXT PRIMARY KEY NOT NULL);
INSERT OR IGNORE INTO "tessera_sessions_migrations" (version, applied_at) VALUES (1, 0);
