/**
 * Sessions for WebSocket upgrades that reach the server outside any framework route: Node's
 * `upgrade` event (Express apps, `ws` with `noServer`) or `ws`'s `verifyClient`. The upgrade must
 * come from the request's own host or one of `trustedOrigins` (a browser sends the cookie with a
 * WebSocket opened by any site), and its session is read-only: no response carries a cookie.
 */

import type { SessionData } from '../core/types.js';
import type { HttpRequestLike, SessionHttp } from './handler.js';
import type { ErrorAnswer } from './responses.js';
import type { RequestSession } from './session.js';

/** A socket's error events, which nobody else listens to while an upgrade waits. */
interface ErrorEvents {
  on?(event: 'error', listener: (err: Error) => void): unknown;
  off?(event: 'error', listener: (err: Error) => void): unknown;
}

/** The parts of Node's `http.IncomingMessage` an upgrade needs. */
export interface UpgradeRequestLike {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined } & ErrorEvents;
}

/**
 * The session of an upgrade, or the refusal to write on its socket (`refuseUpgrade`): 403 for a
 * foreign Origin, 503 for a store outage, 500 for anything else (then `error` holds it, to log).
 */
export type UpgradeResult<Data extends SessionData = SessionData> =
  | { ok: true; session: RequestSession<Data> }
  | { ok: false; answer: ErrorAnswer; error?: unknown };

function upgradeRequest(req: UpgradeRequestLike): HttpRequestLike {
  const url = req.url ?? '/';
  const q = url.search(/[?#]/);
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    // Treated as an upgrade whatever it says, so the Origin is always checked.
    header: (name) => {
      if (name === 'upgrade') return 'websocket';
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: req.socket.remoteAddress,
  };
}

/**
 * Loads the read-only session of a WebSocket upgrade request (anonymous when it carries no live
 * token: check `session.userId`). A foreign `Origin` is refused (403), a store outage is a 503,
 * any other failure a 500: write those with `refuseUpgrade`. It never rejects (an `upgrade`
 * listener has no one to catch it), and a client that resets the socket meanwhile is no crash.
 */
export async function upgradeSession<Data extends SessionData>(
  http: SessionHttp<Data>,
  req: UpgradeRequestLike,
): Promise<UpgradeResult<Data>> {
  const request = upgradeRequest(req);
  const ignore = () => {};
  req.socket.on?.('error', ignore);
  try {
    return { ok: true, session: await http.load(request) };
  } catch (err) {
    const answer = http.answerError(err, request);
    if (answer) return { ok: false, answer };
    return { ok: false, answer: plainAnswer(500), error: err };
  } finally {
    req.socket.off?.('error', ignore);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  500: 'Internal Server Error',
  401: 'Unauthorized',
  403: 'Forbidden',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * Answers an upgrade with an HTTP refusal on its raw socket (the upgrade never became a WebSocket)
 * and closes it: `refuseUpgrade(socket, result.answer)`, or with a status of the app's own.
 */
export function refuseUpgrade(
  socket: { end(data: string): unknown } & ErrorEvents,
  answer: ErrorAnswer | number,
): void {
  const a: ErrorAnswer = typeof answer === 'number' ? plainAnswer(answer) : answer;
  // A client gone meanwhile makes the write fail: nothing to answer any more.
  socket.on?.('error', () => {});
  const body = new TextEncoder().encode(a.body);
  const headers = Object.entries(a.headers)
    .filter(([name]) => !/^(content-length|connection)$/i.test(name))
    .map(([name, value]) => `${name}: ${String(value).replace(/[\r\n]/g, ' ')}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? 'Refused'}\r\n${headers}connection: close\r\ncontent-length: ${body.length}\r\n\r\n${a.body}`,
  );
}

function plainAnswer(status: number): ErrorAnswer {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: REASONS[status] ?? 'Refused',
  };
}
