/** The framework-neutral pieces on their own: client IP, cookie reading, bearer, Web fetch handling. */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { handleFetch } from '../../src/adapters/fetch.js';
import { generateToken } from '../../src/core/tokens.js';
import { clientIp } from '../../src/http/client-ip.js';
import {
  cookieNames,
  MAX_COOKIE_HEADER_BYTES,
  readBearer,
  readCookies,
} from '../../src/http/cookies.js';
import { createSessionHttp } from '../../src/http/handler.js';
import { errorAnswer, wantsHtml } from '../../src/http/responses.js';
import { createSessionManager } from '../../src/index.js';

describe('clientIp and trustProxy', () => {
  const xff = '203.0.113.7, 10.0.0.2';
  it('never believes X-Forwarded-For by default', () => {
    assert.equal(clientIp('127.0.0.1', xff, false), '127.0.0.1');
  });
  it('true: the left-most address', () => {
    assert.equal(clientIp('127.0.0.1', xff, true), '203.0.113.7');
  });
  it('a hop count trusts only that many proxies', () => {
    assert.equal(clientIp('127.0.0.1', xff, 1), '10.0.0.2');
    assert.equal(clientIp('127.0.0.1', xff, 2), '203.0.113.7');
  });
  it('a list trusts only those proxy addresses', () => {
    assert.equal(clientIp('::ffff:127.0.0.1', '198.51.100.1', ['127.0.0.1']), '198.51.100.1');
    assert.equal(clientIp('192.0.2.9', '198.51.100.1', ['127.0.0.1']), '192.0.2.9');
  });
  it('garbage in the header stops the walk', () => {
    assert.equal(clientIp('127.0.0.1', 'not-an-ip', true), '127.0.0.1');
  });
  it('a string names proxies, comma-separated; "loopback" is 127.0.0.0/8 and ::1', () => {
    assert.equal(clientIp('127.0.0.5', '198.51.100.1', 'loopback'), '198.51.100.1');
    assert.equal(clientIp('::1', '198.51.100.1', 'loopback'), '198.51.100.1');
    assert.equal(clientIp('10.0.0.1', '198.51.100.1', 'loopback'), '10.0.0.1');
    assert.equal(
      clientIp('10.0.0.1', '198.51.100.1, 127.0.0.1', '10.0.0.1, loopback'),
      '198.51.100.1',
    );
  });
  it('a trustProxy that is none of these is a ConfigError at construction, not a 500 per request', () => {
    const manager = createSessionManager({ cleanupInterval: false });
    for (const trustProxy of ['junk', ['127.0.0.1', 7], { proxies: 1 }, -1, 1.5])
      assert.throws(
        () => createSessionHttp(manager, { trustProxy: trustProxy as never }),
        (err: Error) => err.name === 'ConfigError' && /trustProxy/.test(err.message),
      );
    for (const bad of [{ tokenHeader: 42 }, { csrfHeader: 'x csrf' }, { cookieName: Symbol('x') }])
      assert.throws(
        () => createSessionHttp(manager, bad as never),
        (err: Error) => err.name === 'ConfigError',
      );
  });
});

describe('cookie and bearer reading', () => {
  const names = cookieNames('tessera', true);
  it('reads the prefixed names; a duplicate is treated as absent', () => {
    const t = generateToken();
    assert.equal(readCookies(`__Host-tessera=${t}`, names).session, t);
    assert.equal(readCookies(`__Host-tessera=${t}; __Host-tessera=${t}`, names).session, null);
    assert.equal(
      readCookies(`tessera=${t}`, names).session,
      null,
      'the unprefixed name is ignored in production',
    );
    // Other sites' cookies on the domain do not hide the session cookie: the header is read whole.
    const foreign = Array.from({ length: 90 }, (_, i) => `site${i}=${'f'.repeat(95)}`).join('; ');
    assert.ok(foreign.length > 9000);
    assert.equal(readCookies(`${foreign}; __Host-tessera=${t}; ${foreign}`, names).session, t);
    const over = `__Host-tessera=${t}; pad=${'x'.repeat(MAX_COOKIE_HEADER_BYTES)}`;
    assert.equal(readCookies(over, names).session, null, 'past the guard the header is ignored');
  });
  it('bearer tokens from Authorization or a configured header', () => {
    assert.equal(readBearer('Bearer abc', null), 'abc');
    assert.equal(readBearer('bearer  abc ', null), 'abc');
    assert.equal(readBearer('Basic abc', null), null);
    assert.equal(readBearer(null, 'xyz'), 'xyz');
  });
  it('HTML or JSON by Accept', () => {
    assert.equal(wantsHtml('text/html,application/xhtml+xml,*/*;q=0.8'), true);
    assert.equal(wantsHtml('application/json'), false);
    assert.equal(wantsHtml(undefined), false);
    assert.equal(
      errorAnswer('rate_limited', null, { retryAfterMs: 1500 }).headers['retry-after'],
      '2',
    );
  });
});

describe('handleFetch: Web Request → Response (Bun, Deno, Workers)', () => {
  it('creates, reads and protects a session with only Web APIs', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const http = createSessionHttp(manager, { mode: 'production' });
    const app = (req: Request) =>
      handleFetch(http, req, async (request, session) => {
        if (request.method === 'POST') session.set('n', Number(session.get('n') ?? 0) + 1);
        return Response.json({ n: session.get('n') ?? 0, csrf: session.csrfToken });
      });
    const first = await app(new Request('https://app.example/'));
    const csrfCookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const { csrf } = (await first.json()) as { csrf: string };
    const denied = await app(
      new Request('https://app.example/', { method: 'POST', headers: { cookie: csrfCookie } }),
    );
    assert.equal(denied.status, 403);
    const form = new URLSearchParams({ _csrf: csrf });
    const ok = await app(
      new Request('https://app.example/', {
        method: 'POST',
        headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      }),
    );
    assert.equal(ok.status, 200);
    const cookies = ok.headers.getSetCookie().map((c) => c.split(';')[0]!);
    assert.ok(cookies.some((c) => c.startsWith('__Host-tessera=')));
    const again = await app(
      new Request('https://app.example/', { headers: { cookie: cookies.join('; ') } }),
    );
    assert.equal(((await again.json()) as { n: number }).n, 1);
    await manager.close();
  });
});
