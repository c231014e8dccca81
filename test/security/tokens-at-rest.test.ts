/**
 * Tokens are 256 bits from the CSPRNG and only their SHA-256 is kept. After a run through the HTTP
 * layer over each store (memory, Redis, SQLite, PostgreSQL, file), every key, value, row and file is
 * scanned: no session token appears in any encoding, nor any pre-session CSRF token (those live only
 * in the visitor's cookie). Session CSRF tokens are stored by design (docs/design.md, "CSRF token at
 * rest") but never shown in a device list.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { generateToken, sessionIdFor, TOKEN_BYTES } from '../../src/core/tokens.js';
import type { SessionStore } from '../../src/core/types.js';
import { createSessionManager } from '../../src/index.js';
import { createFileStore } from '../../src/stores/file.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { idOfMember } from '../../src/stores/redis/buckets.js';
import { createRedisRateLimitStore, createRedisStore } from '../../src/stores/redis/index.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { deleteRedisPrefix } from '../fuzz/shared-redis.js';
import { requireService } from '../support/services.js';
import { BrowserJar, browse, PASSWORD, securityApp } from './app.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-sec-rest-'));
const table = `sec_${randomBytes(5).toString('hex')}`;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const redisOk = await requireService('Redis', '127.0.0.1', 6379, 'apt-get install -y redis-server');
const pgOk = await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql');
const prefix = `sec-${randomBytes(4).toString('hex')}:`;

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (redisOk) await deleteRedisPrefix(prefix);
  if (pgOk) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const t of [table, `${table}_user_locks`, `${table}_migrations`])
      await c.query(`DROP TABLE IF EXISTS "${t}"`);
    await c.end();
  }
});

describe('tokens', () => {
  it('are 256 bits, canonical base64url, from node:crypto randomBytes', () => {
    const source = readFileSync(new URL('../../src/core/tokens.ts', import.meta.url), 'utf8');
    assert.equal(TOKEN_BYTES, 32);
    assert.match(source, /import \{[^}]*randomBytes[^}]*\} from 'node:crypto'/);
    assert.match(source, /return randomBytes\(TOKEN_BYTES\)\.toString\('base64url'\)/);
    assert.doesNotMatch(source, /Math\.random/);
    const tokens = Array.from({ length: 4000 }, generateToken);
    assert.equal(new Set(tokens).size, tokens.length);
    let ones = 0;
    for (const t of tokens) {
      const bytes = Buffer.from(t, 'base64url');
      assert.equal(bytes.length, 32);
      for (const b of bytes) for (let i = 0; i < 8; i++) ones += (b >> i) & 1;
    }
    // 1,024,000 fair bits: mean 512,000, standard deviation 506; six deviations is never by chance.
    assert.ok(Math.abs(ones - 512_000) < 6 * 506, `ones: ${ones}`);
  });

  it('the session id is the SHA-256 of the token, never the token', () => {
    const t = generateToken();
    assert.match(sessionIdFor(t), /^[0-9a-f]{64}$/);
    assert.notEqual(sessionIdFor(t), t);
  });
});

/** The token as a string in every encoding a careless store could use. */
function encodings(token: string): string[] {
  const bytes = Buffer.from(token, 'base64url');
  return [
    token,
    bytes.toString('hex'),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
  ];
}

interface Backend {
  name: string;
  ok: boolean;
  make(): SessionStore;
  /** Everything the backend holds for this test, as text. */
  dump(store: SessionStore): Promise<string>;
}

const redisDump = async () => {
  const client = new Redis({ host: '127.0.0.1', port: 6379 });
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      parts.push(key);
      // Session keys hold the id's bytes in base64url: the hex id is shown beside them.
      if (key.includes('}s:')) parts.push(idOfMember(key.slice(key.indexOf('}s:') + 3)));
      const type = await client.type(key);
      if (type === 'string') parts.push(String(await client.get(key)));
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'zset')
        parts.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else parts.push(`<${type}>`);
    }
  } while (cursor !== '0');
  client.disconnect();
  assert.ok(parts.length > 0, 'the run left keys to scan');
  return parts.join('\n');
};

function filesUnder(dir: string): string {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    out.push(entry);
    out.push(statSync(path).isDirectory() ? filesUnder(path) : readFileSync(path, 'latin1'));
  }
  return out.join('\n');
}

