/**
 * User ids and data keys full of glob characters (`*?[]`), key separators (`:`, `{}`) and unicode,
 * against real backends: what one user's id says must never reach another user's sessions, and data
 * must come back exactly as JSON would carry it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createFileStore } from '../../src/stores/file.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { requireService } from '../support/services.js';
import { anyUtf16, dataKey, sessionData, trickyString, viaJson } from './arbitraries.js';
import { BACKEND_RUNS, RUNS } from './runs.js';
import { deleteRedisPrefix } from './shared-redis.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-fuzz-keys-'));
const table = `fz_${randomBytes(5).toString('hex')}`;
const redisPrefix = `fuzz-${randomBytes(4).toString('hex')}:`;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

const redisOk = await requireService('Redis', '127.0.0.1', 6379, 'apt-get install -y redis-server');
const pgOk = await requireService(
  'PostgreSQL',
  '127.0.0.1',
  5432,
  'apt-get install -y postgresql (user postgres, database test, trust auth on 127.0.0.1)',
);

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (redisOk) await deleteRedisPrefix(redisPrefix);
  if (pgOk) {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const t of [table, `${table}_user_locks`, `${table}_migrations`])
      await admin.query(`DROP TABLE IF EXISTS "${t}"`);
    await admin.end();
  }
});

/** Where the user id's tricky part goes relative to the case's nonce (which keeps cases apart). */
const placement = fc.constantFrom('before', 'after', 'around', 'glob');

function userIdFor(tricky: string, nonce: string, where: string): string {
  if (where === 'before') return `${tricky}${nonce}`;
  if (where === 'after') return `${nonce}${tricky}`;
  if (where === 'around') return `${tricky}${nonce}${tricky}`;
  // A pattern that, read as a glob, matches the other users of this case.
  return `${nonce}*`;
}

const scenario = fc.record({
  users: fc.uniqueArray(fc.tuple(trickyString(3), placement), {
    minLength: 2,
    maxLength: 3,
    selector: ([t, p]) => `${t}\u0000${p}`,
  }),
  data: fc.array(sessionData, { minLength: 2, maxLength: 2 }),
  set: sessionData,
  unset: fc.array(dataKey, { maxLength: 2 }),
});

interface Backend {
  name: string;
  ok: boolean;
  make: () => SessionStore;
  /** Cases for this backend: the slower ones (a fsync per write, a pool) run fewer. */
  runs: number;
}

const backends: Backend[] = [
  { name: 'memory', ok: true, make: () => createMemoryStore(), runs: Math.round(RUNS / 4) },
  {
    name: 'sqlite',
    ok: true,
    make: () => createSqlStore({ url: `sqlite:${join(folder, 'keys.db')}`, table }),
    runs: Math.round(BACKEND_RUNS / 2),
  },
  {
    name: 'redis',
    ok: redisOk,
    make: () => createRedisStore({ port: 6379, prefix: redisPrefix, connectTimeout: 2000 }),
    runs: Math.round(BACKEND_RUNS / 2),
  },
  {
    name: 'postgres',
    ok: pgOk,
    make: () => createSqlStore({ url: PG_URL, table, poolSize: 4 }),
    runs: Math.round(BACKEND_RUNS / 4),
  },
  {
    name: 'file',
    ok: true,
    make: () => createFileStore({ path: mkdtempSync(join(folder, 'files-')) }),
    runs: Math.round(BACKEND_RUNS / 4),
  },
];

