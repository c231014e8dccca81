/**
 * The options of issue 15 §2 at the level of the HTTP layer: what `exclude` patterns match (and
 * that a path in any but its plain form is never excluded), the Origin check of upgrades, the
 * session of an excluded request, and the configuration errors that say what to fix.
 */
import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { handleFetch } from '../../src/adapters/fetch.js';
import { ConfigError, SessionExcludedError } from '../../src/core/errors.js';
import { excludeMatcher, globToRegExp, isPlainPath } from '../../src/http/exclude.js';
import { createSessionHttp } from '../../src/http/handler.js';
import type { SessionHttpOptions } from '../../src/http/http-options.js';
import { originChecker } from '../../src/http/origins.js';
import { createSessionManager } from '../../src/index.js';

const manager = createSessionManager({ cleanupInterval: false });
afterAll(() => manager.close());

const get = (path: string) => ({ method: 'GET', path });

describe('exclude patterns', () => {
  it('exact paths, prefixes, globs, regular expressions and predicates', () => {
    const m = excludeMatcher([
      '/health',
      '/static/*',
      '/*.ico',
      '/assets/**/*.map',
      /^\/metrics(\/|$)/g,
      (r: { method: string; path: string }) => r.method === 'OPTIONS',
    ]);
    for (const path of [
      '/health',
      '/static/',
      '/static/app.js',
      '/static/css/site.css',
      '/favicon.ico',
      '/assets/a/b/c.js.map',
      '/metrics',
      '/metrics/heap',
    ])
      assert.equal(m(get(path)), true, path);
    // The RegExp's g flag does not make the second test start where the first ended.
    assert.equal(m(get('/metrics')), true);
    assert.equal(m({ method: 'OPTIONS', path: '/api' }), true);
    for (const path of [
      '/health/',
      '/healthz',
      '/Health',
      '/HEALTH',
      '/static',
      '/staticx/a',
      '/img/favicon.ico',
      '/assets/a.js',
      '/metricsx',
      '/',
    ])
      assert.equal(m(get(path)), false, path);
  });

  it('a glob is literal apart from its stars', () => {
    assert.equal(globToRegExp('/a.b/*').test('/aXb/c'), false);
    assert.equal(globToRegExp('/a/*/c').test('/a/b/c'), true);
    assert.equal(globToRegExp('/a/*/c').test('/a/b/x/c'), false);
    assert.equal(globToRegExp('/a/**/c').test('/a/b/x/c'), true);
  });

  it('a path in any but its plain form is never excluded, whatever the rule says', () => {
    const all = excludeMatcher([() => true, '/static/*']);
    for (const path of [
      '/static/../admin',
      '/static/./admin',
      '/static/..',
      '/static/%2e%2e/admin',
      '/static/%2E%2E/admin',
      '/static/.%2e/admin',
      '/static/..%2fadmin',
      '/static/%2fadmin',
      '/static\\..\\admin',
      '/static//admin',
      '//static/a',
      'static/a',
      'http://host/static/a',
      '/static/a b',
      '/static/\u00e9',
      '',
    ]) {
      assert.equal(isPlainPath(path), false, path);
      assert.equal(all(get(path)), false, path);
    }
    for (const path of ['/', '/static/a.b/c..d/.well', '/static/...'])
      assert.equal(isPlainPath(path), true, path);
  });

  it('an excluded request gets no store call and a session that throws SessionExcludedError', async () => {
    const http = createSessionHttp(manager, { exclude: '/health' });
    let caught: unknown;
    const res = await handleFetch(
      http,
      new Request('https://app.example/health'),
      (_r, session) => {
        try {
          void session.userId;
        } catch (err) {
          caught = err;
        }
        return new Response('ok');
      },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.ok(caught instanceof SessionExcludedError, String(caught));
    assert.equal((caught as SessionExcludedError).code, 'SESSION_EXCLUDED');
    assert.match((caught as Error).message, /GET \/health .*exclude/);
  });
});

describe('the Origin of WebSocket upgrades', () => {
  it('the own host (any scheme, same port) and the trusted origins pass; others do not', () => {
    const check = originChecker(['https://app.example.com', 'http://localhost:5173']);
    assert.equal(check('https://api.example.com', 'api.example.com'), true);
    assert.equal(check('http://api.example.com', 'api.example.com:80'), true);
    assert.equal(check('https://api.example.com', 'api.example.com:443'), true);
    assert.equal(check('http://127.0.0.1:3000', '127.0.0.1:3000'), true);
    assert.equal(check('https://app.example.com', 'api.example.com'), true);
    assert.equal(check('http://localhost:5173', 'api.example.com'), true);
    assert.equal(check(undefined, 'api.example.com'), true, 'no Origin: not a browser');
    for (const origin of [
      'https://evil.example',
      'https://api.example.com.evil.example',
      'http://127.0.0.1:3001',
      'http://localhost:5174',
      'null',
      'file://',
      'garbage',
      '',
    ])
      assert.equal(
        check(origin, origin === 'http://127.0.0.1:3001' ? '127.0.0.1:3000' : 'api.example.com'),
        false,
        origin,
      );
    assert.equal(check('https://api.example.com', undefined), false, 'no Host to compare');
  });
});

describe('handleFetch and WebSocket upgrades (Bun, Deno)', () => {
  it('a foreign Origin is a 403; the own host gets a read-only session and no cookie', async () => {
    const http = createSessionHttp(manager, {});
    const { token } = await manager.create({ userId: 'ada' });
    const upgrade = (origin: string) =>
      new Request('https://app.example/live', {
        // Runtimes pass the Host header on (a Request built here has none by itself).
        headers: {
          host: 'app.example',
          upgrade: 'websocket',
          origin,
          cookie: `__Host-tessera=${token}`,
        },
      });
    const refused = await handleFetch(http, upgrade('https://evil.example'), () => {
      throw new Error('not reached');
    });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: string }).error, 'origin');
    let seen: { userId: string | null; write: unknown } | undefined;
    const res = await handleFetch(http, upgrade('https://app.example'), (_r, session) => {
      let write: unknown;
      try {
        session.set('x', 1);
      } catch (err) {
        write = (err as { code?: string }).code;
      }
      void session.csrfToken;
      seen = { userId: session.userId, write };
      return new Response('switching');
    });
    assert.deepEqual(seen, { userId: 'ada', write: 'SESSION_READ_ONLY' });
    assert.deepEqual(res.headers.getSetCookie(), [], 'an upgrade answer takes no cookie');
  });
});

