/**
 * The Web Fetch adapter: a `Request` → `Response` handler with a session, for Bun, Deno, Workers
 * and any runtime that speaks Web `Request`/`Response`. Exported from `tessera-session/http`.
 */
import type { SessionData } from '../core/types.js';
import { formFieldOf } from '../http/form-field.js';
import type { HttpRequestLike, SessionHttp } from '../http/handler.js';
import type { ErrorAnswer } from '../http/responses.js';
import type { RequestSession } from '../http/session.js';

/** Builds an `HttpRequestLike` from a Web `Request` (and the peer address the runtime reports). */
export function fromFetchRequest(request: Request, remoteAddress?: string | null): HttpRequestLike {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    header: (name) => request.headers.get(name),
    remoteAddress: remoteAddress ?? null,
  };
}

function toResponse(answer: ErrorAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/**
 * Runs a Web `Request` → `Response` handler with a session: loads it, enforces CSRF (the header
 * token, else the `_csrf` field within the first `formLimit` bytes of a cloned form body), commits
 * and adds the cookies. A request the `exclude` option leaves without a session gets a session that
 * throws `SessionExcludedError` when used, and no cookie.
 *
 * @param remoteAddress The client's address as the runtime reports it (Bun's
 *   `server.requestIP(request)?.address`, Deno's `info.remoteAddr.hostname`, Node's
 *   `socket.remoteAddress`). Pass it: without it the per-address login limit has no address to
 *   count (only the per-username one applies) and the device list shows no IP.
 */
export async function handleFetch<Data extends SessionData>(
  http: SessionHttp<Data>,
  request: Request,
  handler: (request: Request, session: RequestSession<Data>) => Response | Promise<Response>,
  remoteAddress?: string | null,
): Promise<Response> {
  const req = fromFetchRequest(request, remoteAddress);
  // An excluded request (the `exclude` option): no store call, no CSRF check, no cookie.
  if (http.isExcluded(req)) return handler(request, http.excludedSession(req));
  try {
    const session = await http.load(req);
    await http.checkCsrf(req, session, async (field) => {
      if (!http.hasFormBody(req)) return undefined;
      // A bounded prefix of a clone: the handler can still read the whole body.
      return formFieldOf(request, field, http.formLimit);
    });
    const response = await handler(request, session);
    // A WebSocket upgrade's session is read-only and its answer (a 101) takes no cookie.
    if (http.isUpgrade(req) || http.commitUnchanged(session)) return response;
    const cookies = await http.commit(req, session);
    if (cookies.length === 0) return response;
    const out = new Response(response.body, response);
    for (const c of cookies) out.headers.append('set-cookie', c);
    return out;
  } catch (err) {
    const answer = http.answerError(err, req);
    if (answer) return toResponse(answer);
    throw err;
  }
}
