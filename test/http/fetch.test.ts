/**
 * `handleFetch` (the Web Request → Response adapter for Bun, Deno and Workers) through the same
 * adapter suite as Express, Fastify and Hono. @hono/node-server only turns Node's request into a
 * Web `Request` and writes the `Response` back; the routing below is plain code.
 */
import { serve } from '@hono/node-server';
import { describe } from 'vitest';
import { handleFetch } from '../../src/adapters/fetch.js';
import { RateLimitedError } from '../../src/core/errors.js';
import { createSessionHttp } from '../../src/http/handler.js';
import type { RequestSession } from '../../src/http/session.js';
import {
  keepOption,
  nested,
  signinStatus,
  timeoutOptions,
  verifyPassword,
} from './adapter-helpers.js';
import { testAdapter } from './adapter-suite.js';

type Route = (request: Request, session: RequestSession, query: URLSearchParams) => unknown;

const wait = (ms: string | null) => new Promise((r) => setTimeout(r, Number(ms)));

const routes: Record<string, Route> = {
  'GET /whoami': (_r, s) => ({ id: s.id, userId: s.userId, data: s.data, csrf: s.csrfToken }),
  'GET /flash': (_r, s) => ({ flashes: s.flashes() }),
  'POST /flash': (_r, s, q) => {
    s.flash('info', q.get('msg') ?? '');
    return { ok: true };
  },
  'POST /login': async (_r, s, q) => {
    await s.regenerate({
      userId: q.get('user'),
      keepData: keepOption(q.get('keep')),
      ...timeoutOptions(q.get('idle'), q.get('absolute')),
    });
    return { token: s.issuedToken };
  },
  'POST /set': (_r, s, q) => {
    s.set(q.get('key')!, q.get('value')!);
    return { ok: true };
  },
  'POST /form': async (r, s) => {
    s.set('form', String((await r.formData()).get('note')));
    return { ok: true };
  },
  'POST /skip': (_r, s) => {
    s.set('skipped', true);
    return { ok: true };
  },
  'POST /slow': async (_r, s, q) => {
    s.set('slow', true);
    await wait(q.get('ms'));
    return { ok: true };
  },
  'GET /wait': async (_r, _s, q) => {
    await wait(q.get('ms'));
    return { ok: true };
  },
  'POST /logout': async (_r, s) => {
    await s.destroy();
    return { ok: true };
  },
  'POST /big': (_r, s, q) => {
    s.set('big', 'x'.repeat(Number(q.get('bytes'))));
    return { ok: true };
  },
  'POST /deep': (_r, s, q) => {
    s.set('deep', nested(Number(q.get('depth'))));
    return { ok: true };
  },
  'POST /signin': async (_r, s, q) => {
    const [user, password] = [q.get('user')!, q.get('password')!];
    const result = await s.login(
      user,
      () => verifyPassword(user, password),
      timeoutOptions(q.get('idle'), q.get('absolute')),
    );
    return Response.json(result, { status: signinStatus(result) });
  },
  'POST /limited': () => {
    throw new RateLimitedError(1500);
  },
};

describe('handleFetch (served by @hono/node-server)', () => {
  testAdapter('fetch', async (manager, options) => {
    const http = createSessionHttp(manager, options);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        {
          fetch: (request: Request, env: { incoming: { socket: { remoteAddress?: string } } }) => {
            const url = new URL(request.url);
            if (url.pathname === '/plain') return Response.json({ ok: true });
            return handleFetch(
              http,
              request,
              async (req, session) => {
                const route = routes[`${req.method} ${url.pathname}`];
                if (!route) return new Response('not found', { status: 404 });
                const answer = await route(req, session, url.searchParams);
                return answer instanceof Response ? answer : Response.json(answer);
              },
              env.incoming.socket.remoteAddress,
            );
          },
          port: 0,
          hostname: '127.0.0.1',
        },
        () => resolve(s),
      );
    });
    const address = server.address() as import('node:net').AddressInfo;
    return {
      url: `http://127.0.0.1:${address.port}`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  });
});
