/**
 * The demo app as `npm start` runs it: a child process (tsx demo/server.ts) on a free port with its
 * SQLite file in a temporary folder, driven over HTTP like a browser without JavaScript would.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Jar } from '../http/adapter-suite.js';
import { freePort, waitForPort } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
let child: ChildProcess | undefined;
let base = '';
let stderr = '';

async function startDemo(port: number) {
  child = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TESSERA_DEMO_DB: join(dir, 'demo.sqlite'),
      SESSION_STORAGE: '',
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  await waitForPort('127.0.0.1', port, 20_000);
  base = `http://localhost:${port}`;
}

async function stopDemo() {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child!.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  await startDemo(await freePort());
});
afterAll(async () => {
  await stopDemo();
  rmSync(dir, { recursive: true, force: true });
});

/** A browser: cookies kept, redirects not followed (we check them). */
async function go(
  jar: Jar,
  method: 'GET' | 'POST',
  path: string,
  form?: Record<string, string>,
  ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
) {
  const headers: Record<string, string> = { accept: 'text/html', 'user-agent': ua };
  if (jar.cookies.size) headers.cookie = jar.header();
  let body: string | undefined;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(base + path, { method, headers, body, redirect: 'manual' });
  jar.take(res);
  return {
    status: res.status,
    location: res.headers.get('location'),
    html: await res.text(),
    headers: res.headers,
  };
}

function hiddenCsrf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the page carries a CSRF field');
  return m[1]!;
}

