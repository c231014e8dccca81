/**
 * Tokens of every length and alphabet into `manager.validate` (memory, SQLite and Redis) and through
 * the bearer header; CSRF tokens in the header, the form field and the pre-session cookie. A session
 * is found only for an issued token, byte for byte; a CSRF check passes only for the exact token.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, describe, it } from 'vitest';
import { tesseraSession } from '../../src/adapters/hono.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { requireService } from '../support/services.js';
import { fetchableHeader } from './arbitraries.js';
import { BACKEND_RUNS, RUNS } from './runs.js';
import { deleteRedisPrefix } from './shared-redis.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-fuzz-tokens-'));
const redisOk = await requireService('Redis', '127.0.0.1', 6379, 'apt-get install -y redis-server');
const redisPrefix = `fuzz-${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (redisOk) await deleteRedisPrefix(redisPrefix);
});

const ALPHABETS = [
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', // base64url
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', // base64
  '0123456789abcdef', // hex (a session id's alphabet)
  'AEIMQUYcgkosw048', // the only valid last characters
  ' \t\r\n\u000b\u000c\u00a0',
  '%.;,"\'\\<>{}[]*?:',
  '\u0000\u0001\u001f\u007f\u0080\u00ff',
  'аеорсухАВЕКМНОРСТХ', // Cyrillic look-alikes
  'ＡＢＣａｂｃ０１２＿－',
];

/** A string of any length 0..100 over one of the alphabets, or a mix of them. */
const anyToken = fc.oneof(
  fc
    .tuple(fc.constantFrom(...ALPHABETS), fc.integer({ min: 0, max: 100 }))
    .chain(([alphabet, length]) =>
      fc
        .array(fc.constantFrom(...alphabet), { minLength: length, maxLength: length })
        .map((cs) => cs.join('')),
    ),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc
    .integer({ min: 40, max: 46 })
    .chain((length) =>
      fc
        .array(fc.constantFrom(...ALPHABETS[0]!), { minLength: length, maxLength: length })
        .map((cs) => cs.join('')),
    ),
);

/** An issued token changed in one of the ways a client or an attacker might change it. */
function mutate(token: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc
      .tuple(fc.nat(42), fc.constantFrom(...ALPHABETS[0]!, '+', '/', '=', ' ', '\u00e9'))
      .map(([at, ch]) => token.slice(0, at) + ch + token.slice(at + 1)),
    fc.constantFrom(
      token.toUpperCase(),
      token.toLowerCase(),
      ` ${token}`,
      `${token} `,
      `${token}=`,
      `${token}\u0000`,
      token.slice(1),
      token.slice(0, -1),
      `${token}${token}`,
      token.replace(/-/g, '+').replace(/_/g, '/'),
      Buffer.from(token, 'base64url').toString('hex'),
      encodeURIComponent(token),
      token.normalize('NFKC'),
    ),
    fc.constant(token),
  );
}

interface Backend {
  name: string;
  ok: boolean;
  make: () => SessionStore;
  runs: number;
}

const backends: Backend[] = [
  { name: 'memory', ok: true, make: () => createMemoryStore(), runs: RUNS },
  {
    name: 'sqlite',
    ok: true,
    make: () => createSqlStore({ url: `sqlite:${join(folder, 'tokens.db')}` }),
    runs: BACKEND_RUNS * 2,
  },
  {
    name: 'redis',
    ok: redisOk,
    make: () => createRedisStore({ port: 6379, prefix: redisPrefix }),
    runs: BACKEND_RUNS * 2,
  },
];

