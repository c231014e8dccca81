/**
 * `tessera-session/fastify`: a Fastify 5 plugin. It decorates `request.session`, typed with the data type
 * the application declares in `SessionTypes` (Fastify types decorations by declaration merging),
 * checks CSRF in `preHandler` (after body parsing, so a urlencoded `_csrf` field is seen; it adds
 * a urlencoded parser when none exists), saves the delta in `onSend` and answers Tessera's typed
 * errors (store failures with 503). A route opts out of CSRF with `config: { csrf: false }`.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { SessionManager } from '../core/manager-api.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type { SessionData } from '../core/types.js';
import type { AppSessionData } from '../http/app-data.js';
import { createSessionHttp, type HttpRequestLike } from '../http/handler.js';
import { HTTP_KNOWN_KEYS, type SessionHttpOptions } from '../http/http-options.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

export type { AppSessionData, SessionTypes } from '../http/app-data.js';
export type { LoginResult, RequestSession } from '../http/session.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The Tessera session of this request (set by the `tesseraSession` plugin), typed with the
     * data type declared in `SessionTypes`.
     */
    session: RequestSession<AppSessionData>;
  }
  interface FastifyContextConfig {
    /** `false`: this route needs no CSRF token even for unsafe methods. @default true */
    csrf?: boolean;
    /**
     * `false`: this route gets no session at all (no store call, no cookie), like the `exclude`
     * option; using `request.session` there throws `SessionExcludedError`. @default true
     */
    session?: boolean;
  }
}

export interface FastifySessionOptions<Data extends SessionData = SessionData>
  extends SessionHttpOptions {
  manager: SessionManager<Data>;
  /**
   * Install an error handler that answers store failures with 503 and passes every other error to
   * Fastify's default handler. Turn off when you set your own and call `answerStoreError` there.
   * @default true
   */
  errorHandler?: boolean;
}

/**
 * The Fastify plugin's option keys: the HTTP layer's, its own, and the ones Fastify's `register`
 * reads from the same object and hands on to the plugin (`prefix`, `logLevel`, `logSerializers`).
 */
const FASTIFY_KNOWN_KEYS = {
  ...HTTP_KNOWN_KEYS,
  manager: true,
  errorHandler: true,
  prefix: true,
  logLevel: true,
  logSerializers: true,
} as const satisfies KnownKeys<
  FastifySessionOptions & { prefix?: unknown; logLevel?: unknown; logSerializers?: unknown }
>;

function requestLike(request: FastifyRequest): HttpRequestLike {
  const url = request.url;
  // The path ends at the query or a fragment, where Fastify's router ends it too.
  const end = url.search(/[?#]/);
  return {
    method: request.method,
    path: end === -1 ? url : url.slice(0, end),
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: request.socket.remoteAddress,
  };
}

function send(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

const plugin: FastifyPluginAsync<FastifySessionOptions> = async (
  fastify: FastifyInstance,
  options,
) => {
  rejectUnknownKeys('tesseraSession() (Fastify)', options, FASTIFY_KNOWN_KEYS);
  // Fastify's own registration options are not the HTTP layer's.
  const {
    manager,
    errorHandler = true,
    ...rest
  } = options as FastifySessionOptions & Record<'prefix' | 'logLevel' | 'logSerializers', unknown>;
  const {
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _serializers,
    ...httpOptions
  } = rest;
  // The manager's data type is the one the application declared in SessionTypes (its promise).
  const http = createSessionHttp(manager as SessionManager<AppSessionData>, httpOptions);
  const requests = new WeakMap<FastifyRequest, HttpRequestLike>();
  /** Requests the `exclude` option or `config: { session: false }` leave without a session. */
  const excluded = new WeakSet<FastifyRequest>();

  // A null placeholder (Fastify's advice for reference types); onRequest sets every request's own.
  fastify.decorateRequest('session', null as unknown as FastifyRequest['session']);
  if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
    fastify.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: http.formLimit },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
  }

  fastify.addHook('onRequest', async (request, reply) => {
    const req = requestLike(request);
    if (request.routeOptions.config?.session === false || http.isExcluded(req)) {
      excluded.add(request);
      request.session = http.excludedSession(req);
      return;
    }
    requests.set(request, req);
    try {
      request.session = await http.load(req);
    } catch (err) {
      const answer = http.answerError(err, req);
      if (!answer) throw err;
      return send(reply, answer);
    }
  });

  // Before the body is parsed: a header token (right or wrong), or a request with no token to
  // match, is decided here, so a huge body is never read for it. The refusal is thrown to the
  // error handler, so this needs ours; without it the check waits for preHandler.
  const checkedEarly = new WeakSet<FastifyRequest>();
  // The hooks below take Fastify's callback form: most requests pass straight through (a read, a
  // header token checked earlier, nothing to commit), and a promise per hook would be their cost.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const req = requests.get(request);
    if (
      !errorHandler ||
      !req ||
      !request.session ||
      request.routeOptions.config.csrf === false ||
      !http.needsCsrf(req, request.session) ||
      (http.csrfFromHeader(req) === undefined && request.session.hasCsrfToken)
    )
      return done(null, payload);
    checkedEarly.add(request);
    // A refusal goes to the error handler, and the body parser never runs (a reply sent from this
    // hook would not stop it while onSend saves the session).
    http.checkCsrf(req, request.session).then(() => done(null, payload), done);
  });

  fastify.addHook('preHandler', (request, reply, done) => {
    const req = requests.get(request);
    if (
      !req ||
      request.routeOptions.config.csrf === false ||
      checkedEarly.has(request) ||
      !http.needsCsrf(req, request.session)
    )
      return done();
    http
      .checkCsrf(
        req,
        request.session,
        (field) => (request.body as Record<string, unknown> | undefined)?.[field],
      )
      .then(
        () => done(),
        (err: unknown) => {
          const answer = http.answerError(err, req);
          if (!answer) return done(err as Error);
          // Answered here: Fastify's callback hooks end the request without `done`.
          send(reply, answer);
        },
      );
  });

  fastify.addHook('onSend', (request, reply, payload, done) => {
    const req = requests.get(request);
    if (!req || !request.session || http.commitUnchanged(request.session))
      return done(null, payload);
    http.commit(req, request.session).then(
      (cookies) => {
        for (const cookie of cookies) reply.header('set-cookie', cookie);
        done(null, payload);
      },
      (err: unknown) => {
        // Nothing has been sent yet: the answer becomes the truth about the failed save. An
        // error that is not ours goes to Fastify's error handling.
        const answer = http.answerError(err, req);
        if (!answer) return done(err as Error);
        reply.code(answer.status);
        reply.removeHeader('set-cookie');
        reply.headers(answer.headers);
        done(null, answer.body);
      },
    );
  });

  if (errorHandler) {
    fastify.setErrorHandler((err: FastifyError, request, reply) => {
      const answer = http.answerError(err, requests.get(request) ?? requestLike(request));
      if (answer) return send(reply, answer);
      // Not ours: Fastify's own handling (status from the error, JSON body).
      throw err;
    });
  }
};

// Applied to the instance it is registered on (what fastify-plugin does), so hooks reach all routes.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'tessera';

/** The plugin: `fastify.register(tesseraSession, { manager, mode: 'production' })`. */
export const tesseraSession = plugin;
export default plugin;
