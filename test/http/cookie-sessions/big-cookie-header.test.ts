/**
 * A Cookie header carrying 9 KB of other sites' cookies (on a shared parent domain) with the
 * session cookie among them: read whole, through every adapter, for a token session and for a
 * client-side one. Only the server's own header limit (Node's `maxHeaderSize`) bounds it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import type { SessionManager } from '../../../src/core/manager-api.js';
import type { SessionStore } from '../../../src/core/types.js';
import { createSessionManager } from '../../../src/index.js';
import { createCookieStore } from '../../../src/stores/cookie/index.js';
import { createMemoryStore } from '../../../src/stores/memory.js';
import { call, Jar, type RunningApp } from '../http-client.js';
import { ADAPTERS, startApp } from './apps.js';

/** About 9 KB of cookies from other applications on the domain. */
const FOREIGN = Array.from({ length: 90 }, (_, i) => `other${i}=${'v'.repeat(96)}`).join('; ');

const stores: [string, () => SessionStore][] = [
  ['a token session (memory store)', () => createMemoryStore()],
  [
    'a client-side session (cookie store)',
    () => createCookieStore({ secrets: [randomBytes(32).toString('hex')] }).sessionStore(),
  ],
];

describe.each(ADAPTERS)('a 9 KB Cookie header through %s', (adapter) => {
  const running: RunningApp[] = [];
  const managers: SessionManager[] = [];
  afterAll(async () => {
    await Promise.all(running.map((a) => a.close()));
    await Promise.all(managers.map((m) => m.close()));
  });

  it.each(stores)('finds %s before, among and after other cookies', async (_what, store) => {
    assert.ok(FOREIGN.length > 9000);
    const manager = createSessionManager({ store: store(), cleanupInterval: false });
    managers.push(manager);
    const app = await startApp(adapter, manager, { mode: 'development' });
    running.push(app);
    const jar = new Jar();
    await call(app, jar, 'GET', '/whoami');
    await call(app, jar, 'POST', '/login?user=grace');
    const own = jar.header();
    for (const header of [
      `${FOREIGN}; ${own}`,
      `${own}; ${FOREIGN}`,
      `${FOREIGN.slice(0, 4500)}; ${own}; ${FOREIGN.slice(4501)}`,
    ]) {
      assert.ok(header.length > 9000);
      const res = await call(app, null, 'GET', '/whoami', { headers: { cookie: header } });
      assert.equal(res.res.status, 200);
      assert.equal((res.body as { userId: string | null }).userId, 'grace');
      assert.ok(
        !res.setCookie.some((l) => /Max-Age=0/i.test(l)),
        'nothing is cleared: the session was found',
      );
    }
  });
});