describe('demo app (npm start)', () => {
  it('login → form → devices → revoke → logout, over HTTP', async () => {
    const jar = new Jar();
    const login = await go(jar, 'GET', '/login');
    assert.equal(login.status, 200);
    assert.match(login.html, /alice/);
    assert.match(login.html, /wonderland/);
    const loggedIn = await go(jar, 'POST', '/login', {
      _csrf: hiddenCsrf(login.html),
      username: 'alice',
      password: 'wonderland',
    });
    assert.equal(loggedIn.status, 303);
    assert.equal(loggedIn.location, '/');

    const home = await go(jar, 'GET', '/');
    assert.equal(home.status, 200);
    assert.match(home.html, /Welcome back, Alice/);
    const saved = await go(jar, 'POST', '/notes', {
      _csrf: hiddenCsrf(home.html),
      note: 'buy <milk>',
    });
    assert.equal(saved.status, 303);
    const home2 = await go(jar, 'GET', '/');
    assert.match(home2.html, /buy &lt;milk&gt;/);
    assert.match(home2.html, /Note saved/);
    // Without the token the form is refused.
    const forged = await go(jar, 'POST', '/notes', { note: 'forged' });
    assert.equal(forged.status, 403);
    assert.match(forged.html, /CSRF token/);
    // The refusal is the demo's own page (refusalPage), not the layer's bare one.
    assert.match(forged.html, /<span class="brand">Tessera demo<\/span>/);
    assert.match(forged.html, /Back to the home page/);

    // A second device (another browser) logs in as alice too.
    const phone = new Jar();
    const phoneLogin = await go(
      phone,
      'GET',
      '/login',
      undefined,
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    );
    await go(
      phone,
      'POST',
      '/login',
      { _csrf: hiddenCsrf(phoneLogin.html), username: 'alice', password: 'wonderland' },
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    );

    const devices = await go(jar, 'GET', '/devices');
    assert.equal(devices.status, 200);
    assert.match(devices.html, /Chrome 126/);
    assert.match(devices.html, /Mobile Safari|Safari/);
    assert.match(devices.html, /iOS/);
    assert.match(devices.html, /this device/);
    assert.match(devices.html, /127\.0\.0\.1/);
    const ids = [...devices.html.matchAll(/name="id" value="([0-9a-f]{64})"/g)].map((m) => m[1]!);
    assert.equal(ids.length, 1, 'one other session can be revoked');
    const revoked = await go(jar, 'POST', '/devices/revoke', {
      _csrf: hiddenCsrf(devices.html),
      id: ids[0]!,
    });
    assert.equal(revoked.status, 303);
    const phoneAfter = await go(phone, 'GET', '/');
    assert.equal(phoneAfter.status, 303, 'the revoked device is logged out');
    assert.equal(phoneAfter.location, '/login');
    const phoneLogin2 = await go(phone, 'GET', '/login');
    assert.match(phoneLogin2.html, /You were signed out from another device\./, 'and told why');
    assert.equal(
      (await go(phone, 'GET', '/login')).html.includes('signed out from another device'),
      false,
      'once',
    );

    const devices2 = await go(jar, 'GET', '/devices');
    assert.match(devices2.html, /session was revoked/);
    assert.equal([...devices2.html.matchAll(/name="id" value=/g)].length, 0);

    const sessionCookie = jar.session();
    const out = await go(jar, 'POST', '/logout', { _csrf: hiddenCsrf(devices2.html) });
    assert.equal(out.status, 303);
    assert.equal(out.location, '/login');
    const afterLogout = await go(jar, 'GET', '/login');
    assert.match(afterLogout.html, /You have been logged out/);
    const replay = new Jar();
    replay.cookies.set('tessera', sessionCookie!);
    assert.equal((await go(replay, 'GET', '/')).status, 303, 'the old cookie no longer works');
  });

  it("alice logging in on bob's browser (bob never logged out) does not see bob's notes", async () => {
    const jar = new Jar();
    const page = await go(jar, 'GET', '/login');
    await go(jar, 'POST', '/login', {
      _csrf: hiddenCsrf(page.html),
      username: 'bob',
      password: 'builder',
    });
    const home = await go(jar, 'GET', '/');
    await go(jar, 'POST', '/notes', { _csrf: hiddenCsrf(home.html), note: 'bob-private-note' });
    assert.match((await go(jar, 'GET', '/')).html, /bob-private-note/);
    // The login form posted again from the same browser, now as alice.
    const relogin = await go(jar, 'POST', '/login', {
      _csrf: jar.csrf(),
      username: 'alice',
      password: 'wonderland',
    });
    assert.equal(relogin.status, 303);
    const alice = await go(jar, 'GET', '/');
    assert.match(alice.html, /Alice/);
    assert.doesNotMatch(alice.html, /bob-private-note/);
  });

  it('"log out everywhere else" ends the other sessions only', async () => {
    const a = new Jar();
    const b = new Jar();
    for (const jar of [a, b]) {
      const page = await go(jar, 'GET', '/login');
      await go(jar, 'POST', '/login', {
        _csrf: hiddenCsrf(page.html),
        username: 'bob',
        password: 'builder',
      });
    }
    const devices = await go(a, 'GET', '/devices');
    const res = await go(a, 'POST', '/devices/revoke-others', { _csrf: hiddenCsrf(devices.html) });
    assert.equal(res.status, 303);
    assert.equal((await go(a, 'GET', '/')).status, 200);
    assert.equal((await go(b, 'GET', '/')).status, 303);
  });

  it('failed logins are rate-limited with a clear message and Retry-After', async () => {
    const jar = new Jar();
    let last = await go(jar, 'GET', '/login');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      last = await go(jar, 'POST', '/login', {
        _csrf: hiddenCsrf(last.html),
        username: 'admin',
        password: 'nope',
      });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses.slice(0, 4), [401, 401, 401, 401]);
    assert.equal(statuses[5], 429);
    assert.match(last.html, /Too many failed login attempts/);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    // Even the right password is refused while blocked.
    const blocked = await go(jar, 'POST', '/login', {
      _csrf: hiddenCsrf(last.html),
      username: 'admin',
      password: 'admin-demo',
    });
    assert.equal(blocked.status, 429);
  });

  it('sessions survive a restart (SQLite file under the project by default)', async () => {
    const jar = new Jar();
    const page = await go(jar, 'GET', '/login');
    await go(jar, 'POST', '/login', {
      _csrf: hiddenCsrf(page.html),
      username: 'alice',
      password: 'wonderland',
    });
    assert.equal((await go(jar, 'GET', '/')).status, 200);
    await stopDemo();
    await startDemo(await freePort());
    assert.equal(
      (await go(jar, 'GET', '/')).status,
      200,
      `still logged in after restart ${stderr.slice(-300)}`,
    );
  });

  it('the dashboard API answers 401/403 as JSON, and the dashboard refuses a bad CSRF token itself', async () => {
    const visitor = new Jar();
    const api = await fetch(`${base}/admin/api/overview`, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
    });
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { error: string }).error, 'unauthenticated');
    assert.equal((await go(visitor, 'GET', '/admin')).location, '/login', 'pages still redirect');

    const bob = new Jar();
    const page = await go(bob, 'GET', '/login');
    await go(bob, 'POST', '/login', {
      _csrf: hiddenCsrf(page.html),
      username: 'bob',
      password: 'builder',
    });
    const forbidden = await fetch(`${base}/admin/api/sessions`, {
      headers: { accept: 'application/json', cookie: bob.header() },
    });
    assert.equal(forbidden.status, 403);
    assert.equal(((await forbidden.json()) as { error: string }).error, 'forbidden');

    const admin = new Jar();
    const adminLogin = await go(admin, 'GET', '/login');
    // (The restart in the test before cleared the in-memory block on "admin".)
    const adminIn = await go(admin, 'POST', '/login', {
      _csrf: hiddenCsrf(adminLogin.html),
      username: 'admin',
      password: 'admin-demo',
    });
    assert.equal(adminIn.status, 303, adminIn.html);
    const refused = await go(admin, 'POST', '/admin/sessions/terminate', { id: 'a'.repeat(64) });
    assert.equal(refused.status, 403);
    assert.match(refused.html, /<h1>Tessera admin<\/h1>/, "the dashboard's own page");
    assert.match(refused.html, /Request refused/);
    const apiRefused = await fetch(`${base}/admin/api/users/bob/terminate`, {
      method: 'POST',
      headers: { accept: 'application/json', cookie: admin.header() },
    });
    assert.equal(apiRefused.status, 403);
    assert.equal(((await apiRefused.json()) as { error: string }).error, 'csrf');
  });
});

describe('demo start-up with a bad configuration', () => {
  it('says in one line which variable to fix and exits 3, without a stack trace', async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'demo/server.ts'],
        {
          env: { ...process.env, SESSION_STORAGE: '', SESSION_IDLE_TIMEOUT: 'banana' },
          timeout: 30_000,
        },
        (_err, _stdout, stderr) => done({ code: child.exitCode, stderr }),
      );
    });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /^The demo cannot start: .*SESSION_IDLE_TIMEOUT.*"banana"/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
