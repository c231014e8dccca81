import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  ConfigError,
  DataTooLargeError,
  StoreError,
  StoreUnavailableError,
} from '../../src/core/errors.js';
import type { SessionEvents } from '../../src/core/events.js';
import type { SessionManagerOptions } from '../../src/core/manager-options.js';
import { generateToken, sessionIdFor } from '../../src/core/tokens.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

/** A manager on a fake clock; `tick(ms)` moves time. */
function setup(options: SessionManagerOptions = {}) {
  let now = 1_700_000_000_000;
  const logs: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const log = (level: string) => (obj: Record<string, unknown>, msg?: string) =>
    logs.push({ level, obj, msg });
  const manager = createSessionManager({
    clock: () => now,
    cleanupInterval: false,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    ...options,
  });
  return {
    manager,
    logs,
    tick: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

function record<E extends keyof SessionEvents>(
  manager: ReturnType<typeof setup>['manager'],
  name: E,
) {
  const seen: SessionEvents[E][] = [];
  manager.on(name, (e) => seen.push(e));
  return seen;
}

describe('create and validate', () => {
  it('issues a 256-bit token, stores only its hash, and validates it', async () => {
    const { manager } = setup();
    const { token, csrfToken, session } = await manager.create({
      userId: 'alice',
      ip: '198.51.100.1',
      userAgent: CHROME,
      data: { theme: 'dark' },
    });
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(session.id, sessionIdFor(token));
    assert.notEqual(session.id, token);
    assert.equal(csrfToken, session.csrf);
    assert.deepEqual(session.device, {
      browser: 'Chrome',
      browserVersion: '126.0.0.0',
      os: 'Windows',
      osVersion: '10',
      type: 'desktop',
    });
    const result = await manager.validate(token, { ip: '198.51.100.1', userAgent: CHROME });
    assert.ok(result.session);
    assert.equal(result.session.userId, 'alice');
    assert.deepEqual(result.session.data, { theme: 'dark' });
  });

  it('never writes the token to the store', async () => {
    const store = createMemoryStore();
    const { manager } = setup({ store });
    const { token } = await manager.create({ userId: 'alice', data: { a: 1 } });
    const dump = JSON.stringify(await store.list!({ limit: 100 }, Date.now()));
    assert.ok(!dump.includes(token));
  });

  it('rejects malformed tokens before any store call', async () => {
    let calls = 0;
    const inner = createMemoryStore();
    const counting: SessionStore = {
      ...inner,
      get: (...args) => {
        calls++;
        return inner.get(...args);
      },
    };
    const { manager } = setup({ store: counting });
    for (const bad of [
      '',
      'short',
      'x'.repeat(43),
      `${generateToken()}=`,
      generateToken().slice(0, 42),
      null,
      42,
      '../../etc/passwd',
    ]) {
      assert.deepEqual(await manager.validate(bad), { session: null, reason: 'malformed' });
    }
    assert.equal(calls, 0);
    assert.deepEqual(await manager.validate(generateToken()), {
      session: null,
      reason: 'not_found',
    });
    assert.equal(calls, 1);
  });

  it('refuses session data over maxDataBytes with a typed error', async () => {
    const { manager } = setup({ maxDataBytes: 100 });
    await assert.rejects(manager.create({ data: { big: 'x'.repeat(200) } }), DataTooLargeError);
    const { session } = await manager.create({ data: { small: 1 } });
    await assert.rejects(
      manager.update(session, { set: { big: 'x'.repeat(200) } }),
      DataTooLargeError,
    );
  });
});

describe('timeouts', () => {
  it('an idle timeout of a minute or less works on its own: the default touchAfter halves', async () => {
    for (const idleTimeout of ['30s', '1m']) {
      const manager = createSessionManager({ idleTimeout, cleanupInterval: false });
      assert.equal(manager.settings.touchAfter, manager.settings.idleTimeout / 2, idleTimeout);
      await manager.close();
    }
    // A touchAfter the app sets itself is still checked as given.
    assert.throws(
      () => createSessionManager({ idleTimeout: '1m', touchAfter: '1m' }),
      (err: Error) => err.name === 'ConfigError' && /touchAfter/.test(err.message),
    );
  });

  it('ends a session idle for exactly idleTimeout, not a millisecond before', async () => {
    const { manager, tick } = setup({ idleTimeout: '30m', touchAfter: '1m' });
    const { token } = await manager.create({ userId: 'u' });
    tick(30 * MIN - 1);
    assert.ok((await manager.validate(token)).session, 'alive 1 ms before the idle timeout');
    // That validation touched it (past touchAfter), so idle time restarts from here.
    tick(30 * MIN - 1);
    assert.ok((await manager.validate(token)).session);
    tick(30 * MIN);
    assert.deepEqual(await manager.validate(token), { session: null, reason: 'expired_idle' });
  });

  it('a touch slides the idle expiry only after touchAfter', async () => {
    const { manager, tick, now } = setup({ idleTimeout: '30m', touchAfter: '60s' });
    const { token, session } = await manager.create({});
    tick(59_000);
    const early = await manager.validate(token);
    assert.equal(early.session?.lastSeenAt, session.createdAt, 'no write before touchAfter');
    tick(1_000);
    const due = await manager.validate(token);
    assert.equal(due.session?.lastSeenAt, now());
    assert.equal(due.session?.idleExpiresAt, now() + 30 * MIN);
  });

  it('the absolute timeout ends an active session', async () => {
    const { manager, tick } = setup({
      idleTimeout: '30m',
      absoluteTimeout: '1h',
      touchAfter: '1m',
    });
    const { token } = await manager.create({ userId: 'u' });
    for (let i = 0; i < 5; i++) {
      tick(11 * MIN);
      assert.ok((await manager.validate(token)).session, `still alive after ${(i + 1) * 11} min`);
    }
    tick(5 * MIN); // 60 min since creation
    assert.deepEqual(await manager.validate(token), { session: null, reason: 'expired_absolute' });
  });

  it('absoluteTimeout false lets an active session live on', async () => {
    const { manager, tick } = setup({
      idleTimeout: '30m',
      absoluteTimeout: false,
      touchAfter: '1m',
    });
    const { token, session } = await manager.create({});
    assert.equal(session.absoluteExpiresAt, null);
    for (let i = 0; i < 50; i++) {
      tick(20 * MIN);
      assert.ok((await manager.validate(token)).session);
    }
  });

  it('the idle expiry never passes the absolute one', async () => {
    const { manager, tick } = setup({
      idleTimeout: '30m',
      absoluteTimeout: '40m',
      touchAfter: '1m',
    });
    const { token, session } = await manager.create({});
    tick(20 * MIN);
    const r = await manager.validate(token);
    assert.equal(r.session?.idleExpiresAt, session.createdAt + 40 * MIN);
  });

  it('emits expired when a lookup finds an expired session, and cleanup removes the rest', async () => {
    const { manager, tick } = setup({ idleTimeout: '10m', touchAfter: '1m' });
    const expired = record(manager, 'expired');
    const { token } = await manager.create({});
    await manager.create({});
    await manager.create({});
    tick(10 * MIN);
    await manager.validate(token);
    assert.deepEqual(expired, [{ id: sessionIdFor(token), reason: 'expired_idle', count: 1 }]);
    assert.equal(await manager.cleanup(), 2);
    assert.equal(expired.at(-1)?.count, 2);
    assert.equal((await manager.stats()).sessions?.activeSessions, 0);
  });
});

describe('per-user limit', () => {
  it('evicts the least recently active session and reports it', async () => {
    const { manager, tick } = setup({ maxSessionsPerUser: 2, touchAfter: 0 });
    const evicted = record(manager, 'evicted');
    const terminated = record(manager, 'terminated');
    const a = await manager.create({ userId: 'u' });
    tick(1000);
    const b = await manager.create({ userId: 'u' });
    tick(1000);
    await manager.validate(a.token); // a is now more recently active than b
    tick(1000);
    const c = await manager.create({ userId: 'u' });
    assert.deepEqual(c.evicted, [b.session.id]);
    assert.deepEqual(evicted, [{ id: b.session.id, userId: 'u' }]);
    assert.deepEqual(terminated, [{ id: b.session.id, userId: 'u', reason: 'limit' }]);
    assert.equal((await manager.validate(b.token)).session, null);
    assert.deepEqual(
      (await manager.listUserSessions('u')).map((s) => s.id),
      [c.session.id, a.session.id],
    );
  });

  it('holds under 30 concurrent logins', async () => {
    const { manager } = setup({ maxSessionsPerUser: 5 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => manager.create({ userId: 'u' })),
    );
    assert.equal((await manager.listUserSessions('u')).length, 5);
    assert.equal(results.flatMap((r) => r.evicted).length, 25);
  });

  it('null means no limit', async () => {
    const { manager } = setup({ maxSessionsPerUser: null });
    for (let i = 0; i < 12; i++) await manager.create({ userId: 'u' });
    assert.equal((await manager.listUserSessions('u')).length, 12);
  });
});

describe('terminate', () => {
  it('terminate ends one session with its reason', async () => {
    const { manager } = setup();
    const terminated = record(manager, 'terminated');
    const { token, session } = await manager.create({ userId: 'u' });
    assert.equal(await manager.terminate(session.id, 'admin'), true);
    assert.equal(await manager.terminate(session.id, 'admin'), false);
    assert.deepEqual(terminated, [{ id: session.id, userId: 'u', reason: 'admin' }]);
    const result = await manager.validate(token);
    assert.equal(result.session, null);
    assert.equal(result.reason, 'terminated');
  });

  it('terminateUser logs out everywhere, or everywhere else', async () => {
    const { manager } = setup();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => manager.create({ userId: 'u' })));
    const other = await manager.create({ userId: 'v' });
    const ended = await manager.terminateUser('u', { exceptId: a!.session.id });
    assert.deepEqual([...ended].sort(), [b!.session.id, c!.session.id].sort());
    assert.ok((await manager.validate(a!.token)).session);
    assert.equal((await manager.validate(b!.token)).session, null);
    assert.deepEqual(await manager.terminateUser('u'), [a!.session.id]);
    assert.ok((await manager.validate(other.token)).session);
  });

  it('listUserSessions shows devices without data or CSRF tokens', async () => {
    const { manager, tick } = setup();
    await manager.create({
      userId: 'u',
      userAgent: CHROME,
      ip: '198.51.100.1',
      data: { secret: 's' },
    });
    tick(1000);
    await manager.create({ userId: 'u', userAgent: IPHONE, ip: '2001:db8::1' });
    const list = await manager.listUserSessions('u');
    assert.equal(list.length, 2);
    assert.equal(list[0]!.device.type, 'mobile');
    assert.equal(list[0]!.device.os, 'iOS');
    assert.equal(list[0]!.ip, '2001:db8::1');
    assert.equal(list[1]!.device.browser, 'Chrome');
    for (const s of list) {
      assert.ok(!('data' in s) && !('csrf' in s), 'no data or csrf in a summary');
      assert.equal(s.expiresAt, s.idleExpiresAt);
    }
  });
});

