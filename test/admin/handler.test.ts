import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { type AdminHandler, createAdminHandler } from '../../src/admin/index.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createCookieStore } from '../../src/stores/cookie/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { freePort, requireService } from '../support/services.js';

const UA = {
  chrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  firefox: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
};

const folder = mkdtempSync(join(tmpdir(), 'tessera-admin-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Setup {
  manager: SessionManager;
  admin: AdminHandler;
  adminSession: Awaited<ReturnType<SessionManager['create']>>['session'];
  close(): Promise<void>;
}

async function setup(store: SessionStore, pageSize = 25): Promise<Setup> {
  const manager = createSessionManager({ store, cleanupInterval: false, maxSessionsPerUser: 3 });
  const { session: adminSession } = await manager.create({
    userId: 'root',
    ip: '127.0.0.1',
    userAgent: UA.firefox,
  });
  const admin = createAdminHandler({
    manager,
    basePath: '/admin',
    loginUrl: '/login',
    pageSize,
    authorize: (s) => s.userId === 'root',
  });
  return {
    manager,
    admin,
    adminSession,
    async close() {
      await manager.close();
      await store.close();
    },
  };
}

const get = (admin: AdminHandler, path: string, session: unknown) =>
  admin(new Request(`http://localhost${path}`), { session: session as never });

const post = (
  admin: AdminHandler,
  path: string,
  session: unknown,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  admin(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    }),
    { session: session as never },
  );

