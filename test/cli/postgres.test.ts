/**
 * The CLI as a process against PostgreSQL (its own table, dropped afterwards): doctor finds the
 * missing schema and says to migrate, migrate creates it, and the commands see an app's sessions.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { createSessionManager } from '../../src/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { requireService } from '../support/services.js';
import { jsonOf, runCli } from './run-cli.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const up = await requireService('PostgreSQL', '127.0.0.1', 5432, 'service postgresql start');
const table = `cli_${randomBytes(4).toString('hex')}`;
const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-pg-'));
const config = join(folder, 'tessera.json');
writeFileSync(config, JSON.stringify({ storage: 'postgres', database: { url: URL, table } }));

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (!up) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  await client.query(`drop table if exists "${table}", "${table}_migrations" cascade`);
  await client.end();
});

describe.skipIf(!up)('tessera CLI on PostgreSQL', () => {
  it('doctor before and after migrate; stats, list and revoke', async () => {
    const before = await runCli(['--config', config, 'doctor']);
    assert.equal(before.code, 1, before.stdout);
    assert.match(before.stdout, /\[ok\]\s+database\s+PostgreSQL \d+/);
    assert.match(
      before.stdout,
      new RegExp(`\\[fail\\]\\s+schema\\s+table "${table}" does not exist yet`),
    );
    assert.match(before.stdout, /fix: run `tessera migrate`/);

    const migrated = await runCli(['--config', config, 'migrate', '--json']);
    const result = jsonOf<{ migrated: boolean; dialect: string; from: number; to: number }>(
      migrated,
    );
    assert.deepEqual([result.migrated, result.dialect, result.from], [true, 'postgres', 0]);
    assert.ok(result.to >= 1);

    const store = createSqlStore({ url: URL, table, migrate: false });
    const manager = createSessionManager({ store, cleanupInterval: false });
    try {
      const erin = await manager.create({ userId: 'erin', userAgent: 'curl/8.5' });
      await manager.create({ userId: 'frank' });
      const [doctor, stats, list] = await Promise.all([
        runCli(['--config', config, 'doctor', '--json']),
        runCli(['--config', config, 'stats', '--json']),
        runCli(['--config', config, 'sessions', 'list', '--user', 'erin']),
      ]);
      assert.equal(doctor.code, 0, doctor.stdout);
      assert.equal(jsonOf<{ healthy: boolean }>(doctor).healthy, true);
      assert.equal(
        jsonOf<{ sessions: { activeSessions: number } }>(stats).sessions.activeSessions,
        2,
      );
      assert.match(list.stdout, new RegExp(`^${erin.session.id}\\s+erin`, 'm'));
      assert.match(list.stdout, /1 of 1 active session\(s\) of erin/);
      const revoked = await runCli(['--config', config, 'sessions', 'revoke', erin.session.id]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal((await manager.validate(erin.token)).session, null);
      const audit = await store.listTerminated({ limit: 5 }, Date.now());
      assert.equal(audit.sessions[0]?.terminationReason, 'admin');
    } finally {
      await manager.close();
      await store.close();
    }
  }, 60_000);
});