describe('CSRF', () => {
  it('accepts the bound token and rejects others, emitting csrfRejected', async () => {
    const { manager } = setup();
    const rejected = record(manager, 'csrfRejected');
    const a = await manager.create({});
    const b = await manager.create({});
    assert.equal(manager.verifyCsrf(a.session, a.csrfToken), true);
    assert.equal(manager.verifyCsrf(a.session, b.csrfToken), false);
    assert.equal(manager.verifyCsrf(a.session, ''), false);
    assert.equal(manager.verifyCsrf(a.session, undefined), false);
    assert.equal(manager.verifyCsrf(a.session, `${a.csrfToken}x`), false);
    assert.equal(rejected.length, 4);
  });

  it('rotateCsrf issues a new token and retires the old one', async () => {
    const { manager } = setup();
    const { token, csrfToken } = await manager.create({});
    const next = await manager.rotateCsrf((await manager.validate(token)).session!);
    assert.ok(next && next !== csrfToken);
    const session = (await manager.validate(token)).session!;
    assert.equal(manager.verifyCsrf(session, next), true);
    assert.equal(manager.verifyCsrf(session, csrfToken), false);
  });

  it('csrf: false issues no token and verifies nothing', async () => {
    const { manager } = setup({ csrf: false });
    const { session, csrfToken } = await manager.create({});
    assert.equal(csrfToken, '');
    assert.equal(manager.verifyCsrf(session, ''), false);
  });
});

