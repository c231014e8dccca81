/**
 * The README's minimal app per framework (examples/*.ts), each started as its own process and
 * driven over HTTP. The `tessera-session/...` imports are pointed at the sources (as the package's exports
 * map would after a build) in a copy under test-output/.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { WebSocket } from 'ws';
import { freePort, waitForPort } from '../support/services.js';
import { Jar } from './adapter-suite.js';

const root = resolve(import.meta.dirname, '../..');
const out = join(root, 'test-output', `examples-${process.pid}`);
const ENTRY: Record<string, string> = {
  'tessera-session': 'src/index.ts',
  'tessera-session/express': 'src/adapters/express.ts',
  'tessera-session/fastify': 'src/adapters/fastify.ts',
  'tessera-session/hono': 'src/adapters/hono.ts',
  'tessera-session/http': 'src/http/index.ts',
  'tessera-session/cookie': 'src/stores/cookie/index.ts',
};
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

async function runExample(name: string): Promise<string> {
  mkdirSync(out, { recursive: true });
  const source = readFileSync(join(root, 'examples', `${name}.ts`), 'utf8').replace(
    /from '(tessera-session(?:\/[a-z-]+)?)'/g,
    (_m, spec: string) => {
      const target = ENTRY[spec];
      assert.ok(target, `unknown entry ${spec}`);
      return `from '${join(root, target)}'`;
    },
  );
  const file = join(out, `${name}.ts`);
  writeFileSync(file, source);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'development' },
    stdio: 'ignore',
  });
  children.push(child);
  await waitForPort('127.0.0.1', port, 20_000);
  return `http://localhost:${port}`;
}

for (const name of ['express', 'fastify', 'hono', 'cookie-sessions']) {
  describe(`examples/${name}.ts`, () => {
    it('serves a page, logs in with the form token, counts with the header token, refuses without', async () => {
      const base = await runExample(name);
      const jar = new Jar();
      const go = async (
        method: string,
        path: string,
        init: { body?: string; headers?: Record<string, string> } = {},
      ) => {
        const res = await fetch(base + path, {
          method,
          redirect: 'manual',
          body: init.body,
          headers: { ...(jar.cookies.size ? { cookie: jar.header() } : {}), ...init.headers },
        });
        jar.take(res);
        return { status: res.status, text: await res.text() };
      };
      const home = await go('GET', '/');
      assert.equal(home.status, 200);
      assert.match(home.text, /Hello stranger, count: 0/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(home.text)![1]!;
      const login = await go('POST', '/login', {
        body: new URLSearchParams({ _csrf: csrf, user: 'ada' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(login.status, 303);
      assert.equal((await go('POST', '/count')).status, 403);
      const count = await go('POST', '/count', { headers: { 'x-csrf-token': jar.csrf() } });
      assert.equal(count.status, 200);
      assert.deepEqual(JSON.parse(count.text), { count: 1 });
      assert.match((await go('GET', '/')).text, /Hello ada, count: 1/);
      assert.equal(
        (await go('POST', '/logout', { headers: { 'x-csrf-token': jar.csrf() } })).status,
        303,
      );
      assert.match((await go('GET', '/')).text, /Hello stranger, count: 0/);
    });
  });
}

describe('examples/websocket.ts', () => {
  /** Opens a WebSocket; resolves with its first message, or with the HTTP status it was refused with. */
  function connect(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; first?: string; echo?: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      });
      ws.once('message', (first) => {
        ws.once('message', (echo) => {
          ws.close();
          resolve({ status: 101, first: String(first), echo: String(echo) });
        });
        ws.send('hi');
      });
      ws.on('error', (err) => {
        if (!/Unexpected server response/.test(err.message)) reject(err);
      });
    });
  }

  it('a logged-in cookie connects and gets its user; a foreign Origin gets 403; no session 401', async () => {
    const base = await runExample('websocket');
    const origin = base;
    const wsUrl = `${base.replace('http', 'ws')}/live`;
    const jar = new Jar();
    const home = await fetch(`${base}/`);
    jar.take(home);
    const { csrf } = (await home.json()) as { csrf: string };
    const login = await fetch(`${base}/login?user=ada`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'x-csrf-token': csrf },
    });
    jar.take(login);
    assert.equal(login.status, 200);
    const cookie = jar.header();

    const ok = await connect(wsUrl, { cookie, origin });
    assert.deepEqual(
      { status: ok.status, first: JSON.parse(ok.first!), echo: ok.echo },
      { status: 101, first: { hello: 'ada' }, echo: 'ada: hi' },
    );
    // A page elsewhere: the browser would send the cookie, so the Origin is what decides.
    assert.equal((await connect(wsUrl, { cookie, origin: 'https://evil.example' })).status, 403);
    assert.equal((await connect(wsUrl, { cookie, origin: 'null' })).status, 403);
    // No cookie, or a dead one: anonymous, which this app refuses.
    assert.equal((await connect(wsUrl, { origin })).status, 401);
    const out = await fetch(`${base}/`, { headers: { cookie } });
    assert.equal(((await out.json()) as { user: string }).user, 'ada');
  });
});
