/**
 * The HTTP layer's defences, each a test: cookie attributes in production and the `__Host-`
 * prefix; constant-time comparison of CSRF tokens and cookie MACs; X-Forwarded-For believed only
 * with trustProxy; login rate limits that case, whitespace and unicode variants do not bypass;
 * and session fixation (a token planted before login is dead after it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, it } from 'vitest';
import { sessionOf, tesseraSession } from '../../src/adapters/express.js';
import { constantTimeEqual, generateToken } from '../../src/core/tokens.js';
import type { TrustProxy } from '../../src/http/client-ip.js';
import { createSessionManager } from '../../src/index.js';
import { BrowserJar, browse, PASSWORD, securityApp } from './app.js';

const source = (path: string) =>
  readFileSync(new URL(`../../src/${path}`, import.meta.url), 'utf8');

describe('cookie attributes', () => {
  it('production: HttpOnly session cookie, readable CSRF cookie, both Secure, SameSite=Lax, Path=/, no Domain, __Host-', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const app = securityApp(manager, { mode: 'production' });
    const jar = new BrowserJar();
    await browse(app, jar, 'GET', '/whoami');
    await browse(app, jar, 'POST', '/login', { form: { username: 'carol', password: PASSWORD } });
    const session = jar.setCookieLines.filter((l) => /^__Host-tessera=/.test(l)).at(-1)!;
    const csrf = jar.setCookieLines.filter((l) => /^__Host-tessera\.csrf=/.test(l)).at(-1)!;
    assert.ok(session && csrf, jar.setCookieLines.join('\n'));
    for (const line of [session, csrf]) {
      assert.match(line, /; Secure(;|$)/);
      assert.match(line, /; Path=\/(;|$)/);
      assert.match(line, /; SameSite=Lax(;|$)/);
      assert.match(line, /; Max-Age=88200(;|$)/); // the 30-minute idle timeout and a day
      assert.doesNotMatch(line, /Domain=/i);
    }
    assert.match(session, /; HttpOnly(;|$)/);
    assert.doesNotMatch(csrf, /HttpOnly/i);
    assert.ok(
      jar.setCookieLines.every((l) => l.startsWith('__Host-')),
      'every cookie is __Host-',
    );
    await manager.close();
  });

  it('production ignores a cookie without the __Host- prefix (one a sibling subdomain could plant)', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const app = securityApp(manager, { mode: 'production' });
    const s = await manager.create({ userId: 'dave' });
    const res = await app.request('https://app.example/whoami', {
      headers: { cookie: `tessera=${s.token}` },
    });
    assert.equal(((await res.json()) as { id: string | null }).id, null);
    const ok = await app.request('https://app.example/whoami', {
      headers: { cookie: `__Host-tessera=${s.token}` },
    });
    assert.equal(((await ok.json()) as { id: string | null }).id, s.session.id);
    await manager.close();
  });

  it('development drops Secure and the prefix only for localhost', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const app = securityApp(manager, { mode: 'development' });
    const local = await app.request('http://localhost:3000/whoami', {
      headers: { host: 'localhost:3000' },
    });
    assert.match(local.headers.getSetCookie()[0]!, /^tessera\.csrf=/);
    assert.doesNotMatch(local.headers.getSetCookie()[0]!, /Secure/);
    const remote = await app.request('http://app.example/whoami', {
      headers: { host: 'app.example' },
    });
    assert.match(remote.headers.getSetCookie()[0]!, /^__Host-tessera\.csrf=.*; Secure/);
    await manager.close();
  });
});

describe('constant-time comparisons', () => {
  it('CSRF tokens are compared with constantTimeEqual, built on crypto.timingSafeEqual over digests', () => {
    const tokens = source('core/tokens.ts');
    assert.match(tokens, /export function constantTimeEqual[\s\S]*?timingSafeEqual\(ha, hb\)/);
    const manager = source('core/manager.ts');
    assert.match(manager, /verifyCsrf\([\s\S]*?constantTimeEqual\(session\.csrf, token\)/);
    const session = source('http/session.ts');
    assert.match(session, /verifyCsrf\([\s\S]*?this\.#preCsrf\.verify\(submitted\)/);
    const preSession = source('http/pre-session-csrf.ts');
    assert.match(preSession, /verify\([\s\S]*?constantTimeEqual\(this\.#token!, submitted\)/);
    // No other comparison of a CSRF value anywhere in the HTTP layer or the core.
    for (const file of [
      'core/manager.ts',
      'http/session.ts',
      'http/pre-session-csrf.ts',
      'http/cookie-outcome.ts',
      'http/handler.ts',
    ]) {
      assert.doesNotMatch(source(file), /csrf\w*\s*[!=]==?\s*(submitted|token)\b/i, file);
      assert.doesNotMatch(source(file), /(submitted|token)\s*[!=]==?\s*\S*csrf/i, file);
    }
  });

  it('constantTimeEqual is exact: equal only for the same string, whatever the lengths', () => {
    const t = generateToken();
    assert.ok(constantTimeEqual(t, t));
    for (let i = 0; i < t.length; i++) {
      assert.ok(!constantTimeEqual(t, t.slice(0, i)));
      assert.ok(
        !constantTimeEqual(t, `${t.slice(0, i)}${t[i] === 'A' ? 'B' : 'A'}${t.slice(i + 1)}`),
      );
    }
    assert.ok(!constantTimeEqual(t, `${t}x`));
    assert.ok(!constantTimeEqual('', t));
  });

  it('cookie MACs: AES-256-GCM tags are checked by OpenSSL (decipher.final), never compared in JS', () => {
    const seal = source('stores/cookie/seal.ts');
    assert.match(seal, /createDecipheriv\('aes-256-gcm'/);
    assert.match(seal, /decipher\.setAuthTag\(/);
    assert.match(seal, /decipher\.final\(\)/);
    // A tag taken out and compared by hand would be a timing leak.
    assert.doesNotMatch(seal, /getAuthTag\(\)\s*[!=]==?|\.equals\(|compare\(/);
  });
});

/** An Express app on a real socket: the peer address is the real one (127.0.0.1). */
async function expressApp(trustProxy: TrustProxy | undefined) {
  const manager = createSessionManager({
    cleanupInterval: false,
    rateLimit: { maxAttempts: 3, maxAttemptsPerIp: 4 },
  });
  const app = express();
  app.use(tesseraSession(manager, trustProxy === undefined ? {} : { trustProxy }));
  app.get('/ip', (req, res) => {
    const session = sessionOf(req);
    res.json({ ip: session.ip, csrf: session.csrfToken });
  });
  app.post('/login', express.json(), async (req, res) => {
    const result = await sessionOf(req).login(String(req.body.username), () => null);
    res.status(result.ok ? 200 : result.reason === 'rate_limited' ? 429 : 401).json(result);
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ip: async (xff?: string) =>
      (
        (await (
          await fetch(`${url}/ip`, { headers: xff ? { 'x-forwarded-for': xff } : {} })
        ).json()) as { ip: string }
      ).ip,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await manager.close();
    },
  };
}