/** The dashboard's behaviour on one store that can list (and maybe keep an audit trail). */
function dashboardSuite(name: string, makeStore: () => SessionStore | Promise<SessionStore>) {
  describe(`admin dashboard on ${name}`, () => {
    it('refuses visitors without a session and sessions authorize rejects', async () => {
      const s = await setup(await makeStore());
      try {
        const anon = await get(s.admin, '/admin/api/overview', null);
        assert.equal(anon.status, 401);
        const page = await get(s.admin, '/admin/sessions', undefined);
        assert.equal(page.status, 303);
        assert.equal(page.headers.get('location'), '/login');
        const { session: alice } = await s.manager.create({ userId: 'alice' });
        assert.equal((await get(s.admin, '/admin/api/sessions', alice)).status, 403);
        const html = await get(s.admin, '/admin/', alice);
        assert.equal(html.status, 403);
        assert.doesNotMatch(await html.text(), /alice/);
        // Through a RequestSession-like wrapper too.
        assert.equal((await get(s.admin, '/admin/', { record: s.adminSession })).status, 200);
      } finally {
        await s.close();
      }
    });

    it('lists sessions with device, IP and ISO times; filters by user and paginates', async () => {
      const s = await setup(await makeStore(), 3);
      try {
        const users = [
          `u-${randomBytes(3).toString('hex')}`,
          `v-${randomBytes(3).toString('hex')}`,
        ];
        await s.manager.create({ userId: users[0], ip: '203.0.113.7', userAgent: UA.chrome });
        await s.manager.create({ userId: users[0], ip: '203.0.113.8', userAgent: UA.iphone });
        for (let i = 0; i < 3; i++)
          await s.manager.create({
            userId: users[1],
            ip: `198.51.100.${i}`,
            userAgent: UA.firefox,
          });
        const res = await get(s.admin, `/admin/api/sessions?user=${users[0]}`, s.adminSession);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        const body = (await res.json()) as {
          total: number;
          sessions: Record<string, unknown>[];
        };
        assert.equal(body.total, 2);
        const byIp = Object.fromEntries(body.sessions.map((x) => [x.ip, x]));
        const mobile = byIp['203.0.113.8'] as Record<string, unknown> & {
          device: Record<string, unknown>;
        };
        assert.equal(mobile.userId, users[0]);
        assert.equal(mobile.device.type, 'mobile');
        assert.equal(mobile.device.os, 'iOS');
        for (const key of ['createdAt', 'lastSeenAt', 'expiresAt'])
          assert.match(String(mobile[key]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal('csrf' in mobile || 'data' in mobile, false, 'no CSRF token or data leaks');

        const all = (await (await get(s.admin, '/admin/api/sessions', s.adminSession)).json()) as {
          total: number;
        };
        assert.equal(all.total, 6);
        const page2 = await get(s.admin, '/admin/sessions?page=2', s.adminSession);
        const html = await page2.text();
        assert.equal(page2.status, 200);
        assert.match(html, /page 2 of 2 \(rows 4–6 of 6\)/);
        assert.equal(html.match(/<tr data-session-id=/g)?.length, 3);
        const filtered = await (
          await get(s.admin, `/admin/sessions?user=${users[0]}`, s.adminSession)
        ).text();
        assert.match(filtered, /203\.0\.113\.7/);
        assert.match(filtered, /Chrome 124/);
        assert.match(filtered, /mobile/);
        assert.doesNotMatch(filtered, /198\.51\.100\./);
        assert.match(filtered, /Terminate all sessions of/);
      } finally {
        await s.close();
      }
    });

    it('terminates a session only with the CSRF token, and the session is gone', async () => {
      const s = await setup(await makeStore());
      try {
        const victim = await s.manager.create({ userId: 'mallory', userAgent: UA.chrome });
        const id = victim.session.id;
        const refused = await post(s.admin, '/admin/sessions/terminate', s.adminSession, { id });
        assert.equal(refused.status, 403);
        const wrong = await post(s.admin, '/admin/sessions/terminate', s.adminSession, {
          id,
          _csrf: victim.csrfToken,
        });
        assert.equal(wrong.status, 403, "another session's CSRF token is refused");
        assert.ok((await s.manager.validate(victim.token)).session, 'still live after refusals');

        const done = await post(s.admin, '/admin/sessions/terminate', s.adminSession, {
          id,
          _csrf: s.adminSession.csrf,
        });
        assert.equal(done.status, 303);
        assert.match(done.headers.get('location') ?? '', /^\/admin\/sessions\?done=session&n=1/);
        // Stores without tombstones (Redis) answer not_found: either way the session is gone.
        assert.equal((await s.manager.validate(victim.token)).session, null);
        const notice = await get(s.admin, done.headers.get('location')!, s.adminSession);
        assert.match(await notice.text(), /The session was terminated/);

        // JSON API with the header.
        const other = await s.manager.create({ userId: 'mallory' });
        const api = await s.admin(
          new Request(`http://localhost/admin/api/sessions/${other.session.id}/terminate`, {
            method: 'POST',
            headers: { 'x-csrf-token': s.adminSession.csrf },
          }),
          { session: s.adminSession },
        );
        assert.deepEqual(await api.json(), { id: other.session.id, terminated: true });
        assert.equal((await s.manager.validate(other.token)).session, null);

        if (s.manager.store.capabilities.audit) {
          const audit = (await (
            await get(s.admin, '/admin/api/audit?limit=50', s.adminSession)
          ).json()) as {
            sessions: { id: string; terminationReason: string; terminatedAt: string }[];
          };
          const row = audit.sessions.find((x) => x.id === id);
          assert.equal(row?.terminationReason, 'admin');
          assert.match(row?.terminatedAt ?? '', /Z$/);
          const page = await (await get(s.admin, '/admin/audit', s.adminSession)).text();
          assert.match(page, /mallory/);
          assert.match(page, />admin</);
        }
      } finally {
        await s.close();
      }
    });

    it("terminates all of a user's sessions and leaves others", async () => {
      const s = await setup(await makeStore());
      try {
        const user = `bulk-${randomBytes(3).toString('hex')}`;
        const issued = [];
        for (let i = 0; i < 3; i++) issued.push(await s.manager.create({ userId: user }));
        const bystander = await s.manager.create({ userId: 'bystander' });
        const res = await post(s.admin, '/admin/users/terminate', s.adminSession, {
          userId: user,
          _csrf: s.adminSession.csrf,
          return: user,
        });
        assert.equal(res.status, 303);
        assert.equal(
          res.headers.get('location'),
          `/admin/sessions?done=user&n=3&user=${encodeURIComponent(user)}`,
        );
        for (const one of issued) assert.equal((await s.manager.validate(one.token)).session, null);
        assert.ok((await s.manager.validate(bystander.token)).session);
      } finally {
        await s.close();
      }
    });

    it('overview: counts, login counters, evictions, breakdowns and an SVG activity chart', async () => {
      const s = await setup(await makeStore());
      try {
        const user = `ov-${randomBytes(3).toString('hex')}`;
        // maxSessionsPerUser is 3: the fourth login evicts the least recently active, the first
        // Chrome one. The pauses give each login its own last-seen millisecond: between sessions
        // seen in the same millisecond the contract leaves the victim open.
        for (const ua of [UA.chrome, UA.iphone, UA.firefox, UA.chrome]) {
          await s.manager.create({ userId: user, userAgent: ua });
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
        await s.manager.trackLoginAttempt({ ip: '192.0.2.1', username: 'x', success: true });
        for (let i = 0; i < 6; i++)
          await s.manager.trackLoginAttempt({ ip: '192.0.2.1', username: 'victim' });
        const res = await get(s.admin, '/admin/api/overview', s.adminSession);
        assert.equal(res.status, 200);
        const body = (await res.json()) as {
          sessions: {
            activeSessions: number;
            distinctUsers: number;
            byDeviceType: Record<string, number>;
            byBrowser: Record<string, number>;
          };
          counters: {
            successfulLogins: number;
            failedLogins: number;
            rateLimited: number;
            evicted: number;
          };
          history: { samples: { at: string; activeSessions: number }[] };
          generatedAt: string;
        };
        assert.equal(body.sessions.activeSessions, 4); // root + 3
        assert.equal(body.sessions.distinctUsers, 2);
        assert.deepEqual(body.sessions.byDeviceType, { desktop: 3, mobile: 1 });
        assert.deepEqual(body.sessions.byBrowser, { Chrome: 1, Firefox: 2, 'Mobile Safari': 1 });
        assert.equal(body.counters.successfulLogins, 1);
        assert.equal(body.counters.failedLogins, 6);
        // With 5 attempts allowed per username, the fifth and sixth failures leave none: both are limited.
        assert.equal(body.counters.rateLimited, 2);
        assert.equal(body.counters.evicted, 1);
        assert.equal(body.history.samples.at(-1)?.activeSessions, 4);
        assert.match(body.generatedAt, /Z$/);

        const page = await get(s.admin, '/admin/', s.adminSession);
        const html = await page.text();
        assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
        assert.doesNotMatch(html, /<script/i);
        assert.match(html, /<svg[^>]+aria-label="Active sessions/);
        assert.match(html, /<svg[^>]+aria-label="By browser"/);
        assert.match(html, /Failed logins/);
      } finally {
        await s.close();
      }
    });
  });
}

dashboardSuite('the memory store', () => createMemoryStore());
dashboardSuite('SQLite', () =>
  createSqlStore({
    url: `sqlite:${join(folder, 'admin.db')}`,
    table: `a_${randomBytes(5).toString('hex')}`,
  }),
);

const redisUp = await requireService(
  'Redis',
  '127.0.0.1',
  6379,
  'redis-server --port 6379 --save "" --daemonize yes',
);
const redisPrefix = `admin-test-${randomBytes(4).toString('hex')}:`;
describe.skipIf(!redisUp)('Redis', () => {
  dashboardSuite('Redis', () =>
    createRedisStore({ port: 6379, prefix: `${redisPrefix}${randomBytes(3).toString('hex')}:` }),
  );
});

describe('admin dashboard: stores that cannot list, and outages', () => {
  it('shows a clear notice where the store cannot list sessions (cookie store)', async () => {
    const store = createCookieStore({ secrets: [randomBytes(32).toString('hex')] }).sessionStore(
      new Map(),
    );
    const s = await setup(store);
    try {
      const page = await get(s.admin, '/admin/sessions', s.adminSession);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /This store cannot list sessions/);
      assert.equal((await get(s.admin, '/admin/api/sessions', s.adminSession)).status, 501);
      const audit = await (await get(s.admin, '/admin/audit', s.adminSession)).text();
      assert.match(audit, /No audit trail/);
      const overview = await (await get(s.admin, '/admin/', s.adminSession)).text();
      assert.match(overview, /cannot count its sessions/);
    } finally {
      await s.close();
    }
  });

  it('answers 503 with a clear message when the store is unreachable', async () => {
    const port = await freePort();
    const store = createRedisStore({ port, connectTimeout: 300, prefix: redisPrefix });
    const manager = createSessionManager({ store, cleanupInterval: false });
    const root = await createSessionManager({ cleanupInterval: false }).create({ userId: 'root' });
    const admin = createAdminHandler({ manager, authorize: () => true });
    try {
      const api = await get(admin, '/admin/api/sessions', root.session);
      assert.equal(api.status, 503);
      const body = (await api.json()) as { error: string; message: string };
      assert.equal(body.error, 'store_unavailable');
      assert.match(body.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      const page = await get(admin, '/admin/sessions', root.session);
      assert.equal(page.status, 503);
      assert.match(await page.text(), /Session store unavailable/);
    } finally {
      await manager.close();
      await store.close();
    }
  });
});
