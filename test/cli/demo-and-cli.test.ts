/**
 * The demo (`npm start`) and `tessera` see the same sessions under the same environment: the demo
 * runs on Redis (a server of this test's own, so the default key prefix is safe to use), a user
 * logs in over HTTP, and the CLI with the same variables counts, lists and revokes that session;
 * with SESSION_KEY_PREFIX set, both use it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type StandaloneRedis, startRedis } from '../support/redis-servers.js';
import { freePort, requireCommand, waitForPort } from '../support/services.js';
import { jsonOf, runCli } from './run-cli.js';

const haveRedis = await requireCommand('redis-server', 'apt-get install -y redis-server');

describe.skipIf(!haveRedis)('the demo and the CLI share sessions', () => {
  let redis: StandaloneRedis;
  const demos: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    for (const demo of demos) if (demo.exitCode === null) demo.kill('SIGTERM');
    await redis?.stop();
  });

  /** Starts the demo with `env`, logs alice in over HTTP, and returns her session cookie. */
  async function demoWithAlice(env: Record<string, string>): Promise<string> {
    const port = await freePort();
    const demo = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    demos.push(demo);
    await waitForPort('127.0.0.1', port, 20_000);
    const base = `http://localhost:${port}`;
    const form = await fetch(`${base}/login`);
    const cookies = form.headers.getSetCookie().map((c) => c.split(';')[0]!);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
      body: new URLSearchParams({ _csrf: csrf, username: 'alice', password: 'wonderland' }),
    });
    assert.equal(login.status, 303);
    const session = login.headers.getSetCookie().find((c) => c.startsWith('tessera='));
    assert.ok(session, 'the demo set a session cookie');
    demo.kill('SIGTERM');
    return session.split(';')[0]!;
  }

  it('with the default prefix (the issue: the CLI reported 0 active sessions)', async () => {
    const env = { SESSION_STORAGE: 'redis', REDIS_URL: `redis://127.0.0.1:${redis.port}` };
    await demoWithAlice(env);
    const stats = await runCli(['stats', '--json'], env);
    assert.equal(stats.code, 0, stats.stderr);
    const counts = jsonOf<{ sessions: { activeSessions: number; distinctUsers: number } }>(stats);
    assert.equal(counts.sessions.distinctUsers, 1, 'alice, seen by the CLI');
    const listed = jsonOf<{ total: number; sessions: { id: string }[] }>(
      await runCli(['sessions', 'list', '--user', 'user-alice', '--json'], env),
    );
    assert.equal(listed.total, 1);
    // Revoked by prefix, as the dashboard shows it.
    const revoked = await runCli(['sessions', 'revoke', listed.sessions[0]!.id.slice(0, 10)], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = jsonOf<{ total: number }>(
      await runCli(['sessions', 'list', '--user', 'user-alice', '--json'], env),
    );
    assert.equal(after.total, 0);
  }, 60_000);

  it('with SESSION_KEY_PREFIX, for both', async () => {
    const env = {
      SESSION_STORAGE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      SESSION_KEY_PREFIX: 'shop:',
    };
    await demoWithAlice(env);
    const client = createClient({ url: env.REDIS_URL });
    await client.connect();
    try {
      const keys = await client.keys('{shop:}s:*');
      assert.equal(keys.length, 1, 'the demo wrote under the prefix');
    } finally {
      await client.close();
    }
    const listed = jsonOf<{ total: number }>(
      await runCli(['sessions', 'list', '--user', 'user-alice', '--json'], env),
    );
    assert.equal(listed.total, 1, 'the CLI reads under the same prefix');
    const other = jsonOf<{ total: number }>(
      await runCli(['sessions', 'list', '--user', 'user-alice', '--json'], {
        ...env,
        SESSION_KEY_PREFIX: 'elsewhere:',
      }),
    );
    assert.equal(other.total, 0, 'and another prefix is another namespace');
  }, 60_000);
});