describe('regenerate (fixation defence)', () => {
  it('login moves data to a new token, kills the old one, rotates CSRF, restarts the lifetime', async () => {
    const { manager, tick, now } = setup({ absoluteTimeout: '12h' });
    const rotated = record(manager, 'rotated');
    const anon = await manager.create({ data: { cart: [1, 2] } });
    tick(20 * MIN);
    const login = await manager.regenerate(anon.token, { userId: 'alice' });
    assert.ok(login);
    assert.notEqual(login.token, anon.token);
    assert.notEqual(login.csrfToken, anon.csrfToken);
    assert.equal((await manager.validate(anon.token)).session, null, 'the pre-login token is dead');
    const session = (await manager.validate(login.token)).session!;
    assert.equal(session.userId, 'alice');
    assert.deepEqual(session.data, { cart: [1, 2] });
    assert.equal(session.createdAt, now());
    assert.equal(session.absoluteExpiresAt, now() + 12 * HOUR);
    assert.deepEqual(rotated, [
      { oldId: anon.session.id, newId: login.session.id, userId: 'alice' },
    ]);
  });

  it('regenerating without a user change keeps the absolute expiry', async () => {
    const { manager, tick } = setup({ absoluteTimeout: '12h' });
    const first = await manager.create({ userId: 'alice' });
    tick(20 * MIN);
    const second = await manager.regenerate(first.token);
    assert.equal(second?.session.absoluteExpiresAt, first.session.absoluteExpiresAt);
    assert.equal(second?.session.createdAt, first.session.createdAt);
  });

  it('returns null for a dead or malformed token', async () => {
    const { manager } = setup();
    assert.equal(await manager.regenerate(generateToken(), { userId: 'x' }), null);
    assert.equal(await manager.regenerate('nope', { userId: 'x' }), null);
  });

  it('two concurrent regenerates of one token: exactly one wins', async () => {
    const { manager } = setup();
    const { token } = await manager.create({ userId: 'u' });
    const results = await Promise.all([manager.regenerate(token), manager.regenerate(token)]);
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal((await manager.listUserSessions('u')).length, 1);
  });
});

