/**
 * examples/admin-express.ts (the README's dashboard example) started as its own process: a visitor
 * is sent to log in, a non-admin gets a 403, an admin sees the sessions page, and terminating a
 * session needs the admin session's CSRF token.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { rawStatus } from '../http/adapter-suite.js';
import { freePort, waitForPort } from '../support/services.js';

let child: ChildProcess;
let origin: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'examples/admin-express.ts'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort('127.0.0.1', port, 20_000);
}, 30_000);
afterAll(() => {
  child?.kill();
});

/** Logs in as `user` and returns the cookie header of the new session and its CSRF token. */
async function login(user: string) {
  const form = await fetch(`${origin}/login`);
  const cookies = form.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: new URLSearchParams({ user, _csrf: csrf }),
  });
  assert.equal(res.status, 303, await res.text());
  const jar = new Map(cookies.map((c) => [c.split('=')[0]!, c]));
  for (const c of res.headers.getSetCookie()) jar.set(c.split('=')[0]!, c.split(';')[0]!);
  const cookie = [...jar.values()].join('; ');
  const token = [...jar.values()].find((c) => c.includes('csrf'))?.split('=')[1] ?? '';
  return { cookie, csrf: decodeURIComponent(token) };
}

describe('examples/admin-express.ts', () => {
  it('guards the dashboard and lets an admin terminate a session', async () => {
    const anonymous = await fetch(`${origin}/admin/sessions`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/login');

    const bob = await login('bob');
    assert.equal((await fetch(`${origin}/admin`, { headers: { cookie: bob.cookie } })).status, 403);

    const root = await login('root');
    const page = await fetch(`${origin}/admin/sessions`, { headers: { cookie: root.cookie } });
    assert.equal(page.status, 200);
    const html = await page.text();
    const bobId = /<tr data-session-id="([0-9a-f]{64})"><td><a [^>]*>bob</.exec(html)?.[1];
    assert.ok(bobId, "bob's session is in the table");

    const terminate = (csrf: string) =>
      fetch(`${origin}/admin/api/sessions/${bobId}/terminate`, {
        method: 'POST',
        headers: { cookie: root.cookie, 'x-csrf-token': csrf },
      });
    assert.equal((await terminate('wrong')).status, 403);
    const done = await terminate(root.csrf);
    assert.deepEqual(await done.json(), { id: bobId, terminated: true });
    const after = await fetch(`${origin}/admin`, {
      headers: { cookie: bob.cookie },
      redirect: 'manual',
    });
    assert.equal(after.status, 303, 'bob is logged out');
  }, 30_000);

  it('answers 400, not a 500 stack-trace page, to a Host header that is not a host', async () => {
    for (const host of ['a b', '[::1']) {
      const status = await rawStatus(
        origin,
        Buffer.from(`GET /admin HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
      );
      assert.equal(status, 400, host);
    }
  });
});
