import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ipKey, usernameKey } from '../../src/core/client-keys.js';
import {
  resolveMemcachedConfig,
  resolveRedisConfig,
  resolveSqlConfig,
} from '../../src/core/config.js';
import { parseDuration } from '../../src/core/duration.js';
import { configFromEnv } from '../../src/core/env-config.js';
import { ConfigError } from '../../src/core/errors.js';
import { generateToken, isWellFormedToken, sessionIdFor } from '../../src/core/tokens.js';
import { createSessionManager } from '../../src/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

describe('tokens (property-based)', () => {
  it('every generated token is well-formed, 32 bytes, and its id is 64 hex', () => {
    for (let i = 0; i < 1000; i++) {
      const token = generateToken();
      assert.ok(isWellFormedToken(token));
      assert.equal(Buffer.from(token, 'base64url').length, 32);
      assert.equal(
        Buffer.from(token, 'base64url').toString('base64url'),
        token,
        'canonical encoding',
      );
      assert.match(sessionIdFor(token), /^[0-9a-f]{64}$/);
    }
  });

  it('any string that is not a canonical 32-byte base64url token is refused', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const canonical =
          Buffer.from(s, 'base64url').length === 32 &&
          Buffer.from(s, 'base64url').toString('base64url') === s;
        assert.equal(isWellFormedToken(s), canonical);
      }),
      { numRuns: RUNS },
    );
  });

  it('a token with any one character changed is either refused or a different id', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 42 }),
        fc.constantFrom(...'ABCabc012_-+/=.% \u00e9'),
        (at, ch) => {
          const token = generateToken();
          const changed = token.slice(0, at) + ch + token.slice(at + 1);
          if (changed === token) return;
          if (isWellFormedToken(changed))
            assert.notEqual(sessionIdFor(changed), sessionIdFor(token));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('the manager never throws on arbitrary token input, only answers malformed or a miss', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.anything()), async (value) => {
        const result = await manager.validate(value);
        assert.equal(result.session, null);
        assert.ok(result.reason === 'malformed' || result.reason === 'not_found');
      }),
      { numRuns: RUNS },
    );
    await manager.close();
  });
});