describe('X-Forwarded-For', () => {
  it('is ignored by default: the client is the socket peer', async () => {
    const app = await expressApp(undefined);
    assert.equal(await app.ip('203.0.113.9'), '127.0.0.1');
    assert.equal(await app.ip('203.0.113.9, 10.0.0.1'), '127.0.0.1');
    await app.close();
  });

  it('is believed only as far as trustProxy says', async () => {
    const one = await expressApp(1);
    assert.equal(await one.ip('203.0.113.9, 198.51.100.2'), '198.51.100.2');
    await one.close();
    const loopback = await expressApp(['127.0.0.1']);
    assert.equal(await loopback.ip('203.0.113.9, 198.51.100.2'), '198.51.100.2');
    await loopback.close();
    const other = await expressApp(['10.9.9.9']);
    assert.equal(await other.ip('203.0.113.9'), '127.0.0.1');
    await other.close();
    const all = await expressApp(true);
    assert.equal(await all.ip('203.0.113.9, 198.51.100.2'), '203.0.113.9');
    await all.close();
  });

  it('a forged header does not escape the per-IP login limit when trustProxy is off', async () => {
    const app = await expressApp(undefined);
    // A pre-session CSRF token, as the login form would carry it.
    const first = await fetch(`${app.url}/ip`);
    const csrfCookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const csrf = csrfCookie.slice(csrfCookie.indexOf('=') + 1);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${app.url}/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: csrfCookie,
          'x-csrf-token': csrf,
          'x-forwarded-for': `203.0.113.${i}`,
        },
        body: JSON.stringify({ username: `user-${i}` }),
      });
      statuses.push(res.status);
    }
    // maxAttemptsPerIp is 4: every attempt counted against 127.0.0.1, whatever the header says.
    assert.deepStrictEqual(statuses, [401, 401, 401, 429, 429, 429]);
    await app.close();
  });
});

