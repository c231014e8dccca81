/**
 * The dashboard's answers: HTML pages and JSON with the headers every one of them carries (no
 * caching, a CSP that allows no script), and the 303 redirect after a form.
 */

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function html(status: number, body: string): Response {
  return new Response(body, { status, headers: PAGE_HEADERS });
}

export function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

/** A whole number from a query parameter, at least 1 and at most `max`; `fallback` otherwise. */
export function positiveInt(raw: string | null, fallback: number, max: number): number {
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

/** A session id as stores key them: SHA-256, 64 lowercase hex characters. */
export const SESSION_ID = /^[0-9a-f]{64}$/;
