/**
 * Bridges between Node's `http` request/response (Express, Fastify's `raw`, plain `node:http`) and
 * the dashboard's Fetch-style handler. Hono needs none of this (`c.req.raw` is a `Request`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { BadRequestError } from '../core/errors.js';

/** A Node request, possibly with a body a framework already parsed (Express `req.body`). */
export type NodeRequestLike = IncomingMessage & {
  /** Express keeps the mount-independent URL here. */
  originalUrl?: string;
  /** A form already read by a body parser or the session middleware's CSRF check. */
  body?: unknown;
};

/**
 * A Web `Request` for a Node request. When a framework already consumed the body into an object
 * (Express's urlencoded parser, or the Tessera middleware reading `_csrf`), it is re-encoded as a
 * form so the handler still sees it; otherwise the body is streamed.
 */
export function toFetchRequest(req: NodeRequestLike): Request {
  const url = requestUrl(req.headers.host ?? 'localhost', req.originalUrl ?? req.url ?? '/');
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>))
      if (typeof v === 'string') form.append(k, v);
    headers.set('content-type', 'application/x-www-form-urlencoded');
    headers.delete('content-length');
    return new Request(url, { method, headers, body: form.toString() });
  }
  if (req.readableEnded) return new Request(url, { method, headers });
  return new Request(url, {
    method,
    headers,
    body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
}

/** Characters a Host header may not hold (RFC 9110 `uri-host [ ":" port ]`): no path, no userinfo. */
const NOT_IN_HOST = /[\s/\\?#@]/;

/**
 * The absolute URL of a request. A Host header that names no host (`a b`, `[::1`, `x/y`) is a
 * `BadRequestError` (a 400 in every adapter), never a TypeError and a 500.
 */
function requestUrl(host: string, target: string): URL {
  if (host === '' || NOT_IN_HOST.test(host))
    throw new BadRequestError('the Host header is not a host name');
  let origin: URL;
  try {
    origin = new URL(`http://${host}`);
  } catch {
    throw new BadRequestError('the Host header is not a host name');
  }
  try {
    // An absolute-form target keeps its path; an origin-form one ("/path?q") is appended to the
    // origin, so "//x" stays a path rather than becoming a host.
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target) : null;
    const path = absolute ? absolute.pathname + absolute.search : target;
    return new URL(`${origin.origin}${path.startsWith('/') ? path : `/${path}`}`);
  } catch {
    throw new BadRequestError('the request target is not a path');
  }
}

/** Writes a Web `Response` to a Node response. */
export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.appendHeader('set-cookie', cookies);
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.end(body);
}
