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

/** The parts of Node's `http.IncomingMessage` an upgrade needs. */
export interface UpgradeRequestLike {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined };
}

/** The session of an upgrade, or the refusal to write on its socket (`refuseUpgrade`). */
export type UpgradeResult<Data extends SessionData = SessionData> =
  | { ok: true; session: RequestSession<Data> }
  | { ok: false; answer: ErrorAnswer };

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
 * token: check `session.userId`). A foreign `Origin` is refused (403) and a store outage is a
 * 503: write those with `refuseUpgrade`. Errors that are not Tessera's are thrown.
 */
export async function upgradeSession<Data extends SessionData>(
  http: SessionHttp<Data>,
  req: UpgradeRequestLike,
): Promise<UpgradeResult<Data>> {
  const request = upgradeRequest(req);
  try {
    return { ok: true, session: await http.load(request) };
  } catch (err) {
    const answer = http.answerError(err, request);
    if (!answer) throw err;
    return { ok: false, answer };
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
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
  socket: { end(data: string): unknown; destroySoon?: () => void },
  answer: ErrorAnswer | number,
): void {
  const a: ErrorAnswer =
    typeof answer === 'number'
      ? {
          status: answer,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: REASONS[answer] ?? 'Refused',
        }
      : answer;
  const body = new TextEncoder().encode(a.body);
  const headers = Object.entries(a.headers)
    .filter(([name]) => !/^(content-length|connection)$/i.test(name))
    .map(([name, value]) => `${name}: ${String(value).replace(/[\r\n]/g, ' ')}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? 'Refused'}\r\n${headers}connection: close\r\ncontent-length: ${body.length}\r\n\r\n${a.body}`,
  );
}
