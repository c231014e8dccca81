/**
 * `tessera-session/hono`: Hono 4 middleware. The middleware's type carries `TesseraVariables<Data>`, so in
 * an app built as `new Hono<{ Variables: TesseraVariables<MyData> }>()` (or chained after
 * `.use(tesseraSession(manager))`) `c.get('session')` is `RequestSession<MyData>`; elsewhere it is
 * typed through `ContextVariableMap` with the data type declared in `SessionTypes`.
 * Runs wherever Hono runs: the core works on the Web `Request`; the client address comes from
 * @hono/node-server's socket, Bun's `requestIP`, or a `remoteAddress` function you pass.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { SessionManager } from '../core/manager-api.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type { SessionData } from '../core/types.js';
import type { AppSessionData } from '../http/app-data.js';
import { formFieldOf } from '../http/form-field.js';
import { createSessionHttp, type HttpRequestLike } from '../http/handler.js';
import { HTTP_KNOWN_KEYS, type SessionHttpOptions } from '../http/http-options.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

export type { AppSessionData, SessionTypes } from '../http/app-data.js';
export type { LoginResult, RequestSession } from '../http/session.js';

/** The context variables the middleware sets: `Hono<{ Variables: TesseraVariables<MyData> }>`. */
export type TesseraVariables<Data extends SessionData = SessionData> = {
  /** The Tessera session of this request (set by `tesseraSession()`). */
  session: RequestSession<Data>;
};

declare module 'hono' {
  interface ContextVariableMap {
    /** The Tessera session of this request (set by `tesseraSession()`). */
    session: RequestSession<AppSessionData>;
  }
}

export interface HonoSessionOptions extends SessionHttpOptions {
  /**
   * The client's socket address. The default reads @hono/node-server's `c.env.incoming` and Bun's
   * `c.env.requestIP()`; elsewhere pass your runtime's (needed for rate limiting by IP).
   * @default node-server or Bun peer address, else null
   */
  remoteAddress?: (c: Context) => string | null | undefined;
}

/** The Hono middleware's option keys: the HTTP layer's and its own. */
const HONO_KNOWN_KEYS = {
  ...HTTP_KNOWN_KEYS,
  remoteAddress: true,
} as const satisfies KnownKeys<HonoSessionOptions>;

function defaultRemoteAddress(c: Context): string | null {
  const env = c.env as
    | {
        incoming?: { socket?: { remoteAddress?: string } };
        requestIP?: (r: Request) => { address: string } | null;
      }
    | undefined;
  if (env?.incoming?.socket?.remoteAddress) return env.incoming.socket.remoteAddress;
  if (typeof env?.requestIP === 'function') return env.requestIP(c.req.raw)?.address ?? null;
  return null;
}

function toResponse(answer: ErrorAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** The middleware: `app.use(tesseraSession(manager, { mode: 'production' }))`. */
export function tesseraSession<Data extends SessionData = SessionData>(
  manager: SessionManager<Data>,
  options: HonoSessionOptions = {},
): MiddlewareHandler<{ Variables: TesseraVariables<Data> }> {
  rejectUnknownKeys('tesseraSession() (Hono)', options, HONO_KNOWN_KEYS);
  const { remoteAddress = defaultRemoteAddress, ...httpOptions } = options;
  const http = createSessionHttp(manager, httpOptions);

  return async function tesseraSessionMiddleware(c, next) {
    const req: HttpRequestLike = {
      method: c.req.method,
      path: c.req.path,
      header: (name) => c.req.raw.headers.get(name),
      remoteAddress: remoteAddress(c),
    };
    if (http.isExcluded(req)) {
      // No store call, no CSRF check, no cookie: the route runs without a session.
      c.set('session', http.excludedSession(req));
      return next();
    }
    let session: RequestSession<Data>;
    try {
      session = await http.load(req);
      c.set('session', session);
      await http.checkCsrf(req, session, async (field) => {
        if (!http.hasFormBody(req)) return undefined;
        // Read by an earlier middleware: Hono keeps it parsed, nothing more is read.
        if (c.req.raw.bodyUsed)
          return (await c.req.parseBody().catch(() => ({}) as Record<string, unknown>))[field];
        // A bounded prefix of a clone: the route can still read the whole body.
        return formFieldOf(c.req.raw, field, http.formLimit);
      });
    } catch (err) {
      const answer = http.answerError(err, req);
      if (answer) return toResponse(answer);
      throw err;
    }

    await next();

    // A WebSocket upgrade's session is read-only, and its answer is the handshake: nothing to save.
    if (http.isUpgrade(req)) return;
    if (c.error) {
      const answer = http.answerError(c.error, req);
      if (answer) {
        c.res = toResponse(answer);
        return;
      }
    }
    if (http.commitUnchanged(session)) return;
    try {
      const cookies = await http.commit(req, session);
      if (cookies.length > 0) {
        // A fresh Response: the handler's may carry immutable headers (e.g. a fetch() result).
        const res = new Response(c.res.body, c.res);
        for (const cookie of cookies) res.headers.append('set-cookie', cookie);
        c.res = undefined;
        c.res = res;
      }
    } catch (err) {
      // Ours (a store failure, data over the limit): answered. Anything else is the app's error.
      const answer = http.answerError(err, req);
      if (!answer) throw err;
      c.res = undefined;
      c.res = toResponse(answer);
    }
  };
}