describe('fuzz: tokens into manager.validate', () => {
  for (const backend of backends) {
    it.skipIf(!backend.ok)(
      `${backend.name}: only the exact issued token finds a session; nothing throws`,
      async () => {
        const store = backend.make();
        const manager = createSessionManager({
          store,
          rateLimit: false,
          cleanupInterval: false,
        });
        try {
          const issued = await Promise.all(
            [1, 2, 3].map((n) => manager.create({ userId: `fuzz-${n}` })),
          );
          const byToken = new Map(issued.map((s) => [s.token, s.session.id]));
          const input = fc.oneof(
            anyToken,
            fc.constantFrom(...issued.map((s) => s.token)).chain(mutate),
            fc.anything(),
          );
          await fc.assert(
            fc.asyncProperty(input, async (value) => {
              const result = await manager.validate(value);
              const expected = typeof value === 'string' ? byToken.get(value) : undefined;
              if (expected) assert.equal(result.session?.id, expected);
              else {
                assert.equal(result.session, null);
                assert.ok(['malformed', 'not_found'].includes(result.reason!), result.reason);
              }
            }),
            { numRuns: backend.runs },
          );
          for (const s of issued) await manager.terminate(s.session.id);
        } finally {
          await manager.close();
          await store.close();
        }
      },
      60_000,
    );
  }

  it('through the Authorization and custom token headers of the Hono adapter', async () => {
    const manager = createSessionManager({ rateLimit: false, cleanupInterval: false });
    const app = new Hono();
    app.use('*', tesseraSession(manager, { tokenHeader: 'x-session-token' }));
    app.get('/', (c) => c.json({ id: c.get('session').id }));
    const s = await manager.create({ userId: 'bearer' });
    const value = fc.oneof(anyToken, mutate(s.token)).filter(fetchableHeader);
    await fc.assert(
      fc.asyncProperty(value, fc.boolean(), async (token, custom) => {
        const headers: Record<string, string> = custom
          ? { 'x-session-token': token }
          : { authorization: `Bearer ${token}` };
        const res = await app.request('/', { headers });
        assert.ok(res.status < 500, `status ${res.status}`);
        const { id } = (await res.json()) as { id: string | null };
        // Header values are trimmed by fetch and by the bearer parser: only the token itself counts.
        const exact = token.trim() === s.token;
        assert.equal(id, exact ? s.session.id : null);
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
    await manager.close();
  });
});

describe('fuzz: CSRF tokens', () => {
  it('an unsafe request passes only with the exact CSRF token, in the header or the form', async () => {
    const manager = createSessionManager({ rateLimit: false, cleanupInterval: false });
    const app = new Hono();
    app.use('*', tesseraSession(manager));
    app.post('/', (c) => c.json({ ok: true }));
    const own = await manager.create({ userId: 'csrf' });
    const other = await manager.create({ userId: 'csrf-other' });
    const cookie = `__Host-tessera=${own.token}; __Host-tessera.csrf=${own.csrfToken}`;
    const candidate = fc
      .oneof(mutate(own.csrfToken), fc.constant(other.csrfToken), fc.constant(own.token), anyToken)
      .filter(fetchableHeader);
    await fc.assert(
      fc.asyncProperty(candidate, fc.boolean(), async (submitted, inForm) => {
        const res = await app.request('https://app.example/', {
          method: 'POST',
          headers: inForm
            ? { cookie, 'content-type': 'application/x-www-form-urlencoded' }
            : { cookie, 'x-csrf-token': submitted },
          body: inForm ? new URLSearchParams({ _csrf: submitted }).toString() : undefined,
        });
        const exact = (inForm ? submitted : submitted.trim()) === own.csrfToken;
        assert.equal(res.status, exact ? 200 : 403, JSON.stringify(submitted));
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
    await manager.close();
  });

  it('before login (double submit): passes only when the cookie is a well-formed token and the header equals it', async () => {
    const manager = createSessionManager({ rateLimit: false, cleanupInterval: false });
    const app = new Hono();
    app.use('*', tesseraSession(manager));
    app.post('/', (c) => c.json({ ok: true }));
    const real = (await manager.create()).csrfToken;
    const printable = (v: string) => /^[\x21-\x7e]+$/.test(v) && !v.includes(';');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutate(real), anyToken).filter(printable),
        fc.oneof(mutate(real), anyToken).filter(printable),
        async (cookieValue, header) => {
          const res = await app.request('https://app.example/', {
            method: 'POST',
            headers: { cookie: `__Host-tessera.csrf=${cookieValue}`, 'x-csrf-token': header },
          });
          let decoded = cookieValue;
          try {
            decoded = decodeURIComponent(cookieValue);
          } catch {}
          const wellFormed = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(decoded);
          assert.equal(res.status, wellFormed && header === decoded ? 200 : 403);
        },
      ),
      { numRuns: Math.round(RUNS / 2) },
    );
    await manager.close();
  });
});
