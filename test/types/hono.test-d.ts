/**
 * Type-level checks of the Hono adapter, run by `npm run typecheck`: the middleware's type carries
 * the manager's data type, so `c.get('session')` needs no cast.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { expectTypeOf } from 'vitest';
import {
  type RequestSession,
  type TesseraVariables,
  tesseraSession,
} from '../../src/adapters/hono.js';
import { createSessionManager } from '../../src/index.js';

type Cart = { cart: string[]; theme: 'dark' | 'light' | null };

const manager = createSessionManager<Cart>();
const middleware = tesseraSession(manager);

expectTypeOf(middleware).toEqualTypeOf<MiddlewareHandler<{ Variables: TesseraVariables<Cart> }>>();

// An app typed through its Variables, as with hono's own jwt middleware.
const typed = new Hono<{ Variables: TesseraVariables<Cart> }>();
typed.use(middleware);
typed.get('/', (c) => {
  const session = c.get('session');
  expectTypeOf(session).toEqualTypeOf<RequestSession<Cart>>();
  expectTypeOf(session.get('cart')).toEqualTypeOf<string[] | undefined>();
  expectTypeOf(c.var.session.data.theme).toEqualTypeOf<'dark' | 'light' | null>();
  // @ts-expect-error the cart holds strings
  session.set('cart', [1]);
  return c.text('ok');
});

// A chained app picks the type up from the middleware itself.
new Hono().use(middleware).get('/', (c) => {
  expectTypeOf(c.get('session')).toEqualTypeOf<RequestSession<Cart>>();
  return c.text('ok');
});
