/**
 * Cookie headers as an attacker writes them (random bytes, huge, duplicated names, bad encodings)
 * through the cookie parser, the framework-neutral handler, and the Hono and Express adapters: no
 * exception, no 5xx, and a session only for a token that was issued.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { tesseraSession as expressSession, sessionOf } from '../../src/adapters/express.js';
import { handleFetch } from '../../src/adapters/fetch.js';
import { tesseraSession as honoSession } from '../../src/adapters/hono.js';
import { generateToken } from '../../src/core/tokens.js';
import { cookieNames, MAX_COOKIE_HEADER_BYTES, readCookies } from '../../src/http/cookies.js';
import { createSessionHttp, type HttpRequestLike } from '../../src/http/handler.js';
import { createSessionManager } from '../../src/index.js';
import { fetchableHeader } from './arbitraries.js';
import { BACKEND_RUNS, RUNS } from './runs.js';

const manager = createSessionManager({ rateLimit: false, cleanupInterval: false });
const names = cookieNames('tessera', true);
/** Tokens that name live sessions. */
const issued: string[] = [];
/** The session id behind each issued token. */
const idOf = new Map<string, string>();

beforeAll(async () => {
  for (let i = 0; i < 5; i++) {
    const s = await manager.create({ userId: `user-${i}`, data: { n: i } });
    issued.push(s.token);
    idOf.set(s.token, s.session.id);
  }
});
afterAll(() => manager.close());

/** A cookie value: an issued token, one slightly off, or junk in many encodings. */
const cookieValue = fc.oneof(
  fc.constantFrom(...Array.from({ length: 5 }, (_, i) => i)).map((i) => issued[i]!),
  fc.constant(null).map(() => generateToken()),
  fc
    .tuple(fc.nat(4), fc.constantFrom('"', '%20', ' ', '=', '%', ';', '\u00e9', '\\'))
    .map(([i, extra]) => `${extra}${issued[i]!}`),
  fc.tuple(fc.nat(4)).map(([i]) => `"${issued[i]!}"`),
  fc.tuple(fc.nat(4)).map(([i]) => encodeURIComponent(issued[i]!).replace(/-/g, '%2D')),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  fc.constantFrom('%', '%E0%A4%A', '%FF', '%00', '%%', '""', '"', 'a"b', '\u0000', '='),
);

const cookieName = fc.oneof(
  fc.constantFrom(names.session, names.csrf, 'tessera', 'tessera.csrf', '__HOST-tessera', ''),
  fc.constantFrom(` ${names.session}`, `${names.session} `, '__Host-tessera.1'),
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
);

/** A whole Cookie header: pairs joined by a separator, sometimes huge, sometimes pure noise. */
const cookieHeader = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.array(fc.tuple(cookieName, cookieValue), { maxLength: 8 }),
        fc.constantFrom('; ', ';', ' ; ', ', ', ';;', '\t;'),
      )
      .map(([pairs, sep]) => pairs.map(([n, v]) => `${n}=${v}`).join(sep)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.nat(4), // Other sites' cookies past the old 8 KB cut-off: read whole (up to the server's limit).
        fc.integer({ min: 8_000, max: 40_000 }),
      )
      .map(([i, size]) => `${names.session}=${issued[i]!}; pad=${'x'.repeat(size)}`),
  },
);

/** Which issued token the header unambiguously presents as the session cookie, if any. */
function presentedToken(header: string): string | null {
  if (header.length > MAX_COOKIE_HEADER_BYTES) return null;
  const found = header
    .split(';')
    .map((part) => part.trim())
    .filter(
      (part) =>
        part.slice(0, part.indexOf('=') === -1 ? part.length : part.indexOf('=')).trim() ===
        names.session,
    );
  if (found.length !== 1) return null;
  // Cookie values are percent-decoded (the `cookie` package): `%2D` is the same token as `-`.
  const raw = found[0]!.slice(found[0]!.indexOf('=') + 1).trim();
  let value = raw;
  try {
    value = decodeURIComponent(raw);
  } catch {}
  return issued.includes(value) ? value : null;
}

function requestWith(cookie: string | null, extra: Record<string, string> = {}): HttpRequestLike {
  const headers: Record<string, string> = { host: 'app.example', ...extra };
  if (cookie !== null) headers.cookie = cookie;
  return {
    method: 'GET',
    path: '/',
    header: (name) => headers[name],
    remoteAddress: '203.0.113.5',
  };
}

