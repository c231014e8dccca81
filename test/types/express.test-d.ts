/**
 * Type-level checks of the Express adapter, run by `npm run typecheck`: the middleware hands out
 * the session typed with the manager's data type, without a type argument or a cast.
 */
import express from 'express';
import { expectTypeOf } from 'vitest';
import {
  type RequestSession,
  type SessionRequest,
  sessionOf,
  tesseraSession,
} from '../../src/adapters/express.js';
import type { SessionData } from '../../src/core/types.js';
import type { SessionHttp } from '../../src/http/handler.js';
import { createSessionManager } from '../../src/index.js';

type Cart = { cart: string[]; theme: 'dark' | 'light' | null };

const manager = createSessionManager<Cart>();
const sessions = tesseraSession(manager);
expectTypeOf(sessions.http).toEqualTypeOf<SessionHttp<Cart>>();

const app = express();
app.use(sessions);
app.get('/', (req, res) => {
  const session = sessions.sessionOf(req);
  expectTypeOf(session).toEqualTypeOf<RequestSession<Cart>>();
  expectTypeOf(session.get('cart')).toEqualTypeOf<string[] | undefined>();
  // @ts-expect-error the cart holds strings
  session.set('cart', [1]);
  // Without a declaration in SessionTypes, the free sessionOf gives plain SessionData.
  expectTypeOf(sessionOf(req)).toEqualTypeOf<RequestSession<SessionData>>();
  res.end();
});
app.use(sessions.errors);

// (An extension, not equality: express-session, installed here, also declares req.session.)
expectTypeOf<SessionRequest<Cart>['session']>().toExtend<RequestSession<Cart>>();
