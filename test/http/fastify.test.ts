import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { describe, it } from 'vitest';
import { tesseraSession } from '../../src/adapters/fastify.js';
import { RateLimitedError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/index.js';
import {
  keepOption,
  nested,
  signinStatus,
  timeoutOptions,
  verifyPassword,
} from './adapter-helpers.js';
import { testAdapter } from './adapter-suite.js';
import { rawStatus } from './http-client.js';

describe('Fastify adapter', () => {
  testAdapter('fastify', async (manager, options) => {
    const app = Fastify();
    app.get('/plain', async () => ({ ok: true }));
    await app.register(async (scope) => {
      await scope.register(tesseraSession, { manager, ...options });
      scope.get('/whoami', async (req) => ({
        id: req.session.id,
        userId: req.session.userId,
        data: req.session.data,
        csrf: req.session.csrfToken,
      }));
      scope.get('/flash', async (req) => ({ flashes: req.session.flashes() }));
      scope.post('/flash', async (req) => {
        req.session.flash('info', String((req.query as { msg: string }).msg));
        return { ok: true };
      });
      scope.post('/login', async (req) => {
        const q = req.query as { user: string; keep?: string; idle?: string; absolute?: string };
        await req.session.regenerate({
          userId: String(q.user),
          keepData: keepOption(q.keep),
          ...timeoutOptions(q.idle, q.absolute),
        });
        return { token: req.session.issuedToken };
      });
      scope.post('/set', async (req) => {
        const q = req.query as { key: string; value: string };
        req.session.set(q.key, q.value);
        return { ok: true };
      });
      scope.post('/form', async (req) => {
        req.session.set('form', String((req.body as { note?: string }).note));
        return { ok: true };
      });
      scope.post('/skip', { config: { csrf: false } }, async (req) => {
        req.session.set('skipped', true);
        return { ok: true };
      });
      scope.post('/slow', async (req) => {
        req.session.set('slow', true);
        await new Promise((r) => setTimeout(r, Number((req.query as { ms: string }).ms)));
        return { ok: true };
      });
      scope.get('/wait', async (req) => {
        await new Promise((r) => setTimeout(r, Number((req.query as { ms: string }).ms)));
        return { ok: true };
      });
      scope.post('/logout', async (req) => {
        await req.session.destroy();
        return { ok: true };
      });
      scope.post('/big', async (req) => {
        req.session.set('big', 'x'.repeat(Number((req.query as { bytes: string }).bytes)));
        return { ok: true };
      });
      scope.post('/deep', async (req) => {
        req.session.set('deep', nested(Number((req.query as { depth: string }).depth)));
        return { ok: true };
      });
      scope.post('/signin', async (req, reply) => {
        const q = req.query as { user: string; password: string; idle?: string; absolute?: string };
        const { user, password } = q;
        const result = await req.session.login(
          user,
          () => verifyPassword(user, password),
          timeoutOptions(q.idle, q.absolute),
        );
        return reply.code(signinStatus(result)).send(result);
      });
      scope.post('/limited', async () => {
        throw new RateLimitedError(1500);
      });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  });
});

describe('Fastify adapter: exclude sees the path the router sees', () => {
  it('a "#" in the raw request line does not make a route excluded (CSRF is still checked)', async () => {
    const manager = createSessionManager({});
    const app = Fastify();
    await app.register(tesseraSession, { manager, exclude: ['/*.ico'] });
    app.post('/ping', async () => 'pinged');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const status = await rawStatus(
        url,
        Buffer.from(
          'POST /ping#.ico HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        ),
      );
      assert.equal(status, 403, 'refused by the CSRF check, not run without a session');
    } finally {
      await app.close();
      await manager.close();
    }
  });
});
