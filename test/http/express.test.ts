import assert from 'node:assert/strict';
import express from 'express';
import { describe, it } from 'vitest';
import { sessionOf, tesseraSession } from '../../src/adapters/express.js';
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

describe('Express adapter', () => {
  testAdapter('express', async (manager, options) => {
    const app = express();
    const sessions = tesseraSession(manager, options);
    app.get('/plain', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(sessions);
    app.use(express.urlencoded({ extended: false }));
    app.get('/whoami', (req, res) => {
      const s = sessionOf(req);
      res.json({ id: s.id, userId: s.userId, data: s.data, csrf: s.csrfToken });
    });
    app.get('/flash', (req, res) => {
      res.json({ flashes: sessionOf(req).flashes() });
    });
    app.post('/flash', (req, res) => {
      sessionOf(req).flash('info', String(req.query.msg));
      res.json({ ok: true });
    });
    app.post('/login', async (req, res) => {
      const s = sessionOf(req);
      await s.regenerate({
        userId: String(req.query.user),
        keepData: keepOption(req.query.keep as string | undefined),
        ...timeoutOptions(req.query.idle as string, req.query.absolute as string),
      });
      res.json({ token: s.issuedToken });
    });
    app.post('/set', (req, res) => {
      sessionOf(req).set(String(req.query.key), String(req.query.value));
      res.json({ ok: true });
    });
    app.post('/form', (req, res) => {
      sessionOf(req).set('form', String((req.body as { note?: string }).note));
      res.json({ ok: true });
    });
    app.post('/skip', (req, res) => {
      sessionOf(req).set('skipped', true);
      res.json({ ok: true });
    });
    app.post('/slow', async (req, res) => {
      sessionOf(req).set('slow', true);
      await new Promise((r) => setTimeout(r, Number(req.query.ms)));
      res.json({ ok: true });
    });
    app.get('/wait', async (req, res) => {
      await new Promise((r) => setTimeout(r, Number(req.query.ms)));
      res.json({ ok: true });
    });
    app.post('/logout', async (req, res) => {
      await sessionOf(req).destroy();
      res.json({ ok: true });
    });
    app.post('/big', (req, res) => {
      sessionOf(req).set('big', 'x'.repeat(Number(req.query.bytes)));
      res.json({ ok: true });
    });
    app.post('/deep', (req, res) => {
      sessionOf(req).set('deep', nested(Number(req.query.depth)));
      res.json({ ok: true });
    });
    app.post('/signin', async (req, res) => {
      const [user, password] = [String(req.query.user), String(req.query.password)];
      const result = await sessionOf(req).login(
        user,
        () => verifyPassword(user, password),
        timeoutOptions(req.query.idle as string, req.query.absolute as string),
      );
      res.status(signinStatus(result)).json(result);
    });
    app.post('/limited', () => {
      throw new RateLimitedError(1500);
    });
    app.use(sessions.errors);
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address() as import('node:net').AddressInfo;
    return {
      url: `http://127.0.0.1:${address.port}`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  });
});

describe('Express adapter: .errors', () => {
  it('a path parameter that is not valid percent-encoding is a clean 400, without a stack trace', async () => {
    const manager = createSessionManager({});
    const sessions = tesseraSession(manager);
    const app = express();
    app.use(sessions);
    app.get('/files/*rest', (_req, res) => {
      res.send('file');
    });
    app.use(sessions.errors);
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      for (const accept of ['text/html', 'application/json']) {
        const res = await fetch(`http://127.0.0.1:${port}/files/%E0%A4%A`, { headers: { accept } });
        const body = await res.text();
        assert.equal(res.status, 400, body);
        assert.match(body, /percent-encoding/);
        assert.doesNotMatch(body, /\bat .*\.js:\d+|URIError/);
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await manager.close();
    }
  });
});
