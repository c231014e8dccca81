/**
 * The application's session data type, declared once, for the request decorations that cannot
 * carry a type parameter: Fastify's `request.session`, Express's `sessionOf(req)` and
 * `SessionRequest`, and Hono's `c.get('session')` in an app not typed through `Variables`.
 *
 *   declare module 'tessera-session/http' {
 *     interface SessionTypes {
 *       data: { cart: string[]; theme?: 'dark' | 'light' };
 *     }
 *   }
 *
 * Without a declaration the data is a plain `SessionData`. The declaration is a promise, as with
 * express-session's `SessionData`: pass a manager built as `createSessionManager<ThatType>()`.
 */
import type { SessionData } from '../core/types.js';

// biome-ignore lint/suspicious/noEmptyInterface: an application fills it in by declaration merging.
export interface SessionTypes {}

/** The data type `SessionTypes` declares, or `SessionData` when the application declared none. */
export type AppSessionData = SessionTypes extends { data: infer D extends SessionData }
  ? D
  : SessionData;
