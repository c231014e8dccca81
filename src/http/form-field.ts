/**
 * Finding the CSRF field of a form body without reading the whole body: at most `formLimit`
 * bytes of a urlencoded or multipart body are read. A body that ends within them is read whole;
 * past them, only fields that end inside the prefix count (the token is usually the first field),
 * and a prefix that holds no such field is a `FormTooLargeError` (413) — the rest is never read,
 * so a huge anonymous POST costs at most `formLimit` bytes of memory before its refusal.
 */
import { FormTooLargeError } from '../core/errors.js';

/** The first bytes of a body, and whether they are all of it. */
export interface BodyPrefix {
  bytes: Buffer;
  complete: boolean;
}

/**
 * Reads at most `limit` bytes (and the rest of the chunk that crosses it) from a Web stream, then
 * lets it go. The stream should be a clone's (`request.clone().body`): the request keeps its body
 * for the route, and the other branch holds only what was read here.
 */
export async function readWebPrefix(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<BodyPrefix> {
  if (!body) return { bytes: Buffer.alloc(0), complete: true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= limit) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), complete: true };
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that fails to arrive has no field to find.
    return { bytes: Buffer.alloc(0), complete: true };
  }
  // Not awaited: a tee branch's cancel settles only once the other branch is cancelled too.
  reader.cancel().catch(() => {});
  return { bytes: Buffer.concat(chunks).subarray(0, limit), complete: false };
}

/** The boundary parameter of a multipart content type, or `null`. */
function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/** The value of `field` among the parts that end inside `text` (latin1), or `null`. */
function multipartField(text: string, boundary: string, field: string): string | null {
  const delimiter = `--${boundary}`;
  let at = text.indexOf(delimiter);
  while (at !== -1) {
    const headersStart = text.indexOf('\r\n', at + delimiter.length);
    if (headersStart === -1) return null;
    const headersEnd = text.indexOf('\r\n\r\n', headersStart);
    if (headersEnd === -1) return null;
    const next = text.indexOf(`\r\n${delimiter}`, headersEnd + 4);
    if (next === -1) return null; // this part does not end inside the prefix
    const headers = text.slice(headersStart + 2, headersEnd);
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === field && !/;\s*filename\*?=/i.test(disposition))
      return Buffer.from(text.slice(headersEnd + 4, next), 'latin1').toString('utf8');
    at = next + 2;
  }
  return null;
}

/**
 * The value of `field` in a form body's prefix: `undefined` when a complete body lacks it, and
 * `null` when an incomplete prefix holds no finished field of that name.
 */
export function fieldInPrefix(
  prefix: BodyPrefix,
  contentType: string,
  field: string,
): string | undefined | null {
  const type = contentType.toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const text = prefix.bytes.toString('utf8');
    if (prefix.complete) return new URLSearchParams(text).get(field) ?? undefined;
    // Only pairs followed by "&" are whole: the last one may be cut.
    const cut = text.lastIndexOf('&');
    return cut === -1 ? null : (new URLSearchParams(text.slice(0, cut)).get(field) ?? null);
  }
  if (type.startsWith('multipart/form-data')) {
    const boundary = boundaryOf(contentType);
    if (!boundary) return undefined;
    const value = multipartField(prefix.bytes.toString('latin1'), boundary, field);
    return value ?? (prefix.complete ? undefined : null);
  }
  return undefined;
}

/**
 * The CSRF field of a Web `Request`'s form body, read from a clone within `limit` bytes. Throws
 * `FormTooLargeError` when the body is longer and its first `limit` bytes hold no such field.
 */
export async function formFieldOf(
  request: Request,
  field: string,
  limit: number,
): Promise<string | undefined> {
  // A body already read elsewhere cannot be read again (nor cloned): no field.
  if (request.bodyUsed) return undefined;
  const prefix = await readWebPrefix(request.clone().body, limit);
  const value = fieldInPrefix(prefix, request.headers.get('content-type') ?? '', field);
  if (value === null) throw new FormTooLargeError(limit);
  return value;
}