describe('fuzz: user ids and data keys against real stores', () => {
  for (const backend of backends) {
    it.skipIf(!backend.ok)(
      `${backend.name}: ids never leak across users, data round-trips exactly`,
      async () => {
        const store = backend.make();
        const manager = createSessionManager({
          store,
          maxSessionsPerUser: null,
          rateLimit: false,
          cleanupInterval: false,
        });
        try {
          await fc.assert(
            fc.asyncProperty(scenario, async ({ users, data, set, unset }) => {
              const nonce = randomBytes(4).toString('hex');
              const userIds = [
                ...new Set(users.map(([tricky, where]) => userIdFor(tricky, nonce, where))),
              ];
              const issued = new Map<string, { token: string; id: string; data: unknown }[]>();
              for (const [i, userId] of userIds.entries()) {
                const sessions = [];
                for (const d of data) {
                  const s = await manager.create({ userId, data: d, ip: '203.0.113.9' });
                  sessions.push({ token: s.token, id: s.session.id, data: viaJson(d) });
                }
                issued.set(userId, i === 0 ? sessions : sessions.slice(0, 1));
                // The second session of the other users is ended at once: it must stay ended.
                if (i > 0) await manager.terminate(sessions[1]!.id);
              }

              for (const [userId, sessions] of issued) {
                for (const s of sessions) {
                  const found = await manager.validate(s.token);
                  assert.ok(found.session, `session of ${JSON.stringify(userId)} is live`);
                  assert.equal(found.session.userId, userId);
                  assert.deepStrictEqual(viaJson(found.session.data), s.data);
                  assert.deepStrictEqual(
                    Object.keys(found.session.data).sort(),
                    Object.keys(s.data as object).sort(),
                  );
                }
                const listed = (await manager.listUserSessions(userId)).map((x) => x.id).sort();
                assert.deepStrictEqual(listed, sessions.map((s) => s.id).sort());
              }

              // A delta with hostile keys lands exactly.
              const [firstUser, firstSessions] = [...issued][0]!;
              const target = firstSessions[0]!;
              const before = (await manager.validate(target.token)).session!;
              await manager.update(before, { set, unset });
              const expected = viaJson(before.data) as Record<string, unknown>;
              for (const [k, v] of Object.entries(viaJson(set)))
                Object.defineProperty(expected, k, {
                  value: v,
                  enumerable: true,
                  writable: true,
                  configurable: true,
                });
              for (const k of unset) delete expected[k];
              const after = (await manager.validate(target.token)).session!;
              assert.deepStrictEqual(viaJson(after.data), viaJson(expected));

              // Logging one user out everywhere touches no one else.
              const ended = (await manager.terminateUser(firstUser)).sort();
              assert.deepStrictEqual(ended, firstSessions.map((s) => s.id).sort());
              for (const [userId, sessions] of issued) {
                for (const s of sessions) {
                  const found = await manager.validate(s.token);
                  assert.equal(found.session !== null, userId !== firstUser, userId);
                }
              }
              for (const userId of userIds) await manager.terminateUser(userId);
            }),
            { numRuns: backend.runs },
          );
        } finally {
          await manager.close();
          await store.close();
        }
      },
      120_000,
    );
  }

  it.skipIf(!redisOk)(
    'lone surrogates and NUL in a user id, lone surrogates in a data key: InvalidInputError, nothing stored',
    async () => {
      // UTF-8 backends turn a lone surrogate into U+FFFD: "u\ud800" and "u\udbff" would be one user.
      const store = createRedisStore({ port: 6379, prefix: redisPrefix, connectTimeout: 2000 });
      const manager = createSessionManager({ store, rateLimit: false, cleanupInterval: false });
      const malformed = anyUtf16.filter((s) => /\p{Cs}/u.test(s) || s.includes('\u0000'));
      try {
        await fc.assert(
          fc.asyncProperty(malformed, fc.boolean(), async (bad, asUserId) => {
            const nonce = randomBytes(4).toString('hex');
            const userId = asUserId ? `${nonce}${bad}` : nonce;
            const data = asUserId ? {} : { [bad]: 1 };
            if (!asUserId && !/\p{Cs}/u.test(bad)) return; // NUL is fine in a data key
            await assert.rejects(manager.create({ userId, data }), InvalidInputError);
            const live = await manager.create({ userId: nonce });
            if (/\p{Cs}/u.test(bad))
              await assert.rejects(
                manager.update(live.session, { set: { [bad]: 1 } }),
                InvalidInputError,
              );
            if (asUserId) {
              await assert.rejects(manager.terminateUser(userId), InvalidInputError);
              await assert.rejects(manager.listUserSessions(userId), InvalidInputError);
            }
            assert.deepStrictEqual(
              (await manager.listUserSessions(nonce)).map((s) => s.id),
              [live.session.id],
            );
            await manager.terminateUser(nonce);
          }),
          { numRuns: BACKEND_RUNS },
        );
      } finally {
        await manager.close();
        await store.close();
      }
    },
  );
});
