import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ConfigError, DataTooLargeError, NotSupportedError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { SessionData } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import {
  CookieTooLargeError,
  createCookieStore,
  generationsFromRateLimitStore,
} from '../../src/stores/cookie/index.js';
import { createMemoryRateLimitStore } from '../../src/stores/memory.js';
import { sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

const SECRET = randomBytes(32).toString('base64');
const OLD_SECRET = randomBytes(32).toString('base64');

/** A logger that keeps the reasons it was given. */
function recordingLogger(): Logger & { reasons: string[] } {
  const reasons: string[] = [];
  const log = (obj: Record<string, unknown>) => {
    if (typeof obj.reason === 'string') reasons.push(obj.reason);
  };
  return { reasons, debug: log, info: log, warn: log, error: log };
}

/** Cookies as a request carries them: name → value. */
function jar(set: { name: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(set.map((c) => [c.name, c.value]));
}

describe('cookie store: contract through a cookie jar', () => {
  // The 4-chunk ceiling is this store's declared size limit, so the large-value case stays under it.
  // Values must fit in the cookies (maxChunks × chunkSize sealed): small sizes for the size tests.
  testSessionStore(it, () => createCookieStore({ secrets: [SECRET] }).sessionStore(new Map()), {
    largeValueBytes: 2_000,
    dataLimitBytes: 4_096,
  });
});

describe('cookie store: contract with server-side generations', () => {
  testSessionStore(
    it,
    () =>
      createCookieStore({
        secrets: [SECRET],
        generations: generationsFromRateLimitStore(createMemoryRateLimitStore()),
      }).sessionStore(new Map()),
    { largeValueBytes: 2_000, dataLimitBytes: 4_096, prefix: 'cookie+generations' },
  );
  testDestroyReturnsOwner(it, () =>
    createCookieStore({ secrets: [SECRET] }).sessionStore(new Map()),
  );
});

describe('cookie store: sealing', () => {
  it('refuses secrets shorter than 32 bytes, an empty list and duplicate key ids', () => {
    assert.throws(
      () => createCookieStore({ secrets: ['x'.repeat(31)] }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.field, 'cookie.secrets.0');
        return true;
      },
    );
    assert.throws(() => createCookieStore({ secrets: [SECRET, new Uint8Array(16)] }), /secrets\.1/);
    assert.throws(() => createCookieStore({ secrets: [] }), ConfigError);
    assert.throws(
      () =>
        createCookieStore({
          secrets: [
            { id: 'k', secret: SECRET },
            { id: 'k', secret: OLD_SECRET },
          ],
        }),
      /same key id/,
    );
  });

  it('round-trips a record; an expired one is a miss with its reason', async () => {
    const store = createCookieStore({ secrets: [SECRET] });
    const now = Date.now();
    const record = sampleRecord({ idleExpiresAt: now + 1000 }, now);
    const sealed = await store.seal(record, now);
    assert.equal(sealed.set.length, 1);
    assert.equal(sealed.set[0]!.name, 'tessera');
    assert.deepEqual(sealed.clear, ['tessera.1', 'tessera.2', 'tessera.3']);
    assert.equal(sealed.expiresAt, now + 1000);
    assert.deepEqual((await store.unseal(jar(sealed.set), now)).record, record);
    assert.deepEqual(await store.unseal(jar(sealed.set), now + 1000), {
      record: null,
      reason: 'expired_idle',
    });
    assert.match(sealed.set[0]!.value, /^1~t1\.[A-Za-z0-9_-]{8}\./);
    assert.ok(!sealed.set[0]!.value.includes(record.csrf), 'the content is encrypted');
  });

  it('rotates keys: the first secret seals, every secret unseals, an unknown key is refused', async () => {
    const now = Date.now();
    const logger = recordingLogger();
    const before = createCookieStore({ secrets: [OLD_SECRET] });
    const during = createCookieStore({ secrets: [SECRET, OLD_SECRET], logger });
    const after = createCookieStore({ secrets: [SECRET], logger });
    const record = sampleRecord({}, now);
    const old = jar((await before.seal(record, now)).set);
    assert.deepEqual((await during.unseal(old, now)).record, record);
    const fresh = jar((await during.seal(record, now)).set);
    assert.notEqual(fresh.tessera!.split('.')[1], old.tessera!.split('.')[1], 'new key id');
    assert.deepEqual((await after.unseal(fresh, now)).record, record);
    assert.equal((await after.unseal(old, now)).record, null);
    assert.deepEqual(logger.reasons, ['unknown_key']);
  });

  it('a cookie sealed with another secret under the same key id, or for another cookie name, is refused', async () => {
    const now = Date.now();
    const logger = recordingLogger();
    const mine = createCookieStore({ secrets: [{ id: 'k1', secret: SECRET }], logger });
    const foreign = createCookieStore({ secrets: [{ id: 'k1', secret: OLD_SECRET }] });
    const record = sampleRecord({}, now);
    assert.equal((await mine.unseal(jar((await foreign.seal(record, now)).set), now)).record, null);
    const other = createCookieStore({
      secrets: [{ id: 'k1', secret: SECRET }],
      cookieName: 'other',
    });
    const moved = (await other.seal(record, now)).set[0]!.value;
    assert.equal((await mine.unseal({ tessera: moved }, now)).record, null);
    assert.deepEqual(logger.reasons, ['tampered', 'tampered']);
  });

  it('splits a large session across numbered cookies and reassembles it', async () => {
    const store = createCookieStore({ secrets: [SECRET] });
    const now = Date.now();
    const record = sampleRecord({ data: { notes: 'n'.repeat(7_000) } }, now);
    const sealed = await store.seal(record, now);
    assert.deepEqual(
      sealed.set.map((c) => c.name),
      ['tessera', 'tessera.1', 'tessera.2'],
    );
    assert.ok(sealed.set.every((c) => c.value.length <= 3800));
    assert.deepEqual(sealed.clear, ['tessera.3']);
    assert.deepEqual((await store.unseal(jar(sealed.set), now)).record, record);
  });

  it('past maxChunks sealing fails with CookieTooLargeError instead of truncating', async () => {
    const store = createCookieStore({ secrets: [SECRET], maxChunks: 2 });
    const now = Date.now();
    await assert.rejects(
      store.seal(sampleRecord({ data: { notes: 'n'.repeat(9_000) } }, now), now),
      (err: unknown) => {
        assert.ok(err instanceof CookieTooLargeError);
        assert.ok(err instanceof DataTooLargeError);
        assert.equal(err.code, 'DATA_TOO_LARGE');
        assert.equal(err.maxChunks, 2);
        assert.equal(err.chunks, 4); // ~13 100 sealed characters in cookies of 3 800
        return true;
      },
    );
    const sessions = store.sessionStore(new Map());
    await assert.rejects(
      sessions.create(sampleRecord({ data: { notes: 'n'.repeat(20_000) } }, now), {
        maxSessionsPerUser: null,
        now,
      }),
      CookieTooLargeError,
    );
  });

  it('revokeUser kills every cookie sealed before it; later cookies work; a lost counter fails closed', async () => {
    const limits = createMemoryRateLimitStore();
    const store = createCookieStore({
      secrets: [SECRET],
      generations: generationsFromRateLimitStore(limits),
    });
    const now = Date.now();
    const userId = 'alice';
    const a = jar((await store.seal(sampleRecord({ userId }, now), now)).set);
    const b = jar((await store.seal(sampleRecord({ userId }, now), now)).set);
    const bob = jar((await store.seal(sampleRecord({ userId: 'bob' }, now), now)).set);
    assert.ok((await store.unseal(a, now)).record);
    await store.revokeUser(userId);
    assert.deepEqual(await store.unseal(a, now), { record: null, reason: 'terminated' });
    assert.deepEqual(await store.unseal(b, now), { record: null, reason: 'terminated' });
    assert.ok((await store.unseal(bob, now)).record, "another user's cookie is untouched");
    const c = jar((await store.seal(sampleRecord({ userId }, now), now)).set);
    assert.ok((await store.unseal(c, now)).record, 'a cookie sealed after the revocation works');
    await limits.reset('tessera:gen:alice');
    assert.equal((await store.unseal(c, now)).record, null, 'a lost generation logs the user out');
    await assert.rejects(createCookieStore({ secrets: [SECRET] }).revokeUser(userId), ConfigError);
  });
});

describe('cookie store: the store a manager uses, outside a request', () => {
  it('refuses what needs a browser’s cookies with NotSupportedError, and revokes through generations', async () => {
    const now = Date.now();
    const plain = createCookieStore({ secrets: [SECRET] }).sessionStore();
    assert.ok(plain.clientSide, 'the adapters see a client-side store');
    const record = sampleRecord({ userId: 'alice' }, now);
    const calls: [string, () => Promise<unknown>][] = [
      ['create', () => plain.create(record, { maxSessionsPerUser: null, now })],
      ['get', () => plain.get(record.id, now)],
      ['patch', () => plain.patch(record.id, { set: { a: 1 } }, now)],
      ['destroy', () => plain.destroy(record.id, 'admin', now)],
      ['regenerate', () => plain.regenerate(record.id, record, { maxSessionsPerUser: null, now })],
      ['listUser', () => plain.listUser('alice', now)],
      ['destroyUser', () => plain.destroyUser('alice', { reason: 'logout-all', now })],
    ];
    for (const [name, run] of calls)
      await assert.rejects(run(), (err: unknown) => {
        assert.ok(err instanceof NotSupportedError, name);
        assert.equal(err.code, 'NOT_SUPPORTED');
        assert.match(err.message, /the cookie store/);
        return true;
      });
    await assert.rejects(plain.listUser('alice', now), /cannot list a user's sessions/);
    await assert.rejects(plain.destroy(record.id, 'admin', now), /cannot end another browser/);
    await assert.rejects(
      plain.destroyUser('alice', { reason: 'logout-all', now }),
      /without `generations`/,
    );
    assert.equal(await plain.cleanup(now), 0);

    const limits = createMemoryRateLimitStore();
    const store = createCookieStore({
      secrets: [SECRET],
      generations: generationsFromRateLimitStore(limits),
    });
    const sealed = jar((await store.seal(record, now)).set);
    assert.ok((await store.unseal(sealed, now)).record);
    assert.deepEqual(
      await store.sessionStore().destroyUser('alice', { reason: 'logout-all', now }),
      [],
      'the ids are unknown: they live in the browsers',
    );
    assert.deepEqual(await store.unseal(sealed, now), { record: null, reason: 'terminated' });
  });

  it('a manager on it refuses listing, ending by id and creating outside a request', async () => {
    const manager = createSessionManager({
      store: createCookieStore({ secrets: [SECRET] }).sessionStore(),
      cleanupInterval: false,
    });
    const storeErrors: unknown[] = [];
    manager.on('storeError', (e) => storeErrors.push(e));
    try {
      await assert.rejects(manager.listUserSessions('alice'), NotSupportedError);
      await assert.rejects(manager.terminate('a'.repeat(64)), NotSupportedError);
      await assert.rejects(manager.terminateUser('alice'), NotSupportedError);
      await assert.rejects(manager.create({ userId: 'alice' }), NotSupportedError);
      assert.deepEqual(storeErrors, [], 'a capability refusal is not a store failure');
      assert.equal((await manager.stats()).counters.storeErrors, 0);
    } finally {
      await manager.close();
    }
  });
});

describe('cookie store: property tests', () => {
  const logger = recordingLogger();
  // Small chunks so most sessions span several cookies.
  const store = createCookieStore({ secrets: [SECRET], chunkSize: 300, maxChunks: 12, logger });
  const now = Date.now();
  const jsonData = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 6,
  }) as fc.Arbitrary<SessionData>;
  const sealedSession = jsonData.chain((data) => {
    const record = sampleRecord({ data: JSON.parse(JSON.stringify(data)) }, now);
    return fc.constant(record);
  });

  it('any JSON data round-trips exactly', async () => {
    await fc.assert(
      fc.asyncProperty(sealedSession, async (record) => {
        const sealed = await store.seal(record, now);
        assert.deepEqual((await store.unseal(jar(sealed.set), now)).record, record);
      }),
      { numRuns: 500 },
    );
  });

  it('changing any character of any chunk means no session, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        sealedSession,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0x21, max: 0x7e }),
        async (record, chunkPick, posPick, code) => {
          const set = (await store.seal(record, now)).set;
          const chunk = set[chunkPick % set.length]!;
          const pos = posPick % chunk.value.length;
          const char = String.fromCharCode(code);
          fc.pre(chunk.value[pos] !== char);
          chunk.value = chunk.value.slice(0, pos) + char + chunk.value.slice(pos + 1);
          assert.equal((await store.unseal(jar(set), now)).record, null);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('flipping one bit of the sealed bytes means no session', async () => {
    await fc.assert(
      fc.asyncProperty(sealedSession, fc.nat(), fc.nat({ max: 7 }), async (record, at, bit) => {
        const set = (await store.seal(record, now)).set;
        const whole = set.map((c) => c.value).join('');
        const token = whole.slice(whole.indexOf('~') + 1);
        const [v, kid, body] = token.split('.') as [string, string, string];
        const raw = Buffer.from(body, 'base64url');
        raw[at % raw.length]! ^= 1 << bit;
        const flipped = `${whole.slice(0, whole.indexOf('~') + 1)}${v}.${kid}.${raw.toString('base64url')}`;
        const cookies = set.map((c, i) => ({
          name: c.name,
          value: flipped.slice(i * 300, (i + 1) * 300),
        }));
        assert.equal((await store.unseal(jar(cookies), now)).record, null);
      }),
      { numRuns: 2000 },
    );
  });

  it('cutting, dropping or shuffling chunks means no session', async () => {
    const big = sampleRecord({ data: { blob: 'b'.repeat(1500) } }, now);
    const set = (await store.seal(big, now)).set;
    assert.ok(set.length >= 5);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // cut one chunk short
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), keep: fc.nat() }),
          // drop one chunk
          fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), keep: fc.constant(0) }),
          // keep only the first n chunks
          fc.record({ kind: fc.constant('prefix' as const), at: fc.nat(), keep: fc.constant(0) }),
        ),
        async ({ kind, at, keep }) => {
          const cookies = set.map((c) => ({ ...c }));
          const i = at % cookies.length;
          if (kind === 'cut')
            cookies[i]!.value = cookies[i]!.value.slice(0, keep % cookies[i]!.value.length);
          if (kind === 'drop') cookies.splice(i, 1);
          if (kind === 'prefix') cookies.splice(Math.max(1, i));
          fc.pre(kind !== 'prefix' || cookies.length < set.length);
          assert.equal((await store.unseal(jar(cookies), now)).record, null);
        },
      ),
      { numRuns: 1000 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(
          set.map((c) => c.value),
          { minLength: set.length },
        ),
        async (values) => {
          fc.pre(values.some((v, i) => v !== set[i]!.value));
          const cookies = set.map((c, i) => ({ name: c.name, value: values[i]! }));
          assert.equal((await store.unseal(jar(cookies), now)).record, null);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('logged a reason for each refusal and never the cookie', () => {
    assert.ok(logger.reasons.length > 1000);
    const allowed = new Set([
      'malformed',
      'missing_chunk',
      'too_many_chunks',
      'unknown_version',
      'unknown_key',
      'tampered',
      'bad_payload',
    ]);
    for (const reason of logger.reasons) assert.ok(allowed.has(reason), reason);
  });
});