describe('durations (property-based)', () => {
  it('composed unit strings add up', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
        assert.equal(parseDuration(`${h}h${m}m${s}s`), ((h * 60 + m) * 60 + s) * 1000);
      }),
      { numRuns: RUNS },
    );
  });

  it('numbers are milliseconds; negatives, NaN and junk are refused', () => {
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1d'), 86_400_000);
    for (const bad of [
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '-5m',
      '5 minutes',
      '',
      'm',
      '1.5.2h',
      '30x',
    ]) {
      assert.equal(parseDuration(bad), null, String(bad));
    }
  });

  it('arbitrary strings never throw', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const ms = parseDuration(s);
        assert.ok(ms === null || (Number.isFinite(ms) && ms >= 0));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('configuration (property-based)', () => {
  it('arbitrary manager options either build or throw ConfigError naming a field', () => {
    const value = fc.oneof(
      fc.integer({ min: -10, max: 100_000_000 }),
      fc.string({ maxLength: 8 }),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            idleTimeout: value,
            absoluteTimeout: value,
            touchAfter: value,
            maxSessionsPerUser: value,
            ipChange: fc.oneof(
              fc.constantFrom('allow', 'log', 'terminate'),
              fc.string({ maxLength: 5 }),
            ),
            csrf: value,
          },
          { requiredKeys: [] },
        ),
        (options) => {
          try {
            const m = createSessionManager({ ...(options as object), cleanupInterval: false });
            void m.close();
          } catch (err) {
            assert.ok(err instanceof ConfigError, `threw ${String(err)}`);
            assert.ok(err.field.length > 0);
            assert.ok(err.message.includes(err.field));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary environments either parse or throw ConfigError naming the variable', () => {
    const names = [
      'SESSION_STORAGE',
      'REDIS_URL',
      'REDIS_HOST',
      'REDIS_PORT',
      'REDIS_DB',
      'REDIS_SSL',
      'MEMCACHED_SERVERS',
      'DATABASE_URL',
      'SESSION_IDLE_TIMEOUT',
      'MAX_SESSIONS_PER_USER',
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string({ maxLength: 20 })), (env) => {
        try {
          configFromEnv(env);
        } catch (err) {
          assert.ok(err instanceof ConfigError, `threw ${String(err)}`);
          assert.ok(names.includes(err.field), `field ${err.field} is an environment variable`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('backend configs', () => {
  it('Redis: the URL wins over the fields and is taken apart', () => {
    assert.deepEqual(
      resolveRedisConfig({
        url: 'rediss://app:s%40cret@cache.internal:6380/3',
        host: 'ignored',
        port: 1,
      }),
      {
        host: 'cache.internal',
        port: 6380,
        db: 3,
        username: 'app',
        password: 's@cret',
        tls: true,
        poolSize: 1,
        connectTimeout: 2000,
      },
    );
    assert.equal(
      resolveRedisConfig({ host: '10.0.0.5', port: 7000, connectTimeout: '5s' }).connectTimeout,
      5000,
    );
  });

  it('Redis: bad port, bad URL and negative db are refused naming the field', () => {
    assert.throws(
      () => resolveRedisConfig({ port: 70000 }),
      /redis\.port: must be a port between 1 and 65535/,
    );
    assert.throws(
      () => resolveRedisConfig({ url: 'http://x' }),
      /redis\.url: must be a URL starting with redis:\/\/ or rediss:\/\//,
    );
    assert.throws(() => resolveRedisConfig({ db: -1 }), /redis\.db: must be 0 or more/);
  });

  it('Memcached: servers win over host/port', () => {
    assert.deepEqual(resolveMemcachedConfig({ servers: 'a:11211, b:11212', host: 'c' }).servers, [
      { host: 'a', port: 11211 },
      { host: 'b', port: 11212 },
    ]);
    assert.deepEqual(resolveMemcachedConfig({ host: 'c' }).servers, [{ host: 'c', port: 11211 }]);
    assert.throws(
      () => resolveMemcachedConfig({ servers: ['a:99999'] }),
      /memcached\.servers\.0: .*port 1-65535/,
    );
  });

  it('SQL: dialect from the URL; a table name that is not an identifier is refused', () => {
    assert.equal(resolveSqlConfig({ url: 'postgres://u@h/db' }).dialect, 'postgres');
    assert.equal(resolveSqlConfig({ url: 'mariadb://root@h/db' }).url, 'mysql://root@h/db');
    assert.deepEqual(resolveSqlConfig({ url: 'sqlite:./data/s.db' }), {
      dialect: 'sqlite',
      url: './data/s.db',
      table: 'tessera_sessions',
      poolSize: 10,
      timeout: 5000,
    });
    assert.throws(
      () => resolveSqlConfig({ url: 'postgres://h/db', table: 'sessions; DROP TABLE users' }),
      /database\.table: must be a plain identifier/,
    );
    assert.throws(() => resolveSqlConfig({ url: 'oracle://h' }), /database\.url: must start with/);
  });
});

describe('configFromEnv', () => {
  it('reads the documented variables', () => {
    assert.deepEqual(
      configFromEnv({
        SESSION_STORAGE: 'redis',
        REDIS_HOST: 'cache',
        REDIS_PORT: '6380',
        REDIS_DB: '2',
        REDIS_PASSWORD: 'pw',
        REDIS_SSL: 'true',
        SESSION_IDLE_TIMEOUT: '45m',
        MAX_SESSIONS_PER_USER: '3',
      }),
      {
        storage: 'redis',
        redis: {
          host: 'cache',
          port: 6380,
          db: 2,
          username: undefined,
          password: 'pw',
          tls: true,
          poolSize: 1,
          connectTimeout: 2000,
        },
        idleTimeout: 45 * 60_000,
        maxSessionsPerUser: 3,
      },
    );
    assert.deepEqual(configFromEnv({}), { storage: 'memory' });
    const db = configFromEnv({ SESSION_STORAGE: 'postgres', DATABASE_URL: 'postgres://h/db' });
    assert.equal(db.storage, 'sql');
    assert.equal(db.database?.dialect, 'postgres');
    const fallback = configFromEnv({
      SESSION_STORAGE: 'redis',
      SESSION_FALLBACK: 'database',
      DATABASE_URL: 'sqlite:x.db',
    });
    assert.equal(fallback.fallback, 'sql');
    assert.equal(fallback.redis?.port, 6379);
  });

  it('names the variable in every error', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SESSION_STORAGE: 'mongo' }, /SESSION_STORAGE: unknown backend "mongo"/],
      [
        { SESSION_STORAGE: 'redis', REDIS_PORT: '70000' },
        /REDIS_PORT: must be a port between 1 and 65535/,
      ],
      [{ REDIS_URL: 'not a url' }, /REDIS_URL: must be a URL/],
      [{ SESSION_STORAGE: 'sql' }, /DATABASE_URL: is required/],
      [{ SESSION_IDLE_TIMEOUT: '-5m' }, /SESSION_IDLE_TIMEOUT: .*not a duration/],
      [{ MAX_SESSIONS_PER_USER: 'five' }, /MAX_SESSIONS_PER_USER: must be a number/],
      [{ SESSION_STORAGE: 'redis', REDIS_SSL: 'maybe' }, /REDIS_SSL: must be true or false/],
    ];
    for (const [env, message] of cases) assert.throws(() => configFromEnv(env), message);
  });
});

describe('rate-limit keys', () => {
  it('IPv6 addresses share a key per /64; IPv4-mapped addresses fold to IPv4', () => {
    assert.equal(ipKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:0DB8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
    assert.equal(ipKey('[2001:db8:1:2::1]'), '2001:db8:1:2::/64');
    assert.equal(ipKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(ipKey('::ffff:198.51.100.7'), '198.51.100.7');
    assert.equal(ipKey(' 198.51.100.7 '), '198.51.100.7');
  });

  it('usernames are case-folded, trimmed and NFKC-normalised', () => {
    assert.equal(usernameKey('  Alice '), 'alice');
    assert.equal(usernameKey('\uFF21\uFF2C\uFF29\uFF23\uFF25'), 'alice');
    assert.equal(usernameKey('e\u0301'), usernameKey('\u00e9'));
    fc.assert(
      fc.property(fc.string(), (s) => {
        assert.equal(usernameKey(usernameKey(s)), usernameKey(s), 'idempotent');
        assert.equal(usernameKey(` ${s.toUpperCase()} `), usernameKey(s.toUpperCase()));
      }),
      { numRuns: RUNS },
    );
  });
});
