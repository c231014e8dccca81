/**
 * One small app, served by each adapter (Express, Fastify, Hono, `handleFetch`), for the
 * client-side session tests: the same routes, dispatched by a route table, so every adapter is
 * driven the same way. Routes (all JSON):
 *   GET  /whoami              → { id, userId, data, csrf, miss }
 *   POST /set?key=k&value=v   → session.set(k, v)
 *   POST /big?bytes=n         → session.set('big', n characters)
 *   POST /drop?key=k          → session.delete(k)
 *   POST /flash?msg=m, GET /flash
 *   POST /login?user=u        → session.regenerate({ userId: u })
 *   POST /signin?user=u&password=p → session.login(…)
 *   POST /logout              → session.destroy()
 *   POST /logout-all[?except=1] → session.destroyAll({ exceptCurrent })
 *   GET  /devices             → manager.listUserSessions(userId)
 *   POST /end?id=…            → manager.terminate(id)
 * A route that throws a Tessera error answers { error: code, name, message } with 501.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { tesseraSession as expressSession, sessionOf } from '../../../src/adapters/express.js';
import { tesseraSession as fastifySession } from '../../../src/adapters/fastify.js';
import { handleFetch } from '../../../src/adapters/fetch.js';
import { tesseraSession as honoSession } from '../../../src/adapters/hono.js';
import { TesseraError } from '../../../src/core/errors.js';
import type { SessionManager } from '../../../src/core/manager-api.js';
import { createSessionHttp } from '../../../src/http/handler.js';
import type { SessionHttpOptions } from '../../../src/http/http-options.js';
import type { RequestSession } from '../../../src/http/session.js';
import { RIGHT_PASSWORD } from '../adapter-helpers.js';
import type { RunningApp } from '../http-client.js';

export const ADAPTERS = ['express', 'fastify', 'hono', 'fetch'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

type Answer = { status: number; body: unknown };
type Route = (s: RequestSession, q: URLSearchParams, manager: SessionManager) => unknown;

const routes: Record<string, Route> = {
  'GET /whoami': (s) => ({
    id: s.id,
    userId: s.userId,
    data: s.data,
    csrf: s.csrfToken,
    miss: s.miss,
  }),
  'POST /set': (s, q) => s.set(q.get('key')!, q.get('value')!) && { ok: true },
  'POST /big': (s, q) => s.set('big', 'b'.repeat(Number(q.get('bytes')))) && { ok: true },
  'POST /drop': (s, q) => s.delete(q.get('key')!) && { ok: true },
  'POST /flash': (s, q) => s.flash('info', q.get('msg') ?? '') && { ok: true },
  'GET /flash': (s) => ({ flashes: s.flashes() }),
  'POST /login': async (s, q) => {
    await s.regenerate({ userId: q.get('user') });
    return { userId: s.userId };
  },
  'POST /signin': async (s, q) => {
    const user = q.get('user') ?? '';
    const password = q.get('password');
    return s.login(user, () => (password === RIGHT_PASSWORD ? user : null));
  },
  'POST /logout': async (s) => {
    await s.destroy();
    return { ok: true };
  },
  'POST /logout-all': async (s, q) => ({
    ended: await s.destroyAll({ exceptCurrent: q.get('except') === '1' }),
  }),
  'GET /devices': async (s, _q, manager) => manager.listUserSessions(s.userId ?? 'nobody'),
  'POST /end': async (_s, q, manager) => ({ ended: await manager.terminate(q.get('id')!) }),
};

async function dispatch(
  method: string,
  url: string,
  session: RequestSession,
  manager: SessionManager,
): Promise<Answer> {
  const { pathname, searchParams } = new URL(url, 'http://localhost');
  const route = routes[`${method} ${pathname}`];
  if (!route) return { status: 404, body: { error: 'no route' } };
  try {
    return { status: 200, body: await route(session, searchParams, manager) };
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    return { status: 501, body: { error: err.code, name: err.name, message: err.message } };
  }
}

function listening(server: Server): RunningApp {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Serves the app with one adapter on a free loopback port. */
export async function startApp(
  adapter: AdapterName,
  manager: SessionManager,
  options: SessionHttpOptions = {},
): Promise<RunningApp> {
  if (adapter === 'express') {
    const app = express();
    const sessions = expressSession(manager, options);
    app.use(sessions);
    app.use(async (req, res, next) => {
      try {
        const answer = await dispatch(req.method, req.url, sessionOf(req), manager);
        res.status(answer.status).json(answer.body);
      } catch (err) {
        next(err);
      }
    });
    app.use(sessions.errors);
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return listening(server);
  }
  if (adapter === 'fastify') {
    const app = Fastify();
    await app.register(fastifySession, { manager, ...options });
    app.all('/*', async (req, reply) => {
      const answer = await dispatch(req.method, req.url, req.session, manager);
      return reply.code(answer.status).send(answer.body);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  }
  if (adapter === 'hono') {
    const app = new Hono();
    app.use('*', honoSession(manager, options));
    app.all('*', async (c) => {
      const answer = await dispatch(c.req.method, c.req.url, c.get('session'), manager);
      return c.json(answer.body as object, answer.status as 200);
    });
    return serveFetch(app.fetch);
  }
  const http = createSessionHttp(manager, options);
  return serveFetch((request: Request) =>
    handleFetch(http, request, async (req, session) => {
      const answer = await dispatch(req.method, req.url, session, manager);
      return Response.json(answer.body, { status: answer.status });
    }),
  );
}

function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<RunningApp> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(listening(server as Server)),
    );
  });
}