describe('rate limiting', () => {
  const VARIANTS = [
    'alice',
    'Alice',
    'ALICE',
    ' alice',
    'alice ',
    '\talice\n',
    '\u00a0alice\u3000',
    '\ufeffalice',
    'ＡＬＩＣＥ',
    'ａｌｉｃｅ',
    'aLiCe',
  ];

  it('variants of one username by case, whitespace and unicode form share one counter', async () => {
    const manager = createSessionManager({
      cleanupInterval: false,
      rateLimit: { maxAttempts: 5, maxAttemptsPerIp: 1000 },
    });
    // Every attempt from another address, so only the username counter can stop them.
    for (let i = 0; i < 5; i++)
      await manager.trackLoginAttempt({
        ip: `198.51.100.${i}`,
        username: VARIANTS[i]!,
        success: false,
      });
    for (const [i, variant] of VARIANTS.entries()) {
      const verdict = await manager.checkLoginAttempt({ ip: `203.0.113.${i}`, username: variant });
      assert.equal(verdict.allowed, false, JSON.stringify(variant));
    }
    assert.equal(
      (await manager.checkLoginAttempt({ ip: '203.0.113.99', username: 'alicia' })).allowed,
      true,
    );
    await manager.close();
  });

  it('through an adapter, from many forwarded addresses: the sixth variant is refused with 429', async () => {
    const manager = createSessionManager({
      cleanupInterval: false,
      rateLimit: { maxAttempts: 5, maxAttemptsPerIp: 1000 },
    });
    const app = securityApp(manager, { trustProxy: 1 });
    const statuses: number[] = [];
    for (const [i, variant] of VARIANTS.slice(0, 7).entries()) {
      const jar = new BrowserJar();
      await browse(app, jar, 'GET', '/whoami');
      const r = await browse(app, jar, 'POST', '/login', {
        form: { username: variant, password: 'wrong' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      statuses.push(r.status);
    }
    assert.deepStrictEqual(statuses, [401, 401, 401, 401, 429, 429, 429]);
    await manager.close();
  });
});

describe('session fixation', () => {
  it('a token planted before login is dead after it, and the login issues a new token and CSRF token', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const app = securityApp(manager);
    // The attacker gets an anonymous session and plants its cookie in the victim's browser.
    const attacker = new BrowserJar();
    await browse(app, attacker, 'GET', '/whoami');
    await browse(app, attacker, 'POST', '/set?key=planted&value=1');
    const planted = attacker.session!;
    const plantedCsrf = attacker.csrf;
    assert.ok(planted);
    const victim = new BrowserJar();
    victim.cookies.set('__Host-tessera', planted);
    victim.cookies.set('__Host-tessera.csrf', plantedCsrf);
    const login = await browse(app, victim, 'POST', '/login', {
      form: { username: 'erin', password: PASSWORD },
    });
    assert.equal(login.status, 200);
    assert.notEqual(victim.session, planted);
    assert.notEqual(victim.csrf, plantedCsrf);
    // The planted token opens nothing now: by cookie, by bearer header, or in the manager.
    const byCookie = await browse(app, attacker, 'GET', '/whoami');
    assert.equal(byCookie.body.id, null);
    assert.equal(byCookie.body.userId, null);
    const byBearer = await app.request('https://app.example/whoami', {
      headers: { authorization: `Bearer ${planted}` },
    });
    assert.equal(((await byBearer.json()) as { id: string | null }).id, null);
    assert.equal((await manager.validate(planted)).session, null);
    const me = await browse(app, victim, 'GET', '/whoami');
    assert.equal(me.body.userId, 'erin');
    await manager.close();
  });

  it('a well-formed token the attacker made up never becomes a session', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const app = securityApp(manager);
    const madeUp = generateToken();
    const victim = new BrowserJar();
    victim.cookies.set('__Host-tessera', madeUp);
    await browse(app, victim, 'GET', '/whoami');
    await browse(app, victim, 'POST', '/login', {
      form: { username: 'frank', password: PASSWORD },
    });
    assert.notEqual(victim.session, madeUp);
    assert.equal((await manager.validate(madeUp)).session, null);
    await manager.close();
  });
});
