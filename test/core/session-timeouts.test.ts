/**
 * Per-session lifetime ("remember me"): `create`, `regenerate` (and through them `session.login`)
 * take their own idle and absolute timeouts within the manager's bounds, and a session keeps its
 * idle timeout across touches and regenerates. Also `validate(token, { touch: false })`, a
 * lookup that writes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { ConfigError, InvalidInputError } from '../../src/core/errors.js';
import type { SessionManagerOptions } from '../../src/core/manager-options.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createSqlStore } from '../../src/stores/sql/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

function setup(options: SessionManagerOptions = {}) {
  let now = 1_700_000_000_000;
  const manager = createSessionManager({ clock: () => now, cleanupInterval: false, ...options });
  return {
    manager,
    tick: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

/** Validates every 20 hours for `days` days: the session must stay live throughout. */
async function useDaily(ctx: ReturnType<typeof setup>, token: string, days: number): Promise<void> {
  for (let h = 0; h < days * 24; h += 20) {
    ctx.tick(20 * HOUR);
    const { session, reason } = await ctx.manager.validate(token);
    assert.ok(session, `live after ${h + 20} h (${reason})`);
  }
}

describe('a session of its own lifetime ("remember me")', () => {
  it('create({ idleTimeout: "30d", absoluteTimeout: "400d" }) outlives the 30-minute default', async () => {
    const ctx = setup();
    const { manager, tick, now } = ctx;
    const remembered = await manager.create({
      userId: 'alice',
      idleTimeout: '30d',
      absoluteTimeout: '400d',
    });
    const ordinary = await manager.create({ userId: 'alice' });
    assert.equal(remembered.session.idleExpiresAt, now() + 30 * DAY);
    assert.equal(remembered.session.absoluteExpiresAt, now() + 400 * DAY);
    assert.equal(ordinary.session.idleExpiresAt, now() + 30 * MIN);

    tick(31 * MIN);
    assert.equal((await manager.validate(ordinary.token)).reason, 'expired_idle');
    // Used now and then over two months: each touch slides 30 days, not 30 minutes.
    await useDaily(ctx, remembered.token, 60);
    const { session } = await manager.validate(remembered.token);
    assert.ok(session);
    assert.equal(session.idleExpiresAt - session.lastSeenAt, 30 * DAY, 'the 30-day window kept');

    tick(30 * DAY + MIN);
    assert.equal((await manager.validate(remembered.token)).reason, 'expired_idle');
  });

  it('the absolute timeout of its own ends it whatever the activity', async () => {
    const ctx = setup({ maxAbsoluteTimeout: '3d' });
    const { session, token } = await ctx.manager.create({
      idleTimeout: '1d',
      absoluteTimeout: '2d',
    });
    assert.equal(session.absoluteExpiresAt, ctx.now() + 2 * DAY);
    await useDaily(ctx, token, 1);
    ctx.tick(DAY);
    assert.equal((await ctx.manager.validate(token)).reason, 'expired_absolute');
  });

  it('a timeout past its bound is an InvalidInputError naming the bound, and nothing is stored', async () => {
    const store = createMemoryStore();
    const { manager } = setup({ store });
    const refusals: [Record<string, unknown>, string, RegExp][] = [
      [{ idleTimeout: '31d' }, 'idleTimeout', /31d is longer than maxIdleTimeout \(30d\)/],
      [
        { absoluteTimeout: '401d' },
        'absoluteTimeout',
        /401d is longer than maxAbsoluteTimeout \(400d\)/,
      ],
      [{ absoluteTimeout: false }, 'absoluteTimeout', /maxAbsoluteTimeout to be false; it is 400d/],
      [{ idleTimeout: '30s' }, 'idleTimeout', /30s is not longer than touchAfter \(1m\)/],
      [{ idleTimeout: 'a month' }, 'idleTimeout', /is not a duration/],
      [{ idleTimeout: 0 }, 'idleTimeout', /is not a duration/],
      [{ absoluteTimeout: null }, 'absoluteTimeout', /is not a duration.*or false/],
    ];
    for (const [input, field, message] of refusals) {
      await assert.rejects(
        manager.create({ userId: 'alice', ...input }),
        (err: unknown) =>
          err instanceof InvalidInputError && err.field === field && message.test(err.message),
        JSON.stringify(input),
      );
    }
    assert.equal((await store.stats!(Date.now())).activeSessions, 0);
  });

  it('the bounds are manager options: raised, longer sessions are allowed; false allows none', async () => {
    const { manager } = setup({ maxIdleTimeout: '90d', maxAbsoluteTimeout: false });
    const { session } = await manager.create({ idleTimeout: '90d', absoluteTimeout: false });
    assert.equal(session.idleExpiresAt - session.lastSeenAt, 90 * DAY);
    assert.equal(session.absoluteExpiresAt, null);
    assert.equal(manager.settings.maxIdleTimeout, 90 * DAY);
    assert.equal(manager.settings.maxAbsoluteTimeout, false);
  });

  it('the bounds default from the timeouts and must admit them', () => {
    const ms = (options: SessionManagerOptions) => {
      const m = createSessionManager({ cleanupInterval: false, ...options });
      void m.close();
      return [m.settings.maxIdleTimeout, m.settings.maxAbsoluteTimeout];
    };
    assert.deepEqual(ms({}), [30 * DAY, 400 * DAY]);
    assert.deepEqual(ms({ idleTimeout: '60d', absoluteTimeout: '500d' }), [60 * DAY, 500 * DAY]);
    assert.deepEqual(ms({ absoluteTimeout: false }), [30 * DAY, false]);
    const refused: [SessionManagerOptions, string][] = [
      [{ idleTimeout: '2h', maxIdleTimeout: '1h' }, 'maxIdleTimeout'],
      [{ absoluteTimeout: '2d', maxAbsoluteTimeout: '1d' }, 'maxAbsoluteTimeout'],
      [{ absoluteTimeout: false, maxAbsoluteTimeout: '400d' }, 'maxAbsoluteTimeout'],
      [{ maxIdleTimeout: 'soon' }, 'maxIdleTimeout'],
    ];
    for (const [options, field] of refused)
      assert.throws(
        () => createSessionManager({ cleanupInterval: false, ...options }),
        (err: unknown) => err instanceof ConfigError && err.field === field,
        JSON.stringify(options),
      );
  });

  it('lowering maxIdleTimeout shortens longer sessions already stored, at their next touch', async () => {
    const store = createMemoryStore();
    let now = 1_700_000_000_000;
    const before = createSessionManager({ store, clock: () => now, cleanupInterval: false });
    const { token } = await before.create({ idleTimeout: '30d', absoluteTimeout: '400d' });
    const after = createSessionManager({
      store,
      clock: () => now,
      cleanupInterval: false,
      maxIdleTimeout: '1d',
    });
    now += HOUR;
    const { session } = await after.validate(token);
    assert.ok(session);
    assert.equal(session.idleExpiresAt, now + DAY);
    await Promise.all([before.close(), after.close()]);
  });
});

