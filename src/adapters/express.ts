/**
 * `tessera-session/express`: the Express 5 (and 4) middleware. It loads `req.session`, checks CSRF on
 * unsafe methods (reading a urlencoded `_csrf` field itself when no body parser ran first), and
 * holds back the response's first byte until the session's delta is saved and its cookies are set.
 * Express cannot type `req.session` per app (and express-session already claims that property's
 * type), so routes reach it typed through the middleware's `sessionOf(req)`, the `SessionRequest`
 * type, or `sessionOf(req)` with the data type declared in `SessionTypes`.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { BadRequestError, FormTooLargeError, NoSessionMiddlewareError } from '../core/errors.js';
import type { SessionManager } from '../core/manager-api.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type { SessionData } from '../core/types.js';
import type { AppSessionData } from '../http/app-data.js';
import {
  createSessionHttp,
  type HttpRequestLike,
  isSafeMethod,
  type SessionHttp,
} from '../http/handler.js';
import { HTTP_KNOWN_KEYS, type SessionHttpOptions } from '../http/http-options.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

export type { AppSessionData, SessionTypes } from '../http/app-data.js';
export type { LoginResult, RequestSession } from '../http/session.js';

export interface ExpressSessionOptions extends SessionHttpOptions {
  /**
   * The most bytes of a urlencoded body read to find `_csrf` when no body parser ran before the
   * middleware and no header carries the token; the parsed form is left on `req.body`. A longer
   * form is refused with 413 and the rest of it is not read.
   * @default 1048576
   */
  formLimit?: number;
}

/** The Express middleware's option keys: the HTTP layer's (`formLimit` is among them). */
const EXPRESS_KNOWN_KEYS = HTTP_KNOWN_KEYS satisfies KnownKeys<ExpressSessionOptions>;

/** `req` with the session, for handlers that want it typed: `(req: SessionRequest<MyData>, res)`. */
export type SessionRequest<Data extends SessionData = AppSessionData> = Request & {
  session: RequestSession<Data>;
};

/**
 * The session of a request that went through the middleware, typed with the data type declared in
 * `SessionTypes` (or the one given). Throws `NoSessionMiddlewareError` when the middleware did not
 * run before this route.
 */