describe('hijack signals', () => {
  it('bindUserAgent ends a session presented with another user agent', async () => {
    const { manager } = setup({ bindUserAgent: true });
    const terminated = record(manager, 'terminated');
    const { token, session } = await manager.create({ userAgent: CHROME });
    assert.ok((await manager.validate(token, { userAgent: CHROME })).session);
    assert.deepEqual(await manager.validate(token, { userAgent: IPHONE }), {
      session: null,
      reason: 'ua_mismatch',
    });
    assert.deepEqual(terminated, [{ id: session.id, userId: null, reason: 'hijack' }]);
    assert.equal(
      (await manager.validate(token, { userAgent: CHROME })).session,
      null,
      'terminated, not just refused',
    );
  });

  it('ipChange log keeps the session and logs the change without the token', async () => {
    const { manager, logs } = setup({ ipChange: 'log' });
    const { token } = await manager.create({ ip: '198.51.100.1' });
    assert.ok((await manager.validate(token, { ip: '203.0.113.9' })).session);
    const warning = logs.find((l) => l.level === 'warn' && l.msg?.includes('another IP'));
    assert.ok(warning);
    assert.equal(warning.obj.to, '203.0.113.9');
    assert.ok(!JSON.stringify(logs).includes(token));
  });

  it('ipChange terminate ends the session; allow ignores the change', async () => {
    const strict = setup({ ipChange: 'terminate' });
    const s = await strict.manager.create({ ip: '198.51.100.1' });
    assert.deepEqual(await strict.manager.validate(s.token, { ip: '203.0.113.9' }), {
      session: null,
      reason: 'ip_changed',
    });
    assert.equal((await strict.manager.validate(s.token, { ip: '198.51.100.1' })).session, null);

    const lax = setup({ ipChange: 'allow' });
    const l = await lax.manager.create({ ip: '198.51.100.1' });
    assert.ok((await lax.manager.validate(l.token, { ip: '203.0.113.9' })).session);
    assert.equal(lax.logs.filter((x) => x.level === 'warn').length, 0);
  });
});

