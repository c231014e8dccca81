/**
 * Reading what an admin request carries: the form fields and CSRF token of a POST, and path
 * segments whose percent-encoding may be broken (a `BadRequestError`, a 400, not a `URIError`).
 */
import { BadRequestError } from '../core/errors.js';

/** Where the dashboard looks for the CSRF token. */
export interface CsrfLocation {
  /** Lower-case header name. */
  header: string;
  field: string;
}

/** The form fields of a POST (urlencoded or a flat JSON object) and the CSRF token it carries. */
export async function readPost(
  request: Request,
  csrf: CsrfLocation,
): Promise<{ form: URLSearchParams; csrf: unknown }> {
  const type = request.headers.get('content-type') ?? '';
  let form = new URLSearchParams();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    form = new URLSearchParams(await request.text());
  } else if (type.startsWith('application/json')) {
    const body = (await request.json().catch(() => null)) as Record<string, unknown> | null;
    if (body && typeof body === 'object')
      for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form.set(k, v);
  }
  return { form, csrf: request.headers.get(csrf.header) ?? form.get(csrf.field) ?? undefined };
}

/** A percent-encoded path segment, decoded. Broken encoding (`%E0%A4%A`) is a `BadRequestError`. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError('a path segment has malformed percent-encoding');
  }
}
