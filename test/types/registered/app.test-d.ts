/**
 * An application that declares its session data type once in `SessionTypes`: Fastify's
 * `request.session`, Express's `sessionOf(req)` and Hono's `c.get('session')` in an untyped app
 * all carry it. A separate TypeScript project (tsconfig.json here, run by `npm run typecheck`),
 * because a declaration merges into every file of the program it is compiled with.
 */
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { expectTypeOf } from 'vitest';
import { tesseraSession as expressSession, sessionOf } from '../../../src/adapters/express.js';
import { tesseraSession as fastifySession } from '../../../src/adapters/fastify.js';
import { tesseraSession as honoSession } from '../../../src/adapters/hono.js';
import type { RequestSession } from '../../../src/http/index.js';
import { createSessionManager } from '../../../src/index.js';

type Cart = { cart: string[]; theme: 'dark' | 'light' | null };

declare module '../../../src/http/index.js' {
  interface SessionTypes {
    data: Cart;
  }
}

const manager = createSessionManager<Cart>();

const fastify = Fastify();
await fastify.register(fastifySession, { manager });
fastify.get('/', async (request) => {
  expectTypeOf(request.session).toEqualTypeOf<RequestSession<Cart>>();
  expectTypeOf(request.session.get('cart')).toEqualTypeOf<string[] | undefined>();
  // @ts-expect-error the cart holds strings
  request.session.set('cart', [1]);
  return {};
});

const app = express();
app.use(expressSession(manager));
app.get('/', (req, res) => {
  expectTypeOf(sessionOf(req)).toEqualTypeOf<RequestSession<Cart>>();
  res.end();
});

const hono = new Hono();
hono.use(honoSession(manager));
hono.get('/', (c) => {
  expectTypeOf(c.get('session')).toEqualTypeOf<RequestSession<Cart>>();
  return c.text('ok');
});
