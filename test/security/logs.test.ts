/**
 * No token, CSRF token or password in any log line. One pino-compatible logger captures every line
 * from the manager and the stores across a run with logins, failures, rate limits, CSRF
 * rejections, hijack signals, refused cookies and store outages (whose connection URLs carry a
 * password); then every line, and every error the run produced, is searched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { createSessionManager } from '../../src/index.js';
import { createCookieStore } from '../../src/stores/cookie/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import { deleteRedisPrefix } from '../fuzz/shared-redis.js';
import { freePort, requireService } from '../support/services.js';
import { BrowserJar, browse, PASSWORD, securityApp } from './app.js';

const redisOk = await requireService('Redis', '127.0.0.1', 6379, 'apt-get install -y redis-server');
const prefix = `sec-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  if (redisOk) await deleteRedisPrefix(prefix);
});

/** Every line as pino would serialise it (object and message), in one list. */
function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push(
      JSON.stringify({ level, ...obj, msg }, (_k, v) =>
        v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
      ),
    );
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

describe('no secret in any log line', () => {
  it('logins, failures, rate limits, CSRF rejections, hijack signals, cookie refusals and outages', async () => {
    const logger = capturingLogger();
    const secrets: string[] = [PASSWORD];
    const errors: string[] = [];

    // 1. A healthy app: logins, wrong passwords, a rate limit, CSRF rejections, an IP change.
    const store = redisOk ? createRedisStore({ port: 6379, prefix, logger }) : createMemoryStore();
    const manager = createSessionManager({
      store,
      logger,
      cleanupInterval: false,
      ipChange: 'log',
      rateLimit: { maxAttempts: 3 },
    });
    const app = securityApp(manager);
    const victim = new BrowserJar();
    await browse(app, victim, 'GET', '/whoami');
    secrets.push(victim.csrf);
    for (const password of ['hunter2-wrong-1', 'hunter2-wrong-2']) {
      secrets.push(password);
      const r = await browse(app, victim, 'POST', '/login', {
        form: { username: 'alice', password },
      });
      assert.equal(r.status, 401);
    }
    const ok = await browse(app, victim, 'POST', '/login', {
      form: { username: 'alice', password: PASSWORD },
    });
    assert.equal(ok.status, 200);
    secrets.push(victim.session!, victim.csrf);
    assert.equal(
      (await browse(app, victim, 'POST', '/set', { csrf: 'forged-csrf-token-value' })).status,
      403,
    );
    secrets.push('forged-csrf-token-value');
    assert.equal((await browse(app, victim, 'POST', '/set', { csrf: '' })).status, 403);
    await browse(app, victim, 'GET', '/whoami', {
      headers: { 'x-forwarded-for': '198.51.100.77' },
    });
    const attacker = new BrowserJar();
    await browse(app, attacker, 'GET', '/whoami');
    for (let i = 0; i < 5; i++) {
      const password = `guess-${i}-${randomBytes(4).toString('hex')}`;
      secrets.push(password);
      await browse(app, attacker, 'POST', '/login', { form: { username: 'bob', password } });
    }
    assert.ok(
      logger.lines.some((l) => l.includes('rate-limited')),
      'the rate limit was logged',
    );
    const regenerated = await manager.regenerate(victim.session!);
    secrets.push(regenerated!.token, regenerated!.csrfToken);
    await browse(app, victim, 'POST', '/logout');
    await manager.validate(victim.session!);
    await manager.close();
    await store.close();

    // 2. Outages: stores whose URLs carry a password, pointed at a closed port.
    const deadPort = await freePort();
    const redisPassword = `redis-pw-${randomBytes(6).toString('hex')}`;
    const pgPassword = `pg-pw-${randomBytes(6).toString('hex')}`;
    secrets.push(redisPassword, pgPassword);
    for (const down of [
      createRedisStore({
        url: `redis://app:${redisPassword}@127.0.0.1:${deadPort}/0`,
        logger,
        connectTimeout: 300,
      }),
      createSqlStore({
        url: `postgres://app:${pgPassword}@127.0.0.1:${deadPort}/test`,
        logger,
        timeout: 500,
      }),
    ]) {
      const m = createSessionManager({ store: down, logger, cleanupInterval: false });
      const downApp = securityApp(m);
      const jar = new BrowserJar();
      jar.cookies.set('__Host-tessera', victim.session ?? regenerated!.token);
      const r = await browse(downApp, jar, 'GET', '/whoami');
      assert.equal(r.status, 503);
      errors.push(JSON.stringify(r.body));
      await m
        .create({ userId: 'x' })
        .catch((err: Error) =>
          errors.push(
            `${err.message}\n${err.stack}\n${String((err as { cause?: unknown }).cause)}`,
          ),
        );
      await m.close();
      await down.close().catch(() => {});
    }

    // 3. The cookie store refusing tampered cookies.
    const secret = randomBytes(32).toString('base64');
    const cookies = createCookieStore({ secrets: [secret], logger });
    secrets.push(secret);
    const sealed = await cookies.seal(sampleRecord(), Date.now());
    const value = sealed.set[0]!.value;
    secrets.push(value.slice(6, 60));
    await cookies.unseal({ tessera: `${value.slice(0, -3)}AAA` }, Date.now());
    await cookies.unseal({ tessera: 'garbage' }, Date.now());

    assert.ok(logger.lines.length >= 10, `only ${logger.lines.length} lines captured`);
    const everything = [...logger.lines, ...errors].join('\n');
    for (const secret of secrets) {
      assert.ok(secret.length >= 8, 'a secret long enough to search for');
      assert.ok(!everything.includes(secret), `a log line or error holds ${secret.slice(0, 4)}…`);
    }
  }, 30_000);
});
