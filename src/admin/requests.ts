/**
 * Reading what an admin request carries: the form fields and CSRF token of a POST, and path
 * segments whose percent-encoding may be broken (a `BadRequestError`, a 400, not a `URIError`).
 */
import { BadRequestError } from '../core/errors.js';
import { readWebPrefix } from '../http/form-field.js';

/** Where the dashboard looks for the CSRF token. */
export interface CsrfLocation {
  /** Lower-case header name. */
  header: string;
  field: string;
}

/** The dashboard's forms hold an id or a user id and a token: more is not a dashboard form. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * The form fields of a POST (urlencoded or a flat JSON object, at most 64 KiB: a longer body is a
 * `BadRequestError`, never read whole) and the CSRF token it carries.
 */
export async function readPost(
  request: Request,
  csrf: CsrfLocation,
): Promise<{ form: URLSearchParams; csrf: unknown }> {
  const type = request.headers.get('content-type') ?? '';
  let form = new URLSearchParams();
  const urlencoded = type.startsWith('application/x-www-form-urlencoded');
  if (urlencoded || type.startsWith('application/json')) {
    const body = await readWebPrefix(request.body, MAX_FORM_BYTES);
    if (!body.complete) throw new BadRequestError('the form is larger than 64 KiB');
    const text = body.bytes.toString('utf8');
    if (urlencoded) form = new URLSearchParams(text);
    else {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {}
      if (parsed && typeof parsed === 'object')
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') form.set(k, v);
    }
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
