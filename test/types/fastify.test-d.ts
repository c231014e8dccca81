/**
 * Type-level checks of the Fastify adapter, run by `npm run typecheck`: the plugin takes a manager
 * of any data type and decorates `request.session` (typed by `SessionTypes`, see
 * test/types/registered/ for an application that declares its data type).
 */
import Fastify from 'fastify';
import { expectTypeOf } from 'vitest';
import { type RequestSession, tesseraSession } from '../../src/adapters/fastify.js';
import type { SessionData } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';

type Cart = { cart: string[]; theme: 'dark' | 'light' | null };

const app = Fastify();
await app.register(tesseraSession, { manager: createSessionManager<Cart>() });
app.get('/', async (request) => {
  expectTypeOf(request.session).toEqualTypeOf<RequestSession<SessionData>>();
  return { id: request.session.id };
});
