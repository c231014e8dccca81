/**
 * Fuzz: hostile Cookie headers against client-side sessions through the HTTP layer (`handleFetch`
 * and the handler's chunk reader): chunks of a real sealed session cut, shuffled, duplicated,
 * mixed with other cookies or with random bytes. The answer is always 2xx; the session opens only
 * when its own chunks arrive whole and in order, and otherwise the chunks sent are cleared.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { handleFetch } from '../../src/adapters/fetch.js';
import { chunkName, readChunkCookies } from '../../src/http/client-side.js';
import { createSessionHttp } from '../../src/http/handler.js';
import { createSessionManager } from '../../src/index.js';
import { createCookieStore } from '../../src/stores/cookie/index.js';
import { RUNS } from './runs.js';

const manager = createSessionManager({
  store: createCookieStore({
    secrets: [randomBytes(32).toString('hex')],
    chunkSize: 400,
    maxChunks: 8,
  }).sessionStore(),
  cleanupInterval: false,
});
// A Web Request carries no Host header: production cookie names (`__Host-tessera`, `.1`, …).
const http = createSessionHttp(manager);
const BASE = '__Host-tessera';
const app = (request: Request) =>
  handleFetch(http, request, (_r, s) => {
    if (new URL(request.url).pathname === '/grow') s.set('notes', 'n'.repeat(900));
    return Response.json({ id: s.id, data: s.data });
  });
const get = (cookie: string) =>
  app(new Request('http://localhost/', { headers: cookie ? { cookie } : {} }));

/** The chunks of a real session, in order, and its id. */
let real: { pairs: [string, string][]; id: string };
beforeAll(async () => {
  // A safe method needs no CSRF token: the route writes on GET.
  const res = await app(new Request('http://localhost/grow'));
  const pairs = res.headers
    .getSetCookie()
    .map((l) => l.split(';')[0]!)
    .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string])
    .filter(([n]) => n === BASE || /^__Host-tessera\.\d$/.test(n));
  const body = (await (await get(pairs.map(([n, v]) => `${n}=${v}`).join('; '))).json()) as {
    id: string;
  };
  real = { pairs, id: body.id };
});

describe('fuzz: client-side session cookies', () => {
  it('the real chunks span several cookies and open the session', () => {
    assert.ok(real.pairs.length >= 4, `${real.pairs.length} chunks`);
    assert.match(real.id, /^[0-9a-f]{64}$/);
  });

  it('any mix of its chunks, cut, shuffled or duplicated, with noise: 2xx, the session only when whole', async () => {
    const piece = fc.oneof(
      fc.nat({ max: 7 }).map((i) => ({ kind: 'chunk' as const, i })),
      fc
        .tuple(fc.nat({ max: 7 }), fc.nat({ max: 7 }))
        .map(([i, j]) => ({ kind: 'swap' as const, i, j })),
      fc
        .tuple(fc.nat({ max: 7 }), fc.nat(500))
        .map(([i, cut]) => ({ kind: 'cut' as const, i, cut })),
      fc
        .tuple(fc.nat({ max: 7 }), fc.string({ unit: 'binary', maxLength: 60 }))
        .map(([i, junk]) => ({ kind: 'junk' as const, i, junk })),
      fc.string({ maxLength: 40 }).map((text) => ({ kind: 'raw' as const, text })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const values = real.pairs.map(([, v]) => v);
        const parts = pieces.map((p) => {
          if (p.kind === 'chunk') return `${chunkName(BASE, p.i)}=${values[p.i] ?? 'x'}`;
          if (p.kind === 'swap') return `${chunkName(BASE, p.i)}=${values[p.j] ?? ''}`;
          if (p.kind === 'cut')
            return `${chunkName(BASE, p.i)}=${(values[p.i] ?? '').slice(0, p.cut)}`;
          if (p.kind === 'junk') return `${chunkName(BASE, p.i)}=${p.junk}`;
          return p.text;
        });
        const header = parts.join('; ');
        // Bytes no HTTP client can send as a header value (fetch refuses them) are not a case.
        let sendable = true;
        try {
          new Headers({ cookie: header });
        } catch {
          sendable = false;
        }
        fc.pre(sendable);
        const res = await get(header);
        assert.equal(res.status, 200, header.slice(0, 200));
        const body = (await res.json()) as { id: string | null };
        const read = readChunkCookies(header, BASE, `${BASE}.csrf`, 8);
        const whole = real.pairs.every(([, v], i) => read.chunks[i] === v);
        if (body.id !== null) {
          assert.equal(body.id, real.id);
          assert.ok(whole, 'opened only from its own chunks, whole and in order');
        }
      }),
      { numRuns: Math.round(RUNS / 4) },
    );
  });

  it('its chunks in any header order among other cookies: the session opens', async () => {
    const foreign = fc.array(
      fc.tuple(
        fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/),
        fc.stringMatching(/^[A-Za-z0-9]{0,40}$/),
      ),
      { maxLength: 10 },
    );
    await fc.assert(
      fc.asyncProperty(foreign, fc.infiniteStream(fc.double()), async (others, order) => {
        const cookies = [...real.pairs, ...others.filter(([n]) => !n.startsWith('__host'))];
        const keyed = cookies.map((c) => ({ c, k: order.next().value as number }));
        keyed.sort((a, b) => a.k - b.k);
        const header = keyed.map(({ c: [n, v] }) => `${n}=${v}`).join('; ');
        const body = (await (await get(header)).json()) as { id: string | null };
        assert.equal(body.id, real.id);
      }),
      { numRuns: Math.round(RUNS / 10) },
    );
  });
});
