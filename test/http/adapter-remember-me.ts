/**
 * The adapter suite's tests of a session's own lifetime ("remember me", issue 15 §2), run on every
 * adapter by `testAdapter`: `session.login` and `session.regenerate` pass `idleTimeout` and
 * `absoluteTimeout` through to the manager, and a value past the manager's bounds is refused
 * before the password is checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { randomUserId } from '../../src/testing/fixtures.js';
import type { Harness } from './adapter-hardening.js';
import { RIGHT_PASSWORD, verifications } from './adapter-helpers.js';
import { call, Jar } from './http-client.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

type Who = { userId: string | null };

export function testRememberMe(name: string, { start }: Harness): void {
  /** An app on a clock the test moves. */
  async function startClocked() {
    const clock = { now: 1_700_000_000_000 };
    const started = await start(undefined, undefined, { clock: () => clock.now });
    return { ...started, clock };
  }

  async function signin(app: Awaited<ReturnType<typeof start>>['app'], jar: Jar, query: string) {
    await call(app, jar, 'GET', '/whoami');
    return call(app, jar, 'POST', `/signin?password=${RIGHT_PASSWORD}&${query}`);
  }

  describe(`${name}: a session of its own lifetime ("remember me")`, () => {
    it('session.login with idleTimeout and absoluteTimeout keeps the user signed in past the default', async () => {
      const { app, store, clock } = await startClocked();
      const remembered = new Jar();
      const ordinary = new Jar();
      const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
      const start = clock.now;
      const r = await signin(app, remembered, `user=${alice}&idle=30d&absolute=400d`);
      assert.equal(r.res.status, 200, JSON.stringify(r.body));
      assert.equal((await signin(app, ordinary, `user=${bob}`)).res.status, 200);

      clock.now += 2 * HOUR;
      const who = async (jar: Jar) => ((await call(app, jar, 'GET', '/whoami')).body as Who).userId;
      assert.equal(await who(ordinary), null, 'the default 30 minutes are over');
      assert.equal(await who(remembered), alice);
      clock.now += 20 * DAY;
      assert.equal(await who(remembered), alice, 'each visit slides 30 days');

      const [session] = await store.listUser(alice, clock.now);
      assert.ok(session);
      assert.equal(session.idleExpiresAt - session.lastSeenAt, 30 * DAY);
      assert.equal(session.absoluteExpiresAt, start + 400 * DAY);
    });

    it('session.regenerate passes them through, and the same user keeps them on the next one', async () => {
      const { app, store, clock } = await startClocked();
      const jar = new Jar();
      const user = randomUserId('carol');
      await call(app, jar, 'GET', '/whoami');
      const first = await call(app, jar, 'POST', `/login?user=${user}&idle=7d&absolute=90d`);
      assert.equal(first.res.status, 200, JSON.stringify(first.body));
      const created = clock.now;
      clock.now += HOUR;
      // A privilege change of the same user, without options: "remember me" survives it.
      assert.equal((await call(app, jar, 'POST', `/login?user=${user}`)).res.status, 200);
      const [session] = await store.listUser(user, clock.now);
      assert.ok(session);
      assert.equal(session.idleExpiresAt, clock.now + 7 * DAY);
      assert.equal(session.absoluteExpiresAt, created + 90 * DAY);
    });

    it('a timeout past the bound is refused before the password is checked; nobody is signed in', async () => {
      const { app } = await startClocked();
      const jar = new Jar();
      const user = randomUserId('dave');
      const r = await signin(app, jar, `user=${user}&idle=45d`);
      // InvalidInputError is a 400 refusal on every adapter.
      assert.equal(r.res.status, 400, JSON.stringify(r.body));
      assert.equal(verifications.get(user), undefined, 'the password was not checked');
      const who = (await call(app, jar, 'GET', '/whoami')).body as Who;
      assert.equal(who.userId, null);
    });
  });
}
