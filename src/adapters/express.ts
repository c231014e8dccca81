/**
 * `tessera-session/express`: the Express 5 (and 4) middleware. It loads `req.session`, checks CSRF on
 * unsafe methods (reading a urlencoded `_csrf` field itself when no body parser ran first), and
 * holds back the response's first byte until the session's delta is saved and its cookies are set.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionManager } from '../core/manager.js';
import type { SessionData } from '../core/types.js';
import {
  createSessionHttp,
  type HttpRequestLike,
  type SessionHttp,
  type SessionHttpOptions,
} from '../http/handler.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

export type { LoginResult, RequestSession } from '../http/session.js';

export interface ExpressSessionOptions extends SessionHttpOptions {
  /**
   * The most bytes of a urlencoded body read to find `_csrf` when no body parser ran before the
   * middleware. The parsed form is left on `req.body`.
   * @default 102400
   */
  formLimit?: number;
}

/** `req` with the session, for handlers that want it typed: `(req: SessionRequest<MyData>, res)`. */
export type SessionRequest<Data extends SessionData = SessionData> = Request & {
  session: RequestSession<Data>;
};

/** The session of a request that went through the middleware. */
export function sessionOf<Data extends SessionData = SessionData>(
  req: Request,
): RequestSession<Data> {
  const session = (req as unknown as { session?: RequestSession<Data> }).session;
  if (!session)
    throw new Error(
      '[tessera] no session on this request: mount tesseraSession() before this route',
    );
  return session;
}

function requestLike(req: Request): HttpRequestLike {
  return {
    method: req.method,
    path: req.path,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: req.socket.remoteAddress,
  };
}

function send(res: Response, answer: ErrorAnswer): void {
  res.status(answer.status).set(answer.headers).send(answer.body);
}

function readForm(req: Request, limit: number): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
      } catch {
        resolve(null);
      }
    });
    req.on('error', () => resolve(null));
  });
}

/**
 * Delays `writeHead`/`write`/`end` until `commit` has run, then replays them in order. Saving
 * before the first byte is what lets the cookies go out and makes the next request see the write.
 */
function holdResponse(res: Response, commit: () => Promise<ErrorAnswer | null>): void {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end };
  const queue: Array<() => void> = [];
  let state: 'open' | 'saving' | 'done' = 'open';
  const restore = () => {
    res.writeHead = original.writeHead;
    res.write = original.write;
    res.end = original.end;
  };
  const start = () => {
    state = 'saving';
    void commit().then((failure) => {
      state = 'done';
      restore();
      const calls = queue.splice(0);
      if (!failure) {
        for (const call of calls) call();
        return;
      }
      // Nothing has been sent yet: the route's answer is replaced, since its changes were not saved.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.statusCode = failure.status;
      for (const [name, value] of Object.entries(failure.headers)) res.setHeader(name, value);
      res.end(failure.body);
    });
  };
  const hold =
    <K extends keyof typeof original>(name: K, result: () => unknown) =>
    (...args: unknown[]) => {
      if (state === 'done')
        return (original[name] as (...a: unknown[]) => unknown).apply(res, args);
      queue.push(() => (original[name] as (...a: unknown[]) => unknown).apply(res, args));
      if (state === 'open') start();
      return result();
    };
  res.writeHead = hold('writeHead', () => res) as typeof res.writeHead;
  res.write = hold('write', () => true) as typeof res.write;
  res.end = hold('end', () => res) as typeof res.end;
}

export type TesseraExpressMiddleware = RequestHandler & {
  /** Error middleware that answers a store failure with 503: mount it after your routes. */
  errors: ErrorRequestHandler;
  http: SessionHttp;
};

/**
 * The session middleware. Mount it before the routes that use `req.session`, and `.errors` after
 * them so a store outage inside a route is a 503 too.
 */
export function tesseraSession<Data extends SessionData = SessionData>(
  manager: SessionManager<Data>,
  options: ExpressSessionOptions = {},
): TesseraExpressMiddleware {
  const http = createSessionHttp(manager, options);
  const formLimit = options.formLimit ?? 102_400;

  const middleware = async (req: Request, res: Response, next: NextFunction) => {
    const request = requestLike(req);
    let session: RequestSession<Data>;
    try {
      session = await http.load(request);
    } catch (err) {
      const answer = http.answerError(err, request);
      if (answer) return send(res, answer);
      return next(err);
    }
    (req as unknown as { session: RequestSession<Data> }).session = session;

    if (http.needsCsrf(request, session)) {
      let submitted = http.csrfFromHeader(request);
      if (submitted === undefined && http.hasFormBody(request)) {
        let body = req.body as Record<string, unknown> | undefined;
        if (
          body === undefined &&
          request.header('content-type')?.startsWith('application/x-www-form-urlencoded')
        ) {
          const form = await readForm(req, formLimit);
          if (form) req.body = body = form;
        }
        const field = body?.[http.csrfField];
        submitted = typeof field === 'string' ? field : undefined;
      }
      if (!session.verifyCsrf(submitted)) return send(res, http.refuse('csrf', request));
    }

    holdResponse(res, async () => {
      try {
        const cookies = await http.commit(request, session);
        for (const cookie of cookies) res.append('Set-Cookie', cookie);
        return null;
      } catch (err) {
        return http.answerError(err, request) ?? http.refuse('store_unavailable', request);
      }
    });
    next();
  };

  const errors: ErrorRequestHandler = (err, req, res, next) => {
    const answer = http.answerError(err, requestLike(req));
    if (!answer || res.headersSent) return next(err);
    send(res, answer);
  };

  return Object.assign(middleware as RequestHandler, {
    errors,
    http: http as unknown as SessionHttp,
  });
}