describe('regenerate and the session’s own timeouts', () => {
  it('the same user keeps the old session’s idle timeout and end; a login gets the defaults', async () => {
    const { manager, tick, now } = setup();
    const first = await manager.create({
      userId: 'alice',
      idleTimeout: '30d',
      absoluteTimeout: '400d',
    });
    tick(HOUR);
    const same = await manager.regenerate(first.token);
    assert.ok(same);
    assert.equal(same.session.idleExpiresAt, now() + 30 * DAY, 'remember me survives');
    assert.equal(same.session.absoluteExpiresAt, first.session.absoluteExpiresAt);
    const other = await manager.regenerate(same.token, { userId: 'bob' });
    assert.ok(other);
    assert.equal(other.session.idleExpiresAt, now() + 30 * MIN, 'a login starts with the defaults');
    assert.equal(other.session.absoluteExpiresAt, now() + 12 * HOUR);
  });

  it('a login with its own timeouts ("remember me" ticked), and a regenerate that sets them', async () => {
    const { manager, tick, now } = setup();
    const anon = await manager.create();
    const login = await manager.regenerate(anon.token, {
      userId: 'alice',
      idleTimeout: '14d',
      absoluteTimeout: '90d',
    });
    assert.ok(login);
    assert.equal(login.session.idleExpiresAt, now() + 14 * DAY);
    assert.equal(login.session.absoluteExpiresAt, now() + 90 * DAY);
    tick(DAY);
    // A privilege change that turns "remember me" off again: back to 30 minutes, 12 hours from now.
    const shorter = await manager.regenerate(login.token, {
      idleTimeout: '30m',
      absoluteTimeout: '12h',
    });
    assert.ok(shorter);
    assert.equal(shorter.session.idleExpiresAt, now() + 30 * MIN);
    assert.equal(shorter.session.absoluteExpiresAt, now() + 12 * HOUR);
    assert.equal(shorter.session.createdAt, login.session.createdAt);
  });

  it('a timeout past its bound refuses the regenerate before anything changes', async () => {
    const { manager } = setup();
    const { token } = await manager.create({ userId: 'alice' });
    await assert.rejects(
      manager.regenerate(token, { userId: 'alice', idleTimeout: '1y' }),
      InvalidInputError,
    );
    await assert.rejects(manager.regenerate(token, { idleTimeout: '45d' }), InvalidInputError);
    assert.ok((await manager.validate(token)).session, 'the old session is still live');
  });
});

