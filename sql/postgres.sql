-- Tessera session store schema for postgres, table "tessera_sessions".
-- Generated from src/stores/sql (schemaSql); createSqlStore().migrate() applies the same statements.
-- Times are epoch milliseconds. expires_at = min(idle_expires_at, absolute_expires_at) and is
-- kept up to date on every touch, so cleanup finds expired rows through an index.
-- status is 'active' or 'terminated'; terminated rows are the audit trail (terminated_at,
-- termination_reason) and are purged by cleanup after the audit retention (default 30 days).
-- <table>_user_locks holds one row per user: creates lock it to enforce the per-user limit.

CREATE TABLE IF NOT EXISTS "tessera_sessions_migrations" (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL);

-- version 1
CREATE TABLE IF NOT EXISTS "tessera_sessions" (
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
);
CREATE INDEX IF NOT EXISTS "tessera_sessions_user_idx" ON "tessera_sessions" (user_id, status);
CREATE INDEX IF NOT EXISTS "tessera_sessions_expiry_idx" ON "tessera_sessions" (status, expires_at);
CREATE INDEX IF NOT EXISTS "tessera_sessions_terminated_idx" ON "tessera_sessions" (status, terminated_at);
CREATE TABLE IF NOT EXISTS "tessera_sessions_user_locks" (user_id VARCHAR(255) PRIMARY KEY);
INSERT INTO "tessera_sessions_migrations" (version, applied_at) VALUES (1, 0) ON CONFLICT DO NOTHING;