describe('configuration errors say what to fix', () => {
  const bad: Array<[SessionHttpOptions, RegExp]> = [
    [{ sameSite: 'none', mode: 'development' }, /sameSite: "none" needs Secure cookies/],
    [
      { cookiePartitioned: true, mode: 'development' },
      /cookiePartitioned: partitioned cookies must be Secure/,
    ],
    [{ sameSite: 'None' as 'none' }, /sameSite: must be "lax", "strict" or "none"/],
    [
      { cookieName: '__Host-sid' },
      /cookieName: give the name without a __Host- or __Secure- prefix/,
    ],
    [{ cookieName: '__secure-sid' }, /cookieName: give the name without/],
    [{ cookiePath: 'account' }, /cookiePath: must be a URL path starting with "\/"/],
    [{ cookiePath: '/a;b' }, /cookiePath/],
    [{ cookieDomain: 'example.com; secure' }, /cookieDomain: must be a host name/],
    [{ cookieDomain: '' }, /cookieDomain/],
    [
      { cookiePersistent: 'yes' as unknown as boolean },
      /cookiePersistent: must be true, false or a function/,
    ],
    [{ cookiePartitioned: 1 as unknown as boolean }, /cookiePartitioned: must be true or false/],
    [{ exclude: 'health' }, /exclude: a path pattern must start with "\/"/],
    [
      { exclude: ['/ok', 42 as unknown as string] },
      /exclude\[1\]: must be a path pattern, a RegExp or a function/,
    ],
    [
      { trustedOrigins: ['https://app.example.com/path'] },
      /trustedOrigins\[0\]: must be an origin/,
    ],
    [
      { trustedOrigins: 'https://app.example.com' as unknown as string[] },
      /trustedOrigins: must be a list/,
    ],
  ];
  for (const [options, message] of bad)
    it(`${JSON.stringify(options)} → ConfigError`, () => {
      assert.throws(
        () => createSessionHttp(manager, options),
        (err: Error) => err instanceof ConfigError && message.test(err.message),
      );
    });

  it('the same options are accepted where they are valid', () => {
    createSessionHttp(manager, { sameSite: 'none', cookiePartitioned: true });
    createSessionHttp(manager, { cookieDomain: '.example.com', cookiePath: '/app' });
    createSessionHttp(manager, {
      trustedOrigins: ['https://app.example.com/', 'http://localhost:5173'],
    });
  });
});
