/**
 * An express-session app on TesseraStore whose backend is down: express-session hands the store's
 * error to Express, whose own error handler reads `status`. A store outage must come out as 503
 * ("try again"), never 500. The backend is a real port with nothing listening on it.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { afterAll, describe, it } from 'vitest';
import { TesseraStore } from '../../../src/adapters/express-session.js';
import { createRedisStore } from '../../../src/stores/redis/index.js';
import { freePort } from '../../support/services.js';

describe('express-session on TesseraStore while the backend is down', () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('answers 503 through Express’s own error handler, not 500', async () => {
    const port = await freePort();
    const backing = createRedisStore({ port, connectTimeout: 300, commandTimeout: 300 });
    const app = express();
    app.use(
      session({
        store: new TesseraStore({ store: backing }),
        secret: 'test secret',
        resave: false,
        saveUninitialized: false,
      }),
    );
    // A login as express-session documents it: regenerate, then set the user.
    app.get('/login', (req, res, next) => {
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.userId = 'alice';
        res.json({ ok: true });
      });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${url}/login`);
    assert.equal(res.status, 503);
    await backing.close();
  });
});
