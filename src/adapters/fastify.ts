/**
 * `tessera-session/fastify`: a Fastify 5 plugin. It decorates `request.session` (typed), checks CSRF in
 * `preHandler` (after body parsing, so a urlencoded `_csrf` field is seen; it adds a urlencoded
 * parser when none exists), saves the delta in `onSend` and answers store failures with 503.
 * A route opts out of CSRF with `config: { csrf: false }`.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
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

declare module 'fastify' {
  interface FastifyRequest {
    /** The Tessera session of this request (set by the `tesseraSession` plugin). */
    session: RequestSession;
  }
  interface FastifyContextConfig {
    /** `false`: this route needs no CSRF token even for unsafe methods. @default true */
    csrf?: boolean;
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

function requestLike(request: FastifyRequest): HttpRequestLike {
  const url = request.url;
  const q = url.indexOf('?');
  return {
    method: request.method,
    path: q === -1 ? url : url.slice(0, q),
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
  const { manager, errorHandler = true, ...httpOptions } = options;
  const http = createSessionHttp(manager, httpOptions);
  const requests = new WeakMap<FastifyRequest, HttpRequestLike>();

  fastify.decorateRequest('session', null as unknown as RequestSession);
  if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
    fastify.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 102_400 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
  }

  fastify.addHook('onRequest', async (request, reply) => {
    const req = requestLike(request);
    requests.set(request, req);
    try {
      request.session = (await http.load(req)) as RequestSession;
    } catch (err) {
      const answer = http.answerError(err, req);
      if (!answer) throw err;
      return send(reply, answer);
    }
  });

  fastify.addHook('preHandler', async (request, reply) => {
    const req = requests.get(request)!;
    const session = request.session;
    if (request.routeOptions.config.csrf === false || !http.needsCsrf(req, session)) return;
    let submitted = http.csrfFromHeader(req);
    if (submitted === undefined) {
      const field = (request.body as Record<string, unknown> | undefined)?.[http.csrfField];
      submitted = typeof field === 'string' ? field : undefined;
    }
    if (!session.verifyCsrf(submitted)) return send(reply, http.refuse('csrf', req));
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const req = requests.get(request);
    if (!req || !request.session) return payload;
    try {
      const cookies = await http.commit(req, request.session);
      for (const cookie of cookies) reply.header('set-cookie', cookie);
      return payload;
    } catch (err) {
      // Nothing has been sent yet: the answer becomes the truth about the failed save.
      const answer = http.answerError(err, req) ?? http.refuse('store_unavailable', req);
      reply.code(answer.status);
      reply.removeHeader('set-cookie');
      reply.headers(answer.headers);
      return answer.body;
    }
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