export function sessionOf<Data extends SessionData = AppSessionData>(
  req: Request,
): RequestSession<Data> {
  const session = (req as unknown as { session?: RequestSession<Data> }).session;
  if (!session) throw new NoSessionMiddlewareError('tesseraSession()');
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

/**
 * The request's whole path as the client sent it (not relative to where the middleware is
 * mounted), without the query string: what `exclude` patterns are written against.
 */
function fullPath(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function send(res: Response, answer: ErrorAnswer): void {
  res.status(answer.status).set(answer.headers).send(answer.body);
}

/**
 * Reads a urlencoded body of at most `limit` bytes. A longer one is a `FormTooLargeError`: reading
 * stops there (the body parsers after this middleware could not read a half-consumed stream
 * anyway), and the answer closes the connection rather than draining the rest.
 */
function readForm(req: Request, limit: number): Promise<Record<string, string> | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new FormTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
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
function holdResponse(
  res: Response,
  commit: () => Promise<ErrorAnswer | null>,
  fail: (err: unknown) => void,
): void {
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
    void commit().then(
      (failure) => {
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
      },
      (err: unknown) => {
        // Not ours: nothing was sent, so Express's error handling answers instead of the route.
        state = 'done';
        restore();
        queue.length = 0;
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 200;
        fail(err);
      },
    );
  };
  const hold =
    <K extends keyof typeof original>(name: K, result: () => unknown) =>
    (...given: unknown[]) => {
      if (state === 'done')
        return (original[name] as (...a: unknown[]) => unknown).apply(res, given);
      // Headers handed to a held writeHead are applied now, as writeHead would apply them, so the
      // commit's Set-Cookie values are added to the route's instead of being replaced by them.
      const args = name === 'writeHead' ? absorbHeaders(res, given) : given;
      queue.push(() => (original[name] as (...a: unknown[]) => unknown).apply(res, args));
      if (state === 'open') start();
      return result();
    };
  res.writeHead = hold('writeHead', () => res) as typeof res.writeHead;
  res.write = hold('write', () => true) as typeof res.write;
  res.end = hold('end', () => res) as typeof res.end;
}

/**
 * Applies the headers of a `writeHead(status, [message], [headers])` call to `res` the way Node's
 * writeHead applies them over headers set before (an object's keys replace; a flat array's names
 * replace, then each value is appended), and returns the call without them.
 */
function absorbHeaders(res: Response, args: unknown[]): unknown[] {
  const [status, second, third] = args;
  const message = typeof second === 'string' ? second : undefined;
  const headers = message === undefined ? second : third;
  if (headers === undefined || headers === null || typeof headers !== 'object') return args;
  if (Array.isArray(headers)) {
    // Node refuses an odd-length array: leave it to writeHead to say so.
    if (headers.length % 2 !== 0) return args;
    for (let i = 0; i < headers.length; i += 2) res.removeHeader(String(headers[i]));
    for (let i = 0; i < headers.length; i += 2)
      if (headers[i]) res.appendHeader(String(headers[i]), headers[i + 1] as string | string[]);
  } else
    for (const [key, value] of Object.entries(headers))
      if (key) res.setHeader(key, value as string | number | readonly string[]);
  return message === undefined ? [status] : [status, message];
}

export type TesseraExpressMiddleware<Data extends SessionData = SessionData> = RequestHandler & {
  /**
   * Error middleware that answers Tessera's typed errors (a store failure with 503, a thrown
   * `RateLimitedError` with 429, `CsrfError` with 403): mount it after your routes.
   */
  errors: ErrorRequestHandler;
  http: SessionHttp<Data>;
  /** The session of a request, typed with the manager's data type. */
  sessionOf(req: Request): RequestSession<Data>;
};

/**
 * The session middleware. Mount it before the routes that use `req.session`, and `.errors` after
 * them so a store outage inside a route is a 503 too.
 */
export function tesseraSession<Data extends SessionData = SessionData>(
  manager: SessionManager<Data>,
  options: ExpressSessionOptions = {},
): TesseraExpressMiddleware<Data> {
  rejectUnknownKeys('tesseraSession() (Express)', options, EXPRESS_KNOWN_KEYS);
  const http = createSessionHttp(manager, options);

  /** The commit of a held response: its cookies set, or the answer that replaces it. */
  const commitInto = async (
    res: Response,
    request: HttpRequestLike,
    session: RequestSession<Data>,
  ): Promise<ErrorAnswer | null> => {
    try {
      const cookies = await http.commit(request, session);
      for (const cookie of cookies) res.append('Set-Cookie', cookie);
      return null;
    } catch (err) {
      const answer = http.answerError(err, request);
      if (!answer) throw err;
      return answer;
    }
  };

  const middleware = async (req: Request, res: Response, next: NextFunction) => {
    const request = requestLike(req);
    const whole = { ...request, path: fullPath(req) };
    if (http.isExcluded(whole)) {
      // No store call, no CSRF check, no cookie: the route runs without a session.
      (req as unknown as { session: RequestSession<Data> }).session = http.excludedSession(whole);
      return next();
    }
    let session: RequestSession<Data>;
    try {
      session = await http.load(request);
      (req as unknown as { session: RequestSession<Data> }).session = session;
      // A read needs no CSRF step: no closure, no await.
      if (!isSafeMethod(request.method))
        await http.checkCsrf(request, session, async (field) => {
          if (!http.hasFormBody(request)) return undefined;
          let body = req.body as Record<string, unknown> | undefined;
          if (
            body === undefined &&
            request.header('content-type')?.startsWith('application/x-www-form-urlencoded')
          ) {
            const form = await readForm(req, http.formLimit);
            if (form) req.body = body = form;
          }
          return body?.[field];
        });
    } catch (err) {
      const answer = http.answerError(err, request);
      // The rest of a refused form is not read: the connection closes after the answer.
      if (err instanceof FormTooLargeError) res.set('connection', 'close');
      if (answer) return send(res, answer);
      return next(err);
    }

    // Holding a response patches it (writeHead, write, end), which costs more than the rest of
    // the middleware together: a request that has nothing to commit is held only from its first
    // change, and a change made after the response started is refused as after a commit.
    const hold = () => holdResponse(res, () => commitInto(res, request, session), next);
    if (http.needsCommit(session)) hold();
    else
      session.watchChanges(() => {
        if (res.headersSent) return false;
        hold();
        return true;
      });
    next();
  };

  const errors: ErrorRequestHandler = (err, req, res, next) => {
    const answer =
      http.answerError(err, requestLike(req)) ??
      // Express's router could not percent-decode a path parameter (`/admin/%E0`): its own handler
      // would answer 400 with a stack trace outside production.
      (err instanceof URIError && (err as { status?: number }).status === 400
        ? http.answerError(
            new BadRequestError('the address is not valid percent-encoding'),
            requestLike(req),
          )
        : null);
    if (!answer || res.headersSent) return next(err);
    send(res, answer);
  };

  return Object.assign(middleware as RequestHandler, {
    errors,
    http,
    sessionOf: (req: Request) => sessionOf<Data>(req),
  });
}
