/**
 * The error answers the HTTP layer gives by itself (403 CSRF, 429 rate limit, 503 store outage, 400
 * bad request, 413 too large): a short body a person can read, as JSON or HTML depending on
 * `Accept`.
 */
import {
  BadRequestError,
  DataTooLargeError,
  FormTooLargeError,
  InvalidInputError,
  isTesseraError,
  RateLimitedError,
} from '../core/errors.js';

export type HttpErrorKind =
  | 'csrf'
  | 'rate_limited'
  | 'store_unavailable'
  | 'bad_request'
  | 'too_large'
  | 'origin';

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const MESSAGES: Record<HttpErrorKind, { status: number; title: string; message: string }> = {
  csrf: {
    status: 403,
    title: 'Forbidden: missing or invalid CSRF token',
    message:
      'This request changes something, so it must carry the CSRF token of your session (the X-CSRF-Token header or a _csrf form field). Reload the page and try again.',
  },
  rate_limited: {
    status: 429,
    title: 'Too many attempts',
    message: 'Too many failed login attempts. Wait before trying again.',
  },
  store_unavailable: {
    status: 503,
    title: 'Session service unavailable',
    message:
      'Sessions cannot be read or saved right now because the session store is unreachable. Please try again shortly.',
  },
  bad_request: {
    status: 400,
    title: 'Bad request',
    message: 'The request could not be read.',
  },
  too_large: {
    status: 413,
    title: 'Too large',
    message: 'The request or the session data it would store is too large.',
  },
  origin: {
    status: 403,
    title: 'Forbidden: origin not allowed',
    message:
      'This WebSocket connection was opened by a page of another site, which may not use your session here.',
  },
};

/**
 * A refusal as an app's own page shows it (the `refusalPage` option of the adapters): what was
 * refused and why, in words a person can read.
 */
export interface Refusal {
  kind: HttpErrorKind;
  status: number;
  /** A short heading, e.g. "Forbidden: missing or invalid CSRF token". */
  title: string;
  /** What happened and what to do, in a sentence or two. */
  message: string;
  /** The refused request's method and path (without the query string). */
  method: string;
  path: string;
}

/** Whether the client prefers HTML (a browser navigating) over JSON (a script or API client). */
/** Renders a refusal's HTML for one request (the `refusalPage` option, bound to the request). */
export type RefusalRenderer = (
  refusal: Omit<Refusal, 'method' | 'path'>,
) => string | null | undefined;

export function wantsHtml(accept: string | null | undefined): boolean {
  if (!accept) return false;
  const a = accept.toLowerCase();
  const html = a.indexOf('text/html');
  const json = a.indexOf('application/json');
  return html !== -1 && (json === -1 || html < json);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * The answer for one of the layer's own errors. `retryAfterMs` adds `Retry-After` (seconds, rounded
 * up). `page` renders the HTML body for a browser; when it returns nothing or throws, the built-in
 * page is sent (a broken error page must not turn a 403 into a 500).
 */
export function errorAnswer(
  kind: HttpErrorKind,
  accept: string | null | undefined,
  extra: {
    retryAfterMs?: number;
    message?: string;
    page?: RefusalRenderer | undefined;
  } = {},
): ErrorAnswer {
  const spec = MESSAGES[kind];
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  let message = extra.message ?? spec.message;
  if (extra.retryAfterMs !== undefined) {
    const seconds = retryAfterSeconds(extra.retryAfterMs);
    headers['retry-after'] = String(seconds);
    if (extra.message === undefined) message = `${message} Retry in ${seconds} s.`;
  }
  if (kind === 'store_unavailable' && extra.retryAfterMs === undefined)
    headers['retry-after'] = '5';
  if (wantsHtml(accept)) {
    headers['content-type'] = 'text/html; charset=utf-8';
    const styled = appPage(extra.page, { kind, status: spec.status, title: spec.title, message });
    if (styled) return { status: spec.status, headers, body: styled };
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem"><h1>${spec.status} ${escapeHtml(spec.title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
    return { status: spec.status, headers, body };
  }
  headers['content-type'] = 'application/json; charset=utf-8';
  return {
    status: spec.status,
    headers,
    body: JSON.stringify({ error: kind, status: spec.status, message }),
  };
}

function appPage(
  page: RefusalRenderer | undefined,
  refusal: Omit<Refusal, 'method' | 'path'>,
): string | null {
  if (!page) return null;
  try {
    const body = page(refusal);
    return typeof body === 'string' && body !== '' ? body : null;
  } catch {
    return null;
  }
}

/** Seconds for a `Retry-After` header: at least 1, rounded up. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Whether an error means the session store failed (down, slow, a broken reply, or closed during
 * shutdown): such errors become a 503, anything else is the application's own error.
 */
export function isStoreFailure(err: unknown): boolean {
  return (
    isTesseraError(err) &&
    (err.code === 'STORE_UNAVAILABLE' || err.code === 'STORE_ERROR' || err.code === 'CLOSED')
  );
}

/**
 * The answer for one of Tessera's typed refusals or failures: `CsrfError` and
 * `OriginRefusedError` → 403,
 * `RateLimitedError` → 429 with `Retry-After`, `BadRequestError` → 400, `DataTooLargeError` and
 * `FormTooLargeError` → 413, a store failure → 503. `null` for any other error,
 * which stays the application's.
 */
export function answerFor(
  err: unknown,
  accept: string | null | undefined,
  page?: RefusalRenderer,
): ErrorAnswer | null {
  if (!isTesseraError(err)) return null;
  if (err.code === 'CSRF_INVALID') return errorAnswer('csrf', accept, { page });
  if (err.code === 'ORIGIN_REFUSED') return errorAnswer('origin', accept, { page });
  if (err instanceof BadRequestError)
    return errorAnswer('bad_request', accept, {
      message: `The request could not be read: ${err.detail}.`,
      page,
    });
  if (err instanceof RateLimitedError)
    return errorAnswer('rate_limited', accept, { retryAfterMs: err.retryAfterMs, page });
  if (err instanceof FormTooLargeError)
    return errorAnswer('too_large', accept, {
      message: `The form is larger than ${err.limit} bytes and carries no CSRF token in them. Send the token in the CSRF header, or as the first field of the form.`,
      page,
    });
  if (err instanceof DataTooLargeError)
    return errorAnswer('too_large', accept, {
      message: `This change was not saved: the session data would take ${err.bytes} bytes, over the limit of ${err.limit} bytes.`,
      page,
    });
  if (err instanceof InvalidInputError)
    return errorAnswer('bad_request', accept, {
      message: `The request could not be processed: ${err.message.replace(/^\[tessera\] /, '')}.`,
      page,
    });
  if (isStoreFailure(err)) return errorAnswer('store_unavailable', accept, { page });
  return null;
}
