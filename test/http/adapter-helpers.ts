/**
 * What the adapter apps' extra routes and the hardening tests share: a counted, slow password
 * check for the sign-in route, the `keepData` of a query parameter, a deeply nested value, and a
 * client that streams a huge body without holding it while watching this process's memory.
 */
import { request as httpRequest } from 'node:http';
import type { LoginResult } from '../../src/core/manager-api.js';
import type { JsonValue } from '../../src/core/types.js';

/** How many times `verifyPassword` ran for each user name. */
export const verifications = new Map<string, number>();
export const RIGHT_PASSWORD = 'right-password';

/** A password check that takes 20 ms (as a real hash does) and is counted per user. */
export async function verifyPassword(user: string, password: string): Promise<string | null> {
  verifications.set(user, (verifications.get(user) ?? 0) + 1);
  await new Promise((r) => setTimeout(r, 20));
  return password === RIGHT_PASSWORD ? user : null;
}

/** The status a sign-in route answers for a login result. */
export function signinStatus(result: LoginResult): number {
  return result.ok ? 200 : result.reason === 'rate_limited' ? 429 : 401;
}

/** The `keepData` a `keep` query parameter asks for: `none` → false, `a,b` → those keys. */
export function keepOption(keep: string | null | undefined): boolean | string[] | undefined {
  if (keep === null || keep === undefined || keep === '') return undefined;
  return keep === 'none' ? false : keep.split(',');
}

/**
 * A session's own timeouts from `idle` and `absolute` query parameters (`absolute=none` → false),
 * for the login routes: what a "remember me" box would ask for.
 */
export function timeoutOptions(
  idle: string | null | undefined,
  absolute: string | null | undefined,
): { idleTimeout?: string; absoluteTimeout?: string | false } {
  const options: { idleTimeout?: string; absoluteTimeout?: string | false } = {};
  if (idle) options.idleTimeout = idle;
  if (absolute) options.absoluteTimeout = absolute === 'none' ? false : absolute;
  return options;
}

/** A JSON value nested `depth` arrays deep (`[[[…]]]`), built without recursion. */
export function nested(depth: number): JsonValue {
  let value: JsonValue = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

/**
 * POSTs a body of `totalBytes` streamed in 64 KiB chunks (never held whole: one chunk is reused),
 * returns the status as soon as the answer arrives (then stops sending), and the largest growth
 * of this process's RSS seen while it ran, in MiB. `prefix` is sent first.
 */
export function streamHugeBody(
  url: string,
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
  prefix = '',
): Promise<{ status: number; ms: number; rssGrowthMiB: number }> {
  const { hostname, port } = new URL(url);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      {
        host: hostname,
        port,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': String(totalBytes + prefix.length) },
      },
      (res) => {
        answered = true;
        const ms = performance.now() - started;
        res.resume();
        res.on('end', () => {
          clearInterval(sampler);
          peak = Math.max(peak, process.memoryUsage().rss);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, ms, rssGrowthMiB: (peak - before) / 2 ** 20 });
        });
      },
    );
    // The server may answer and close before the body is sent: not an error of the test.
    req.on('error', (err) => {
      if (!answered) {
        clearInterval(sampler);
        reject(err);
      }
    });
    if (prefix) req.write(prefix);
    const pump = () => {
      while (!answered && sent < totalBytes) {
        const piece = Math.min(chunk.length, totalBytes - sent);
        sent += piece;
        if (!req.write(piece === chunk.length ? chunk : chunk.subarray(0, piece))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
