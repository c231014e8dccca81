/**
 * The CLI as a process against Redis (the shared server, under a key prefix of its own), configured
 * through the environment: doctor reports the server version and latency, stats and list see what
 * an app created, revoke ends sessions, cleanup removes exactly the expired ones.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, describe, it } from 'vitest';
import type { StoreStats } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { requireService } from '../support/services.js';
import { jsonOf, runCli, STACK_LINE } from './run-cli.js';

const up = await requireService(
  'Redis',
  '127.0.0.1',
  6379,
  'redis-server --port 6379 --save "" --daemonize yes',
);
const prefix = `cli-test-${randomBytes(4).toString('hex')}:`;
const env = {
  SESSION_STORAGE: 'redis',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SESSION_KEY_PREFIX: prefix,
};

afterAll(async () => {
  if (!up) return;
  const client = createClient({ url: env.REDIS_URL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 }))
    if (keys.length) await client.del(keys);
  await client.close();
});

describe.skipIf(!up)('tessera CLI on Redis (environment)', () => {
  it('doctor, stats, list, revoke and cleanup', async () => {
    const store = createRedisStore({ url: env.REDIS_URL, prefix });
    const manager = createSessionManager({ store, cleanupInterval: false });
    const past = createSessionManager({
      store,
      cleanupInterval: false,
      idleTimeout: '30m',
      clock: () => Date.now() - 2 * 3_600_000,
    });
    try {
      const carol = await manager.create({
        userId: 'carol',
        ip: '192.0.2.1',
        userAgent: 'curl/8.5',
      });
      const dave = [
        await manager.create({ userId: 'dave' }),
        await manager.create({ userId: 'dave' }),
      ];
      await manager.create({ userId: null });
      for (let i = 0; i < 3; i++) await past.create({ userId: `gone-${i}` });

      const [doctor, stats, list] = await Promise.all([
        runCli(['doctor'], env),
        runCli(['stats', '--json'], env),
        runCli(['sessions', 'list', '--json'], env),
      ]);
      assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
      assert.match(doctor.stdout, /\[ok\]\s+redis\s+Redis \d+\.\d+\.\d+ at 127\.0\.0\.1:6379/);
      assert.match(doctor.stdout, /\[ok\]\s+redis latency\s+[\d.]+ ms per round trip/);
      assert.match(doctor.stdout, /^Healthy/m);
      const numbers = jsonOf<{
        store: string;
        sessions: { activeSessions: number; distinctUsers: number; anonymousSessions: number };
      }>(stats);
      assert.equal(numbers.store, 'redis');
      assert.deepEqual(
        [
          numbers.sessions.activeSessions,
          numbers.sessions.distinctUsers,
          numbers.sessions.anonymousSessions,
        ],
        [4, 2, 1],
      );
      // The analytics: 3 logins now (the anonymous session is none), 3 two hours ago; exact ages
      // (under the sample size); the server's own figures.
      const analytics = jsonOf<{
        sessions: StoreStats & { logins: { perHour: { start: string; count: number }[] } };
      }>(stats).sessions;
      assert.equal(analytics.logins.lastHour, 3);
      assert.equal(analytics.logins.perHour.length, 24);
      assert.equal(
        analytics.logins.perHour.reduce((sum, h) => sum + h.count, 0),
        6,
      );
      assert.match(analytics.logins.perHour[23]!.start, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
      assert.equal(analytics.sessionAge?.count, 4);
      assert.equal(analytics.sessionAge?.sampled, false);
      assert.ok(analytics.server && analytics.server.usedMemoryBytes > 0);
      const text = await runCli(['stats'], env);
      assert.match(text.stdout, /logins, last hour\s+3\n/);
      assert.match(text.stdout, /session age\s+median \d+s, p95 \d+s \(4 live sessions\)/);
      assert.match(text.stdout, /server memory\s+[\d.]+ MiB/);
      assert.match(text.stdout, /keyspace hit ratio [\d.]+% \(\d+ hits, \d+ misses\)/);
      const listed = jsonOf<{
        total: number;
        sessions: { id: string; userId: string | null; ip: string | null }[];
      }>(list);
      assert.equal(listed.total, 4);
      assert.equal(listed.sessions.find((s) => s.id === carol.session.id)?.ip, '192.0.2.1');

      const [one, all] = await Promise.all([
        runCli(['sessions', 'revoke', carol.session.id, '--json'], env),
        runCli(['sessions', 'revoke', '--user', 'dave'], env),
      ]);
      assert.deepEqual(jsonOf(one), { id: carol.session.id, revoked: true });
      assert.equal(all.stdout.trim(), 'Revoked 2 session(s) of dave.');
      assert.equal((await manager.validate(carol.token)).session, null);
      for (const d of dave) assert.equal((await manager.validate(d.token)).session, null);

      const cleaned = await runCli(['cleanup', '--json'], env);
      assert.equal(cleaned.code, 0, cleaned.stderr);
      assert.equal(jsonOf<{ removed: number }>(cleaned).removed, 3);
      assert.equal(cleaned.stderr, '', '--json prints no progress when not on a terminal');
      const after = jsonOf<{ sessions: { activeSessions: number } }>(
        await runCli(['stats', '--json'], env),
      );
      assert.equal(after.sessions.activeSessions, 1, 'only the anonymous session is left');
      for (const run of [doctor, stats, list, one, all, cleaned])
        assert.doesNotMatch(run.stderr, STACK_LINE);
    } finally {
      await past.close();
      await manager.close();
      await store.close();
    }
  }, 60_000);
});