/** A store that counts the calls that may write, and lookups asked to touch. */
function counting(inner: SessionStore) {
  const writes: string[] = [];
  const store: SessionStore = Object.create(inner);
  for (const method of ['create', 'patch', 'destroy', 'destroyUser', 'regenerate'] as const) {
    const original = inner[method].bind(inner) as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      writes.push(method);
      return original(...args);
    };
  }
  store.get = (id, now, touch) => {
    if (touch) writes.push('get with touch');
    return inner.get(id, now, touch);
  };
  return { store, writes };
}

describe('validate(token, { touch: false }): reading without touching', () => {
  for (const [name, build] of [
    ['memory', () => createMemoryStore()],
    ['sqlite', () => createSqlStore({ url: 'sqlite::memory:' })],
  ] as const) {
    it(`writes nothing and answers the same session (${name})`, async () => {
      const inner = build();
      try {
        const { store, writes } = counting(inner);
        const { manager, tick, now } = setup({ store });
        const { token, session } = await manager.create({ userId: 'alice', data: { a: 1 } });
        writes.length = 0;
        tick(10 * MIN); // a touch is due
        const read = await manager.validate(token, { touch: false });
        assert.ok(read.session);
        assert.deepEqual(writes, [], 'no store call that may write');
        const stored = await inner.get(session.id, now());
        assert.ok(stored.record);
        assert.equal(stored.record.version, session.version, 'the stored version is unchanged');
        assert.equal(stored.record.lastSeenAt, session.lastSeenAt);
        assert.deepEqual(read.session, stored.record, 'the session as stored');
        // The control: an ordinary validate does write the due touch.
        const touched = await manager.validate(token);
        assert.ok(touched.session);
        assert.deepEqual(writes, ['get with touch']);
        assert.equal(touched.session.version, session.version + 1);
        await manager.close();
      } finally {
        await inner.close();
      }
    });
  }

  it('the hijack checks compare only what is given and end nothing', async () => {
    const { store, writes } = counting(createMemoryStore());
    const { manager } = setup({ store, bindUserAgent: true, ipChange: 'terminate' });
    const { token } = await manager.create({ userId: 'alice', userAgent: CHROME, ip: '192.0.2.1' });
    writes.length = 0;
    // An admin view has no request: no user agent to compare, no IP.
    assert.ok((await manager.validate(token, { touch: false })).session);
    assert.equal(
      (await manager.validate(token, { touch: false, userAgent: 'curl/8' })).reason,
      'ua_mismatch',
    );
    assert.equal(
      (await manager.validate(token, { touch: false, ip: '198.51.100.9' })).reason,
      'ip_changed',
    );
    assert.deepEqual(writes, [], 'nothing terminated');
    assert.ok((await manager.validate(token, { userAgent: CHROME, ip: '192.0.2.1' })).session);
    // The same checks with touching on do end it.
    assert.equal((await manager.validate(token, { userAgent: 'curl/8' })).reason, 'ua_mismatch');
    assert.equal((await manager.validate(token, { userAgent: CHROME })).reason, 'terminated');
  });
});
