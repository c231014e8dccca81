/**
 * A browser and a raw client for the adapter tests: a cookie jar, a JSON request helper that sends
 * the jar's cookies and CSRF token, raw bytes for headers Node's clients refuse, and a request
 * with a chosen Host header.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** A tiny cookie jar: what a browser would send back. */
export class Jar {
  cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res: Response): string[] {
    const set = res.headers.getSetCookie();
    for (const line of set) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return set;
  }
  csrf(): string {
    for (const [k, v] of this.cookies) if (k.endsWith('.csrf')) return v;
    return '';
  }
  session(): string | undefined {
    for (const [k, v] of this.cookies) if (!k.endsWith('.csrf')) return v;
    return undefined;
  }
}

export async function call(
  app: RunningApp,
  jar: Jar | null,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; csrf?: boolean } = {},
): Promise<{ res: Response; body: unknown; setCookie: string[] }> {
  const headers: Record<string, string> = { accept: 'application/json', ...(init.headers ?? {}) };
  if (jar?.cookies.size) headers.cookie = jar.header();
  if (jar && init.csrf !== false && method !== 'GET') headers['x-csrf-token'] ??= jar.csrf();
  const res = await fetch(app.url + path, { method, headers, body: init.body, redirect: 'manual' });
  const setCookie = jar ? jar.take(res) : res.headers.getSetCookie();
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { res, body, setCookie };
}

/** Sends raw bytes (headers Node's clients would refuse) and returns the status code. */
export function rawStatus(url: string, head: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no status line: ${data.slice(0, 200)}`)));
    socket.write(head);
  });
}

/** A request with a chosen Host header (fetch does not allow setting it). */
export function hostRequest(
  url: string,
  host: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; setCookie: string[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers: { host, accept: 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
