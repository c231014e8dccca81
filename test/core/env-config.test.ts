/**
 * `configFromEnv()` under the reference's variable names (issue 15 §2): `REDIS_POOL_SIZE`,
 * `REDIS_CONNECT_TIMEOUT`, `SESSION_TIMEOUT_MINUTES`, `CLEANUP_INTERVAL_MINUTES`,
 * `MEMCACHED_HOST` / `MEMCACHED_PORT`, beside Tessera's own; and a warning, naming the variable
 * and never its value, for each `SESSION_*`, `REDIS_*` or `MEMCACHED_*` variable it does not read
 * or ignores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { configFromEnv } from '../../src/core/env-config.js';
import { CONFIG_ENV_VARIABLES, nearestVariable } from '../../src/core/env-names.js';
import { ConfigError } from '../../src/core/errors.js';
import { runCli } from '../cli/run-cli.js';

const MIN = 60_000;

/** configFromEnv with a logger that keeps what it was told. */
function read(env: Record<string, string>) {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const config = configFromEnv(env, {
    logger: { warn: (fields, message) => warnings.push({ fields, message: message ?? '' }) },
  });
  return { config, warnings };
}

describe("configFromEnv: the reference's variable names", () => {
  it('reads the production Redis example: pool size, connect timeout in seconds, minutes', () => {
    const { config, warnings } = read({
      SESSION_STORAGE: 'redis',
      REDIS_HOST: 'redis.example.com',
      REDIS_PORT: '6379',
      REDIS_PASSWORD: 'secure-redis-password',
      REDIS_DB: '0',
      REDIS_POOL_SIZE: '20',
      REDIS_CONNECT_TIMEOUT: '10',
      MAX_SESSIONS_PER_USER: '5',
      SESSION_TIMEOUT_MINUTES: '30',
      CLEANUP_INTERVAL_MINUTES: '15',
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.redis?.host, 'redis.example.com');
    assert.equal(config.redis?.poolSize, 20);
    assert.equal(config.redis?.connectTimeout, 10_000, 'REDIS_CONNECT_TIMEOUT=10 is ten seconds');
    assert.equal(config.idleTimeout, 30 * MIN);
    assert.equal(config.cleanupInterval, 15 * MIN);
    assert.equal(config.maxSessionsPerUser, 5);
    assert.equal(
      read({ REDIS_HOST: 'h', REDIS_CONNECT_TIMEOUT: '750ms' }).config.redis?.connectTimeout,
      750,
    );
  });

  it('MEMCACHED_HOST=cache.internal is the server, not localhost', () => {
    const { config, warnings } = read({
      SESSION_STORAGE: 'memcached',
      MEMCACHED_HOST: 'cache.internal',
      MEMCACHED_PORT: '11311',
      MEMCACHED_POOL_SIZE: '15',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.memcached?.servers, [{ host: 'cache.internal', port: 11311 }]);
    assert.equal(config.memcached?.poolSize, 15);
    // Like MEMCACHED_SERVERS, MEMCACHED_HOST alone configures Memcached (the hybrid store's cache).
    const hybrid = read({
      SESSION_STORAGE: 'hybrid',
      DATABASE_URL: 'sqlite:x.db',
      MEMCACHED_HOST: 'mc',
    });
    assert.deepEqual(hybrid.config.memcached?.servers, [{ host: 'mc', port: 11211 }]);
  });

  it("Tessera's own name and the reference's: the same value is fine, two values are a ConfigError", () => {
    assert.equal(
      read({ SESSION_IDLE_TIMEOUT: '30m', SESSION_TIMEOUT_MINUTES: '30' }).config.idleTimeout,
      30 * MIN,
    );
    assert.throws(
      () => read({ SESSION_IDLE_TIMEOUT: '45m', SESSION_TIMEOUT_MINUTES: '30' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.field === 'SESSION_TIMEOUT_MINUTES' &&
        /SESSION_IDLE_TIMEOUT says 2700000 ms; set only one of them/.test(err.message),
    );
  });

  it('a bad value is a ConfigError naming the variable', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ REDIS_HOST: 'h', REDIS_POOL_SIZE: '0' }, 'REDIS_POOL_SIZE', /at least 1/],
      [{ REDIS_HOST: 'h', REDIS_POOL_SIZE: 'many' }, 'REDIS_POOL_SIZE', /must be a number/],
      [{ REDIS_HOST: 'h', REDIS_CONNECT_TIMEOUT: 'soon' }, 'REDIS_CONNECT_TIMEOUT', /use seconds/],
      [
        { REDIS_HOST: 'h', REDIS_CONNECT_TIMEOUT: '0' },
        'REDIS_CONNECT_TIMEOUT',
        /greater than zero/,
      ],
      [{ SESSION_TIMEOUT_MINUTES: '1.5' }, 'SESSION_TIMEOUT_MINUTES', /whole number/],
      [{ CLEANUP_INTERVAL_MINUTES: '0' }, 'CLEANUP_INTERVAL_MINUTES', /at least 1/],
      [{ CLEANUP_INTERVAL_MINUTES: '40000' }, 'CLEANUP_INTERVAL_MINUTES', /at most 35791/],
      [{ MEMCACHED_HOST: 'mc', MEMCACHED_PORT: '70000' }, 'MEMCACHED_PORT', /port between/],
      [{ MEMCACHED_HOST: 'mc', MEMCACHED_POOL_SIZE: '-1' }, 'MEMCACHED_POOL_SIZE', /at least 1/],
    ];
    for (const [env, field, message] of cases)
      assert.throws(
        () => read(env),
        (err: unknown) =>
          err instanceof ConfigError && err.field === field && message.test(err.message),
        JSON.stringify(env),
      );
  });
});