describe('fuzz: cookie headers', () => {
  it('readCookies never throws; values are printable ASCII; a name sent twice counts as absent', () => {
    fc.assert(
      fc.property(cookieHeader, (header) => {
        const read = readCookies(header, names);
        for (const value of [read.session, read.csrf])
          assert.ok(value === null || /^[\x21-\x7e]*$/.test(value));
        if (header.length > MAX_COOKIE_HEADER_BYTES) assert.equal(read.session, null);
        const sent = header.split(';').filter((p) => p.split('=')[0]!.trim() === names.session);
        if (sent.length > 1) assert.equal(read.session, null);
      }),
      { numRuns: RUNS },
    );
  });

  it('the handler loads a session only for an issued token, sent once, and commits cleanly', async () => {
    const http = createSessionHttp(manager);
    await fc.assert(
      fc.asyncProperty(cookieHeader, async (header) => {
        const request = requestWith(header);
        const session = await http.load(request);
        const expected = presentedToken(header);
        if (session.exists) {
          assert.ok(expected, 'a session came from a token that was presented');
          assert.equal(session.id, idOf.get(expected));
        } else assert.equal(expected, null, 'an issued token sent once is found');
        const cookies = await http.commit(request, session);
        for (const c of cookies) assert.doesNotMatch(c, /[\r\n]/);
      }),
      { numRuns: RUNS },
    );
  });

  it('handleFetch and the Hono adapter answer every header without a 5xx', async () => {
    const http = createSessionHttp(manager);
    const app = new Hono();
    app.use('*', honoSession(manager));
    app.get('/', (c) => c.json({ id: c.get('session').id }));
    app.post('/', (c) => {
      c.get('session').set('x', 1);
      return c.json({ ok: true });
    });
    // Headers() refuses CR, LF, NUL and code points past U+00FF before any of our code runs.
    const fetchable = cookieHeader.filter(fetchableHeader);
    await fc.assert(
      fc.asyncProperty(fetchable, fc.constantFrom('GET', 'POST'), async (header, method) => {
        const headers = { cookie: header, host: 'app.example', accept: 'application/json' };
        const viaFetch = await handleFetch(
          http,
          new Request('https://app.example/', { method, headers }),
          (_r, s) => Response.json({ id: s.id }),
        );
        const viaHono = await app.request('https://app.example/', { method, headers });
        for (const res of [viaFetch, viaHono]) {
          assert.ok(res.status < 500, `status ${res.status}`);
          const body = (await res.json()) as { id?: string | null };
          if (method === 'GET') {
            const expected = presentedToken(header);
            assert.equal(body.id ?? null, expected ? idOf.get(expected) : null);
          } else assert.equal(res.status, 403, 'no CSRF token: refused');
        }
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
  });

  describe('raw bytes through Express on a real socket', () => {
    let server: import('node:http').Server;
    let port = 0;
    beforeAll(async () => {
      const app = express();
      app.use(expressSession(manager));
      app.get('/', (req, res) => {
        res.json({ id: sessionOf(req).id });
      });
      app.use((_err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
        res.status(500).json({ error: 'unexpected' });
      });
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      port = (server.address() as import('node:net').AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    function rawGet(cookie: Buffer): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.on('data', (c) => {
          data += c.toString('latin1');
        });
        socket.on('end', () => {
          const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
          if (!m) reject(new Error(`no status line: ${JSON.stringify(data.slice(0, 100))}`));
          else resolve({ status: Number(m[1]), body: data.slice(data.indexOf('\r\n\r\n') + 4) });
        });
        socket.on('error', reject);
        socket.end(
          Buffer.concat([
            Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: '),
            cookie,
            Buffer.from('\r\n\r\n'),
          ]),
        );
      });
    }

    it('any bytes in the Cookie header: a 2xx or a 4xx, never a 5xx', async () => {
      const bytes = fc.oneof(
        fc
          .uint8Array({ maxLength: 200 })
          .map((a) => Buffer.from(a.filter((b) => b !== 10 && b !== 13))),
        cookieHeader.map((h) => Buffer.from(h.replace(/[\r\n]/g, ''), 'utf8')),
      );
      await fc.assert(
        fc.asyncProperty(bytes, async (cookie) => {
          const { status } = await rawGet(cookie);
          assert.ok(status < 500, `status ${status}`);
        }),
        { numRuns: BACKEND_RUNS },
      );
    });
  });
});
