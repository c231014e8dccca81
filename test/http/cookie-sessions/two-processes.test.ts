/**
 * Stateless client-side sessions: two server PROCESSES with the same secrets serve one client
 * alternately, through each adapter. Every write made on one is read on the other; a login, a
 * logout and "log out everywhere" (per-user generations kept in Redis, shared by both) hold
 * across them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type StandaloneRedis, startRedis } from '../../support/redis-servers.js';
import { requireCommand } from '../../support/services.js';
import { call, Jar, type RunningApp } from '../http-client.js';
import { ADAPTERS, type AdapterName } from './apps.js';

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const ok = await requireCommand('redis-server', 'apt-get install -y redis-server');
const SECRETS = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')];

let redis: StandaloneRedis;
const children: ChildProcess[] = [];
let servers: Server[] = [];
beforeAll(async () => {
  if (!ok) return;
  redis = await startRedis();
  const prefix = `cookie2p-${randomBytes(4).toString('hex')}:`;
  servers = await Promise.all([serverProcess(prefix), serverProcess(prefix)]);
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill();
  await redis?.stop();
});

type Server = { urls: Record<AdapterName, string>; pid: number };

/** Starts a server process (every adapter on its own port) and waits for its URLs. */
function serverProcess(prefix: string): Promise<Server> {
  const child = fork(CHILD, [SECRETS.join(','), String(redis.port), prefix], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server process exited ${code} before ready`)));
    child.once('message', (m: Server) => resolve(m));
  });
}

type Who = { id: string | null; userId: string | null; data: Record<string, unknown> };

describe.skipIf(!ok).each(ADAPTERS)('two server processes, one client, through %s', (adapter) => {
  it('alternate requests see one session: writes, login, logout and log out everywhere', async () => {
    const app = (s: Server): RunningApp => ({ url: s.urls[adapter], close: async () => {} });
    const [a, b] = [app(servers[0]!), app(servers[1]!)];
    assert.notEqual(servers[0]!.pid, servers[1]!.pid);
    const user = `heidi-${adapter}`;
    const jar = new Jar();
    const who = async (i: number) =>
      (await call([a, b][i % 2]!, jar, 'GET', '/whoami')).body as Who;

    await call(a, jar, 'GET', '/whoami');
    for (let i = 0; i < 6; i++) {
      const res = await call([a, b][i % 2]!, jar, 'POST', `/set?key=k${i}&value=${i}`);
      assert.equal(res.res.status, 200, `write ${i}`);
    }
    const expected = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, String(i)]));
    assert.deepEqual((await who(0)).data, expected);
    assert.deepEqual((await who(1)).data, expected);

    await call(b, jar, 'POST', '/big?bytes=8000');
    assert.equal(
      ((await who(0)).data.big as string).length,
      8000,
      'chunks written by B, read by A',
    );
    await call(a, jar, 'POST', '/drop?key=big');
    assert.equal((await who(1)).data.big, undefined);

    await call(a, jar, 'POST', `/login?user=${user}`);
    const signedIn = await who(1);
    assert.equal(signedIn.userId, user);

    // Another browser of the same user, signed in on B; "log out everywhere else" from A.
    const phone = new Jar();
    await call(b, phone, 'GET', '/whoami');
    await call(b, phone, 'POST', `/login?user=${user}`);
    assert.equal(((await call(a, phone, 'GET', '/whoami')).body as Who).userId, user);
    const all = await call(a, jar, 'POST', '/logout-all?except=1');
    assert.equal(all.res.status, 200);
    assert.equal(((await call(b, phone, 'GET', '/whoami')).body as Who).id, null, 'revoked on B');
    assert.equal((await who(1)).userId, user, 'this browser stays signed in, on both');
    assert.equal((await who(0)).userId, user);

    await call(b, jar, 'POST', '/logout');
    assert.equal((await who(0)).id, null);
    assert.equal(jar.cookies.has('tessera'), false);
  });
});
