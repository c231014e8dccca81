/**
 * `tessera-session/hono`: Hono 4 middleware. `c.get('session')` is typed through `ContextVariableMap`.
 * Runs wherever Hono runs: the core works on the Web `Request`; the client address comes from
 * @hono/node-server's socket, Bun's `requestIP`, or a `remoteAddress` function you pass.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { SessionManager } from '../core/manager.js';
import type { SessionData } from '../core/types.js';
import {
  createSessionHttp,
  type HttpRequestLike,
  type SessionHttpOptions,
} from '../http/handler.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

export type { LoginResult, RequestSession } from '../http/session.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The Tessera session of this request (set by `tesseraSession()`). */
    session: RequestSession;
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
): MiddlewareHandler {
  const { remoteAddress = defaultRemoteAddress, ...httpOptions } = options;
  const http = createSessionHttp(manager, httpOptions);

  return async function tesseraSessionMiddleware(c, next) {
    const req: HttpRequestLike = {
      method: c.req.method,
      path: c.req.path,
      header: (name) => c.req.raw.headers.get(name),
      remoteAddress: remoteAddress(c),
    };
    let session: RequestSession<Data>;
    try {
      session = await http.load(req);
    } catch (err) {
      const answer = http.answerError(err, req);
      if (answer) return toResponse(answer);
      throw err;
    }
    c.set('session', session as unknown as RequestSession);

    if (http.needsCsrf(req, session)) {
      let submitted = http.csrfFromHeader(req);
      if (submitted === undefined && http.hasFormBody(req)) {
        // parseBody caches the parsed form, so the route can still read it.
        const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
        const field = body[http.csrfField];
        submitted = typeof field === 'string' ? field : undefined;
      }
      if (!session.verifyCsrf(submitted)) return toResponse(http.refuse('csrf', req));
    }

    await next();

    if (c.error) {
      const answer = http.answerError(c.error, req);
      if (answer) {
        c.res = toResponse(answer);
        return;
      }
    }
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
      c.res = undefined;
      c.res = toResponse(http.answerError(err, req) ?? http.refuse('store_unavailable', req));
    }
  };
}