const sqliteFile = join(folder, 'rest.db');
const fileDir = mkdtempSync(join(folder, 'files-'));

const backends: Backend[] = [
  {
    name: 'memory',
    ok: true,
    make: () => createMemoryStore(),
    // The memory store's whole content is what its listing API returns.
    dump: async (store) =>
      JSON.stringify(await store.list!({ limit: 10_000 } as never, Date.now())),
  },
  {
    name: 'redis',
    ok: redisOk,
    make: () => createRedisStore({ port: 6379, prefix }),
    dump: redisDump,
  },
  {
    name: 'sqlite',
    ok: true,
    make: () => createSqlStore({ url: `sqlite:${sqliteFile}`, table }),
    dump: async () => {
      const db = new Database(sqliteFile, { readonly: true });
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      const text = names
        .map((n) => JSON.stringify(db.prepare(`SELECT * FROM "${n.name}"`).all()))
        .join('\n');
      db.close();
      // The WAL and the file itself, byte for byte, too.
      return `${text}\n${readFileSync(sqliteFile, 'latin1')}\n${filesUnder(folder).length}`;
    },
  },
  {
    name: 'postgres',
    ok: pgOk,
    make: () => createSqlStore({ url: PG_URL, table, poolSize: 2 }),
    dump: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      const parts: string[] = [];
      for (const t of [table, `${table}_user_locks`, `${table}_migrations`])
        parts.push(JSON.stringify((await c.query(`SELECT * FROM "${t}"`)).rows));
      await c.end();
      return parts.join('\n');
    },
  },
  {
    name: 'file',
    ok: true,
    make: () => createFileStore({ path: fileDir }),
    dump: async () => filesUnder(fileDir),
  },
];

describe('only SHA-256 at rest: scan every store after a run', () => {
  for (const backend of backends) {
    it.skipIf(!backend.ok)(
      `${backend.name}: no session token and no pre-session CSRF token is stored`,
      async () => {
        const store = backend.make();
        const rateLimitStore =
          backend.name === 'redis' ? createRedisRateLimitStore({ port: 6379, prefix }) : undefined;
        const manager = createSessionManager({
          store,
          cleanupInterval: false,
          rateLimit: { maxAttempts: 3, ...(rateLimitStore ? { store: rateLimitStore } : {}) },
        });
        const app = securityApp(manager);
        const sessionTokens: string[] = [];
        const preSessionCsrf: string[] = [];
        const sessionCsrf: string[] = [];
        try {
          for (let i = 0; i < 4; i++) {
            const jar = new BrowserJar();
            await browse(app, jar, 'GET', '/whoami');
            preSessionCsrf.push(jar.csrf);
            await browse(app, jar, 'POST', '/login', {
              form: { username: `user${i}`, password: 'wrong' },
            });
            await browse(app, jar, 'POST', '/set?key=cart&value=3'); // an anonymous session
            sessionTokens.push(jar.session!);
            await browse(app, jar, 'POST', '/login', {
              form: { username: `User${i}`, password: PASSWORD },
            });
            sessionTokens.push(jar.session!);
            sessionCsrf.push(jar.csrf);
            await browse(app, jar, 'POST', '/set?key=theme&value=dark');
            const regenerated = await manager.regenerate(jar.session!);
            sessionTokens.push(regenerated!.token);
            if (i % 2 === 0) await manager.terminate(regenerated!.session.id);
          }
          const direct = await manager.create({ userId: 'direct', data: { a: 1 } });
          sessionTokens.push(direct.token);
          for (const s of await manager.listUserSessions('user1'))
            for (const csrf of sessionCsrf)
              assert.ok(!JSON.stringify(s).includes(csrf), 'device lists show no CSRF token');

          assert.equal(new Set(sessionTokens).size, sessionTokens.length);
          const dump = await backend.dump(store);
          assert.ok(dump.includes(sessionIdFor(direct.token)), 'the scan sees the stored ids');
          for (const token of sessionTokens)
            for (const encoded of encodings(token))
              assert.ok(!dump.includes(encoded), `${backend.name} holds a token`);
          for (const csrf of preSessionCsrf)
            assert.ok(!dump.includes(csrf), `${backend.name} holds a pre-session CSRF token`);
        } finally {
          await manager.close();
          await store.close();
          await rateLimitStore?.close();
        }
      },
      30_000,
    );
  }
});
