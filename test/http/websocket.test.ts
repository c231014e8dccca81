/**
 * WebSocket upgrades through the frameworks' own WebSocket support, with a real `ws` client:
 * Fastify (@fastify/websocket: the plugin's hooks run for the upgrade) and Hono
 * (@hono/node-server's `upgradeWebSocket`: the middleware runs for it). The session is loaded and
 * read-only, the Origin must be this host or a trusted origin (403 otherwise), a store outage is a
 * 503. Fastify's per-route `config: { session: false }` is here too. (Express + ws: the
 * example, in examples.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import { serve, upgradeWebSocket } from '@hono/node-server';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, describe, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { tesseraSession as fastifySession } from '../../src/adapters/fastify.js';
import { tesseraSession as honoSession } from '../../src/adapters/hono.js';
import { isTesseraError } from '../../src/core/errors.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionHttp } from '../../src/http/handler.js';
import { refuseUpgrade, upgradeSession } from '../../src/http/upgrade.js';
import { createSessionManager } from '../../src/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { freePort } from '../support/services.js';

const managers: SessionManager[] = [];
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  await Promise.all(managers.map((m) => m.close()));
});

function newManager(): SessionManager {
  const manager = createSessionManager({ cleanupInterval: false });
  managers.push(manager);
  return manager;
}

/** What the test routes send first: the user, and the code a write to the session threw. */
type Hello = { hello: string | null; write: string | null };

function tryWrite(write: () => unknown): string | null {
  try {
    write();
    return null;
  } catch (err) {
    return isTesseraError(err) ? err.code : String(err);
  }
}

/** Opens a WebSocket: its first message, or the HTTP status it was refused with. */
function connect(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; hello?: Hello }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('message', (data) => {
      ws.close();
      resolve({ status: 101, hello: JSON.parse(String(data)) as Hello });
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** The cases every framework shows, against an app serving `/live` on `base`. */
async function upgradeCases(base: string, manager: SessionManager): Promise<void> {
  const { token } = await manager.create({ userId: 'ada' });
  const wsUrl = `${base.replace('http', 'ws')}/live`;
  const cookie = `tessera=${token}`;
  const own = await connect(wsUrl, { cookie, origin: base });
  assert.deepEqual(own, { status: 101, hello: { hello: 'ada', write: 'SESSION_READ_ONLY' } });
  const trusted = await connect(wsUrl, { cookie, origin: 'https://app.example.com' });
  assert.equal(trusted.hello?.hello, 'ada');
  // ws sends no Origin: no browser, so no cross-site page, is involved.
  assert.equal((await connect(wsUrl, { cookie })).hello?.hello, 'ada');
  for (const origin of ['https://evil.example', 'null', `${base}.evil.example`])
    assert.equal((await connect(wsUrl, { cookie, origin })).status, 403, origin);
  // No cookie: an anonymous session, which these routes refuse.
  assert.equal((await connect(wsUrl, { origin: base })).status, 401);
}

const options = { mode: 'development', trustedOrigins: ['https://app.example.com'] } as const;

describe('WebSocket upgrades: Fastify (@fastify/websocket)', () => {
  async function fastifyApp(manager: SessionManager) {
    const app = Fastify();
    await app.register(fastifyWebsocket);
    await app.register(fastifySession, { manager, ...options });
    app.addHook('preHandler', async (req, reply) => {
      if (req.url === '/live' && !req.session.userId) return reply.code(401).send('no session');
    });
    app.get('/live', { websocket: true }, (socket, req) => {
      const write = tryWrite(() => req.session.set('seen', true));
      socket.send(JSON.stringify({ hello: req.session.userId, write }));
    });
    app.get('/health', { config: { session: false } }, async (req) => ({
      code: tryWrite(() => req.session.userId),
    }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    return url;
  }

  it('the session of the upgrade, read-only; foreign Origins 403', async () => {
    const manager = newManager();
    await upgradeCases(await fastifyApp(manager), manager);
  });

  it('a route with config: { session: false } calls no store and sets no cookie', async () => {
    const manager = newManager();
    const base = await fastifyApp(manager);
    const { token } = await manager.create({ userId: 'ada' });
    const res = await fetch(`${base}/health`, { headers: { cookie: `tessera=${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.deepEqual(await res.json(), { code: 'SESSION_EXCLUDED' });
  });
});

describe('WebSocket upgrades: Hono (@hono/node-server upgradeWebSocket)', () => {
  it('the session of the upgrade, read-only; foreign Origins 403', async () => {
    const manager = newManager();
    const app = new Hono();
    app.use('*', honoSession(manager, options));
    app.get(
      '/live',
      async (c, next) => (c.get('session').userId ? next() : c.text('no session', 401)),
      upgradeWebSocket((c) => {
        const session = c.get('session');
        return {
          onOpen(_event, ws) {
            const write = tryWrite(() => session.set('seen', true));
            ws.send(JSON.stringify({ hello: session.userId, write }));
          },
        };
      }),
    );
    const wss = new WebSocketServer({ noServer: true });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        { fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket: { server: wss } },
        () => resolve(s),
      );
    });
    closers.push(() => new Promise((r) => server.close(r)));
    const { port } = server.address() as AddressInfo;
    await upgradeCases(`http://127.0.0.1:${port}`, manager);
  });
});

describe('WebSocket upgrades: Node upgrade event (upgradeSession)', () => {
  it('a store outage is a 503 on the upgrade, not a crash', async () => {
    const store = createRedisStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      commandTimeout: 300,
    });
    const manager = createSessionManager({ store, cleanupInterval: false });
    managers.push(manager);
    const http = createSessionHttp(manager, options);
    const server: Server = createServer();
    server.on('upgrade', async (req, socket) => {
      const result = await upgradeSession(http, req);
      refuseUpgrade(socket, result.ok ? 500 : result.answer);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    const { port } = server.address() as AddressInfo;
    const r = await connect(`ws://127.0.0.1:${port}/live`, {
      cookie: `tessera=${'A'.repeat(43)}`,
      origin: `http://127.0.0.1:${port}`,
    });
    assert.equal(r.status, 503);
  });
});