describe('login rate limiting', () => {
  it('allows maxAttempts failures per username, then answers retry-after until the window ends', async () => {
    const { manager, tick } = setup({ rateLimit: { maxAttempts: 3, window: '15m' } });
    const limited = record(manager, 'rateLimited');
    assert.deepEqual(await manager.trackLoginAttempt({ ip: '198.51.100.1', username: 'alice' }), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
    });
    tick(MIN);
    assert.deepEqual(await manager.trackLoginAttempt({ ip: '198.51.100.2', username: 'alice' }), {
      allowed: true,
      remaining: 1,
      retryAfterMs: 0,
    });
    tick(MIN);
    assert.deepEqual(await manager.trackLoginAttempt({ ip: '198.51.100.3', username: 'alice' }), {
      allowed: false,
      remaining: 0,
      retryAfterMs: 13 * MIN,
    });
    assert.deepEqual(await manager.checkLoginAttempt({ ip: '198.51.100.4', username: 'alice' }), {
      allowed: false,
      remaining: 0,
      retryAfterMs: 13 * MIN,
    });
    assert.equal(limited.length, 2);
    assert.equal(limited[0]!.username, 'alice');
    tick(13 * MIN);
    assert.deepEqual(await manager.checkLoginAttempt({ username: 'alice' }), {
      allowed: true,
      remaining: 3,
      retryAfterMs: 0,
    });
  });

  it('case, whitespace and Unicode compatibility forms share one counter', async () => {
    const { manager } = setup({ rateLimit: { maxAttempts: 4 } });
    for (const name of ['Alice ', ' alice', 'ALICE', '\uFF21lice'])
      await manager.trackLoginAttempt({ username: name });
    assert.equal((await manager.checkLoginAttempt({ username: 'alice' })).allowed, false);
  });

  it('counts by IP across usernames, IPv6 by /64', async () => {
    const { manager } = setup({ rateLimit: { maxAttempts: 100, maxAttemptsPerIp: 3 } });
    await manager.trackLoginAttempt({ ip: '2001:db8:1:2::1', username: 'a' });
    await manager.trackLoginAttempt({ ip: '2001:db8:1:2:ffff::9', username: 'b' });
    const third = await manager.trackLoginAttempt({
      ip: '2001:0db8:0001:0002::abcd',
      username: 'c',
    });
    assert.equal(third.allowed, false);
    assert.equal(
      (await manager.checkLoginAttempt({ ip: '2001:db8:1:3::1', username: 'd' })).allowed,
      true,
      'another /64',
    );
  });

  it('a success clears both counters', async () => {
    const { manager } = setup({ rateLimit: { maxAttempts: 2 } });
    await manager.trackLoginAttempt({ ip: '198.51.100.1', username: 'alice' });
    await manager.trackLoginAttempt({ ip: '198.51.100.1', username: 'alice', success: true });
    assert.deepEqual(await manager.checkLoginAttempt({ ip: '198.51.100.1', username: 'alice' }), {
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
    });
  });

  it('rateLimit false allows everything', async () => {
    const { manager } = setup({ rateLimit: false });
    for (let i = 0; i < 20; i++)
      assert.equal((await manager.trackLoginAttempt({ username: 'a' })).allowed, true);
  });
});

