import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe } from 'vitest';
import { tesseraSession } from '../../src/adapters/hono.js';
import { RateLimitedError } from '../../src/core/errors.js';
import {
  keepOption,
  nested,
  signinStatus,
  timeoutOptions,
  verifyPassword,
} from './adapter-helpers.js';
import { testAdapter } from './adapter-suite.js';

describe('Hono adapter (@hono/node-server)', () => {
  testAdapter('hono', async (manager, options) => {
    const app = new Hono();
    app.get('/plain', (c) => c.json({ ok: true }));
    app.use('*', tesseraSession(manager, options));
    app.get('/whoami', (c) => {
      const s = c.get('session');
      return c.json({ id: s.id, userId: s.userId, data: s.data, csrf: s.csrfToken });
    });
    app.get('/flash', (c) => c.json({ flashes: c.get('session').flashes() }));
    app.post('/flash', (c) => {
      c.get('session').flash('info', c.req.query('msg') ?? '');
      return c.json({ ok: true });
    });
    app.post('/login', async (c) => {
      const s = c.get('session');
      await s.regenerate({
        userId: c.req.query('user') ?? null,
        keepData: keepOption(c.req.query('keep')),
        ...timeoutOptions(c.req.query('idle'), c.req.query('absolute')),
      });
      return c.json({ token: s.issuedToken });
    });
    app.post('/set', (c) => {
      c.get('session').set(c.req.query('key')!, c.req.query('value')!);
      return c.json({ ok: true });
    });
    app.post('/form', async (c) => {
      const body = await c.req.parseBody();
      c.get('session').set('form', String(body.note));
      return c.json({ ok: true });
    });
    app.post('/skip', (c) => {
      c.get('session').set('skipped', true);
      return c.json({ ok: true });
    });
    app.post('/slow', async (c) => {
      c.get('session').set('slow', true);
      await new Promise((r) => setTimeout(r, Number(c.req.query('ms'))));
      return c.json({ ok: true });
    });
    app.get('/wait', async (c) => {
      await new Promise((r) => setTimeout(r, Number(c.req.query('ms'))));
      return c.json({ ok: true });
    });
    app.post('/logout', async (c) => {
      await c.get('session').destroy();
      return c.json({ ok: true });
    });
    app.post('/big', (c) => {
      c.get('session').set('big', 'x'.repeat(Number(c.req.query('bytes'))));
      return c.json({ ok: true });
    });
    app.post('/deep', (c) => {
      c.get('session').set('deep', nested(Number(c.req.query('depth'))));
      return c.json({ ok: true });
    });
    app.post('/signin', async (c) => {
      const [user, password] = [c.req.query('user')!, c.req.query('password')!];
      const result = await c
        .get('session')
        .login(
          user,
          () => verifyPassword(user, password),
          timeoutOptions(c.req.query('idle'), c.req.query('absolute')),
        );
      return c.json(result, signinStatus(result) as 200);
    });
    app.post('/limited', () => {
      throw new RateLimitedError(1500);
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const address = server.address() as import('node:net').AddressInfo;
    return {
      url: `http://127.0.0.1:${address.port}`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  });
});