describe('configFromEnv: unknown and ignored variables are warnings', () => {
  it('names each unknown SESSION_*, REDIS_* or MEMCACHED_* variable and the nearest known one, never its value', () => {
    const secret = 'hunter2-do-not-log';
    const { config, warnings } = read({
      SESSION_STORAGE: 'memcached',
      MEMCACHED_HOSTNAME: 'cache.internal',
      REDIS_PASWORD: secret,
      SESSION_SECRET: secret,
      SESSION_CLEANUP_INTERVAL: '5',
      DATABASE_HOST: 'db', // not a watched prefix
      PATH: '/usr/bin',
    });
    assert.deepEqual(
      warnings.map((w) => [w.fields.variable, w.fields.suggestion]),
      [
        ['MEMCACHED_HOSTNAME', 'MEMCACHED_HOST'],
        ['REDIS_PASWORD', 'REDIS_PASSWORD'],
        ['SESSION_CLEANUP_INTERVAL', 'CLEANUP_INTERVAL_MINUTES'],
        ['SESSION_SECRET', 'SESSION_COOKIE_SECRETS'],
      ],
    );
    assert.match(
      warnings[0]!.message,
      /MEMCACHED_HOSTNAME is not one Tessera reads, so it is ignored \(did you mean MEMCACHED_HOST\?\)/,
    );
    assert.ok(!JSON.stringify(warnings).includes(secret), 'no value is ever in a warning');
    assert.ok(!JSON.stringify(warnings).includes('cache.internal'));
    // Still ignored, as the warning says: the default host.
    assert.deepEqual(config.memcached?.servers, [{ host: '127.0.0.1', port: 11211 }]);
  });

  it('every variable Tessera reads is known: none of them is warned about', () => {
    const env = Object.fromEntries(CONFIG_ENV_VARIABLES.map((name) => [name, 'x']));
    for (const name of [...CONFIG_ENV_VARIABLES, 'SESSION_KEY_PREFIX', 'SESSION_FILE_DIR'])
      assert.equal(nearestVariable(name), name);
    const warned: string[] = [];
    try {
      configFromEnv(env, { logger: { warn: (f) => warned.push(String(f.variable)) } });
    } catch (err) {
      assert.ok(err instanceof ConfigError); // 'x' is no valid value; the warnings came first
    }
    assert.deepEqual(warned, []);
  });

  it('a variable set but ignored is a warning saying why', () => {
    const both = read({
      SESSION_STORAGE: 'memcached',
      MEMCACHED_SERVERS: 'a:11211,b:11211',
      MEMCACHED_HOST: 'c',
    });
    assert.deepEqual(
      both.warnings.map((w) => w.message),
      ['tessera: MEMCACHED_HOST is ignored: MEMCACHED_SERVERS names the servers'],
    );
    assert.equal(both.config.memcached?.servers.length, 2);
    const url = read({ REDIS_URL: 'redis://r:6380', REDIS_HOST: 'other', REDIS_PASSWORD: 'pw' });
    assert.deepEqual(
      url.warnings.map((w) => w.fields.variable),
      ['REDIS_HOST'],
    );
    const none = read({ REDIS_POOL_SIZE: '20', REDIS_PASSWORD: 'pw', MEMCACHED_PORT: '11311' });
    assert.deepEqual(
      none.warnings.map((w) => w.fields.variable),
      ['REDIS_PASSWORD', 'REDIS_POOL_SIZE', 'MEMCACHED_PORT'],
    );
    assert.match(none.warnings[0]!.message, /no Redis is configured \(set REDIS_URL or REDIS_HOST/);
    assert.ok(!JSON.stringify(none.warnings).includes('pw'));
  });

  it('without a logger, a Node process warning (code TESSERA_ENV), each message once', async () => {
    const seen: Error[] = [];
    const listener = (w: Error) => {
      if ((w as { code?: string }).code === 'TESSERA_ENV') seen.push(w);
    };
    process.on('warning', listener);
    try {
      configFromEnv({ MEMCACHED_HOSTNAME: 'x' });
      configFromEnv({ MEMCACHED_HOSTNAME: 'y' });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.equal(seen.length, 1);
      assert.match(seen[0]!.message, /MEMCACHED_HOSTNAME .*did you mean MEMCACHED_HOST/);
    } finally {
      process.off('warning', listener);
    }
  });

  it('the CLI prints the warning on stderr and carries on', async () => {
    const run = await runCli(['stats'], { MEMCACHED_HOSTNAME: 'cache.internal' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^warning: tessera: environment variable MEMCACHED_HOSTNAME is not one Tessera reads, so it is ignored \(did you mean MEMCACHED_HOST\?\)$/m,
    );
    assert.ok(!run.stderr.includes('cache.internal'));
  });
});