describe('stats, health, events, errors', () => {
  it('stats count sessions by device and operations by kind', async () => {
    const { manager } = setup();
    const a = await manager.create({ userId: 'u', userAgent: CHROME });
    await manager.create({ userId: 'v', userAgent: IPHONE });
    await manager.create({ userAgent: IPHONE });
    await manager.terminate(a.session.id, 'logout');
    await manager.trackLoginAttempt({ username: 'x' });
    const stats = await manager.stats();
    assert.equal(stats.store, 'memory');
    const { sessionAge, logins, ...counts } = stats.sessions!;
    // Two logins (u's, ended since, and v's); the ages of the two live sessions.
    assert.equal(logins?.lastHour, 2);
    assert.equal(sessionAge?.count, 2);
    assert.deepEqual(counts, {
      activeSessions: 2,
      distinctUsers: 1,
      anonymousSessions: 1,
      byBrowser: { 'Mobile Safari': 2 },
      byOs: { iOS: 2 },
      byDeviceType: { mobile: 2 },
    });
    assert.equal(stats.counters.created, 3);
    assert.deepEqual(stats.counters.terminated, { logout: 1 });
    assert.equal(stats.counters.failedLogins, 1);
  });

  it('a listener that throws is logged and does not break the operation', async () => {
    const { manager, logs } = setup({
      on: {
        created: () => {
          throw new Error('listener bug');
        },
      },
    });
    const { token } = await manager.create({});
    assert.ok((await manager.validate(token)).session);
    assert.ok(logs.some((l) => l.level === 'error' && l.msg?.includes('listener threw')));
  });

  it('store failures are typed, counted, logged and emitted as storeError', async () => {
    const inner = createMemoryStore();
    const broken: SessionStore = {
      ...inner,
      get: async () => {
        throw new StoreUnavailableError('fake', '127.0.0.1:1', 'connection refused');
      },
      create: async () => {
        throw new TypeError('driver exploded');
      },
      health: async () => {
        throw new Error('down');
      },
    };
    const { manager, logs } = setup({ store: broken });
    const errors = record(manager, 'storeError');
    await assert.rejects(manager.validate(generateToken()), StoreUnavailableError);
    await assert.rejects(
      manager.create({}),
      (err: unknown) => err instanceof StoreError && err.cause instanceof TypeError,
    );
    assert.deepEqual(
      errors.map((e) => e.operation),
      ['get', 'create'],
    );
    assert.equal((await manager.stats()).counters.storeErrors, 2);
    assert.equal(logs.filter((l) => l.level === 'error').length, 2);
    assert.deepEqual(await manager.health(), { ok: false, store: 'memory', detail: 'down' });
  });

  it('the cleanup timer runs on its interval, is unref’d and stops on close', async () => {
    let ticks = 0;
    const store = createMemoryStore();
    const counting: SessionStore = {
      ...store,
      cleanup: async (now) => {
        ticks++;
        return store.cleanup(now);
      },
    };
    const manager = createSessionManager({ store: counting, cleanupInterval: 20 });
    await new Promise((r) => setTimeout(r, 75));
    await manager.close();
    const after = ticks;
    assert.ok(after >= 2, `cleanup ran ${after} times in 75 ms at a 20 ms interval`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ticks, after, 'no cleanup after close');
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    const { manager } = setup();
    assert.deepEqual(manager.settings, {
      idleTimeout: 30 * MIN,
      absoluteTimeout: 12 * HOUR,
      maxIdleTimeout: 30 * 24 * HOUR,
      maxAbsoluteTimeout: 400 * 24 * HOUR,
      touchAfter: MIN,
      maxSessionsPerUser: 5,
      csrf: true,
      maxDataBytes: 65_536,
    });
  });

  const bad: [string, SessionManagerOptions, RegExp][] = [
    ['negative idle timeout', { idleTimeout: -5 }, /idleTimeout: .*not a duration/],
    ['unparseable duration', { absoluteTimeout: '12 hours' }, /absoluteTimeout: .*not a duration/],
    ['zero limit', { maxSessionsPerUser: 0 }, /maxSessionsPerUser: must be at least 1/],
    ['fractional limit', { maxSessionsPerUser: 2.5 }, /maxSessionsPerUser: must be a whole number/],
    [
      'unknown ip policy',
      { ipChange: 'block' as never },
      /ipChange: must be "allow", "log" or "terminate"/,
    ],
    [
      'touchAfter not below idle',
      { idleTimeout: '1m', touchAfter: '2m' },
      /touchAfter: must be shorter than idleTimeout/,
    ],
    ['not a store', { store: {} as never }, /store: must implement SessionStore/],
    ['not a logger', { logger: console.log as never }, /logger: must be a pino-compatible logger/],
    [
      'bad rate limit',
      { rateLimit: { maxAttempts: 0 } },
      /rateLimit.maxAttempts: must be at least 1/,
    ],
  ];
  for (const [what, options, message] of bad) {
    it(`refuses ${what} at construction, naming the field`, () => {
      assert.throws(
        () => createSessionManager({ cleanupInterval: false, ...options }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});
