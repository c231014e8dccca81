/**
 * Every CLI command as a process against SQLite, configured through a `--config` file: doctor
 * before and after migrate, stats, list, revoke by id and by user (audit reason `admin`), and a
 * cleanup that removes exactly the expired sessions.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { StoreStats } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { jsonOf, runCli, STACK_LINE } from './run-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-sqlite-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const UA_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const UA_FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

describe('tessera CLI on SQLite (--config file)', () => {
  const file = join(folder, 'sessions.db');
  const table = `cli_${randomBytes(4).toString('hex')}`;
  const config = join(folder, 'tessera.json');
  writeFileSync(
    config,
    JSON.stringify({ storage: 'sqlite', database: { url: `sqlite:${file}`, table } }),
  );
  const cli = (...args: string[]) => runCli(['--config', config, ...args]);

  it('doctor, migrate, stats, list, revoke and cleanup', async () => {
    // Before migrate: the file does not exist, and doctor says what to run.
    const sick = await cli('doctor');
    assert.equal(sick.code, 1, sick.stdout + sick.stderr);
    assert.match(sick.stdout, /\[fail\]\s+database\s+the SQLite file .* does not exist/);
    assert.match(sick.stdout, /fix: run `tessera migrate`/);

    const migrated = await cli('migrate');
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(
      migrated.stdout,
      new RegExp(`Migrated sqlite table "${table}" from schema version 0 to [1-9]`),
    );
    const again = jsonOf<{ migrated: boolean; from: number; to: number }>(
      await cli('migrate', '--json'),
    );
    assert.equal(again.migrated, false);
    assert.equal(again.from, again.to);

    const healthy = await cli('doctor', '--json');
    assert.equal(healthy.code, 0, healthy.stdout);
    const report = jsonOf<{
      healthy: boolean;
      checks: { name: string; status: string; detail: string }[];
    }>(healthy);
    assert.equal(report.healthy, true);
    assert.match(report.checks.find((c) => c.name === 'database')?.detail ?? '', /^SQLite 3\.\d+/);
    assert.match(
      report.checks.find((c) => c.name === 'database latency')?.detail ?? '',
      /ms per round trip/,
    );
    assert.equal(report.checks.find((c) => c.name === 'schema')?.status, 'ok');

    // Sessions made by an app on the same database: three live, two expired an hour ago.
    const store = createSqlStore({ url: `sqlite:${file}`, table });
    const manager = createSessionManager({ store, cleanupInterval: false });
    const past = createSessionManager({
      store,
      cleanupInterval: false,
      idleTimeout: '30m',
      clock: () => Date.now() - 2 * 3_600_000,
    });
    try {
      const alice = await manager.create({
        userId: 'alice',
        ip: '203.0.113.7',
        userAgent: UA_IPHONE,
      });
      const alice2 = await manager.create({
        userId: 'alice',
        ip: '203.0.113.8',
        userAgent: UA_FIREFOX,
      });
      const bob = await manager.create({
        userId: 'bob',
        ip: '198.51.100.1',
        userAgent: UA_FIREFOX,
      });
      await past.create({ userId: 'old-1' });
      await past.create({ userId: 'old-2' });

      const stats = jsonOf<{
        store: string;
        sessions: {
          activeSessions: number;
          distinctUsers: number;
          byDeviceType: Record<string, number>;
        };
      }>(await cli('stats', '--json'));
      assert.equal(stats.store, 'sql');
      assert.equal(stats.sessions.activeSessions, 3);
      assert.equal(stats.sessions.distinctUsers, 2);
      assert.deepEqual(stats.sessions.byDeviceType, { desktop: 2, mobile: 1 });
      const statsText = await cli('stats');
      assert.match(statsText.stdout, /active sessions\s+3/);
      assert.match(statsText.stdout, /by device type\s+desktop 2, mobile 1/);
      // Logins counted from the rows: three now, two two hours ago; ages of the three live ones.
      const analytics = jsonOf<{
        sessions: StoreStats & { logins: { perHour: { start: string; count: number }[] } };
      }>(await cli('stats', '--json')).sessions;
      assert.equal(analytics.logins.lastHour, 3);
      assert.equal(
        analytics.logins.perHour.reduce((sum, h) => sum + h.count, 0),
        5,
      );
      assert.deepEqual(
        { count: analytics.sessionAge?.count, sampled: analytics.sessionAge?.sampled },
        { count: 3, sampled: false },
      );
      assert.equal(analytics.server, undefined);
      assert.match(statsText.stdout, /logins, last hour\s+3\n/);
      assert.match(
        statsText.stdout,
        /logins per hour\s+(\d+ ){23}\d+\s+\(UTC, last 24 h, oldest first\)/,
      );
      assert.match(statsText.stdout, /session age\s+median \d+s, p95 \d+s \(3 live sessions\)/);

      const listed = jsonOf<{
        total: number;
        sessions: { id: string; userId: string; ip: string; device: { type: string } }[];
      }>(await cli('sessions', 'list', '--user', 'alice', '--json'));
      assert.equal(listed.total, 2);
      assert.deepEqual(
        listed.sessions.map((s) => s.id).sort(),
        [alice.session.id, alice2.session.id].sort(),
      );
      const limited = jsonOf<{ total: number; sessions: unknown[] }>(
        await cli('sessions', 'list', '--limit', '1', '--json'),
      );
      assert.equal(limited.total, 3);
      assert.equal(limited.sessions.length, 1);
      const table_ = await cli('sessions', 'list');
      assert.match(table_.stdout, /^ID\s+USER\s+IP\s+DEVICE/m);
      assert.match(
        table_.stdout,
        new RegExp(
          `^${bob.session.id}\\s+bob\\s+198\\.51\\.100\\.1\\s+Firefox / Ubuntu / desktop`,
          'm',
        ),
      );
      assert.match(table_.stdout, /3 of 3 active session\(s\)/);

      const revoked = await cli('sessions', 'revoke', alice.session.id);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(revoked.stdout.trim(), `Revoked session ${alice.session.id}.`);
      assert.equal((await manager.validate(alice.token)).session, null);
      assert.ok((await manager.validate(alice2.token)).session, 'the other session of alice lives');
      const audit = await store.listTerminated({ limit: 10 }, Date.now());
      assert.equal(
        audit.sessions.find((s) => s.id === alice.session.id)?.terminationReason,
        'admin',
      );

      const twice = await cli('sessions', 'revoke', alice.session.id);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /no live session/);

      const byUser = jsonOf<{ revoked: number }>(
        await cli('sessions', 'revoke', '--user', 'alice', '--json'),
      );
      assert.equal(byUser.revoked, 1);
      assert.equal((await manager.validate(alice2.token)).session, null);

      const cleaned = await cli('cleanup');
      assert.equal(cleaned.code, 0, cleaned.stderr);
      // Not a terminal: plain progress lines on stderr, the result on stdout.
      assert.match(cleaned.stderr, /^cleanup 1\/\d+: \d+ removed/m);
      assert.ok(!cleaned.stderr.includes('\r') && !cleaned.stderr.includes('\u001b['));
      assert.match(
        cleaned.stdout,
        /^Removed 2 expired session\(s\) from the sql store in \d+ ms\.$/m,
      );
      const none = jsonOf<{ removed: number }>(await cli('cleanup', '--json'));
      assert.equal(none.removed, 0);
      assert.ok((await manager.validate(bob.token)).session, 'cleanup leaves live sessions');
      for (const run of [sick, migrated, statsText, table_, revoked, cleaned])
        assert.doesNotMatch(run.stderr, STACK_LINE);
    } finally {
      await past.close();
      await manager.close();
      await store.close();
    }
  }, 90_000);
});
