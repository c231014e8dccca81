/**
 * `tessera sessions revoke` as a process against SQLite: a unique prefix of at least 8 characters
 * works as git's abbreviated ids do (pasted from the dashboard with its "…" too), an ambiguous one
 * names its matches and exits 2, and "nothing to revoke" exits 1 for one id, a prefix and --user
 * alike, as the README and `tessera --help` both say.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionManager } from '../../src/index.js';
import { createSqlStore, type SqlStore } from '../../src/stores/sql/index.js';
import { sampleRecord } from '../../src/testing/fixtures.js';
import { jsonOf, runCli, STACK_LINE } from './run-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-revoke-'));
const file = join(folder, 'sessions.db');
const table = `rv_${randomBytes(4).toString('hex')}`;
const config = join(folder, 'tessera.json');
writeFileSync(
  config,
  JSON.stringify({ storage: 'sqlite', database: { url: `sqlite:${file}`, table } }),
);
const cli = (...args: string[]) => runCli(['--config', config, ...args]);

let store: SqlStore;
let manager: SessionManager;
beforeAll(async () => {
  store = createSqlStore({ url: `sqlite:${file}`, table });
  await store.migrate();
  manager = createSessionManager({ store, cleanupInterval: false });
});
afterAll(async () => {
  await manager?.close();
  await store?.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Two live sessions whose ids share their first 8 characters, then differ. */
async function twins(prefix: string) {
  const now = Date.now();
  const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);
  const records = ['1', '2'].map((d, i) =>
    sampleRecord({ id: `${prefix}${d}${hex(55)}`, userId: `twin-${i + 1}` }, now),
  );
  for (const r of records) await store.create(r, { maxSessionsPerUser: null, now });
  return records;
}

describe('tessera sessions revoke', () => {
  it('accepts a unique prefix of at least 8 characters, as the dashboard shows it', async () => {
    const alice = await manager.create({ userId: 'alice' });
    const shown = `${alice.session.id.slice(0, 10)}…`; // the dashboard's cell, pasted
    const run = await cli('sessions', 'revoke', shown);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `Revoked session ${alice.session.id}.`);
    assert.equal((await manager.validate(alice.token)).session, null);
    const audit = await store.listTerminated({ limit: 5 }, Date.now());
    assert.equal(audit.sessions.find((s) => s.id === alice.session.id)?.terminationReason, 'admin');

    const upper = await manager.create({ userId: 'alice' });
    const json = await cli(
      'sessions',
      'revoke',
      upper.session.id.slice(0, 8).toUpperCase(),
      '--json',
    );
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(jsonOf(json), { id: upper.session.id, revoked: true });
  });

  it('an ambiguous prefix names what it matches and exits 2; more characters pick one', async () => {
    const [one, two] = await twins('abcdef01');
    const run = await cli('sessions', 'revoke', 'abcdef01');
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^tessera: session id prefix "abcdef01" is ambiguous: it matches 2 live sessions \\(.*${one!.id.slice(0, 12)}… of twin-1.*\\); give more characters$`,
      ),
    );
    assert.match(lines[0]!, new RegExp(`${two!.id.slice(0, 12)}… of twin-2`));
    assert.doesNotMatch(run.stderr, /--help/);
    assert.doesNotMatch(run.stderr, STACK_LINE);
    const now = Date.now();
    assert.ok(
      (await store.get(one!.id, now)).record && (await store.get(two!.id, now)).record,
      'both live',
    );

    const picked = await cli('sessions', 'revoke', one!.id.slice(0, 9));
    assert.equal(picked.code, 0, picked.stderr);
    assert.equal(picked.stdout.trim(), `Revoked session ${one!.id}.`);
    assert.ok((await store.get(two!.id, Date.now())).record, 'the other twin lives');
  });

  it('too short, not an id, or matching nothing: said plainly, exit 2 or 1', async () => {
    const [short, notHex, none, noneJson] = await Promise.all([
      cli('sessions', 'revoke', 'abcdef0'),
      cli('sessions', 'revoke', 'session-1'),
      cli('sessions', 'revoke', '00000000'),
      cli('sessions', 'revoke', '00000000', '--json'),
    ]);
    assert.equal(short.code, 2);
    assert.match(
      short.stderr,
      /"abcdef0" is too short: give at least 8 characters of the session id/,
    );
    assert.equal(notHex.code, 2);
    assert.match(
      notHex.stderr,
      /"session-1" is not a session id \(64 hex characters\) or a prefix of one/,
    );
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^tessera: no live session id starts with 00000000$/m);
    assert.equal(noneJson.code, 1);
    assert.deepEqual(jsonOf(noneJson), { id: null, prefix: '00000000', revoked: false });
  });

  it('--user with nothing to revoke exits 1, as one id does', async () => {
    const [text, json] = await Promise.all([
      cli('sessions', 'revoke', '--user', 'nobody'),
      cli('sessions', 'revoke', '--user', 'nobody', '--json'),
    ]);
    assert.equal(text.code, 1);
    assert.equal(text.stdout, '');
    assert.equal(text.stderr.trim(), 'tessera: nobody has no live sessions to revoke');
    assert.equal(json.code, 1);
    assert.deepEqual(jsonOf(json), { userId: 'nobody', revoked: 0, ids: [] });
    await manager.create({ userId: 'bob' });
    const some = await cli('sessions', 'revoke', '--user', 'bob');
    assert.equal(some.code, 0, some.stderr);
    assert.equal(some.stdout.trim(), 'Revoked 1 session(s) of bob.');
  });

  it('a store that cannot list sessions needs the whole id for a prefix', async () => {
    const env = {
      SESSION_STORAGE: 'cookie',
      SESSION_COOKIE_SECRETS: randomBytes(32).toString('hex'),
    };
    const run = await runCli(['sessions', 'revoke', 'abcdef0123'], env);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /the cookie store cannot list sessions to find "abcdef0123": give the whole 64-character id/,
    );
  });

  it('the README and `tessera --help` state the same exit codes', async () => {
    const help = (await runCli(['--help'])).stdout;
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const codes = (text: string) =>
      /Exit codes: ([\s\S]*?backend unavailable)/.exec(text)?.[1]?.replace(/\s+/g, ' ');
    assert.ok(codes(help), 'the help lists the exit codes');
    assert.equal(codes(readme), codes(help));
    assert.match(codes(help)!, /1 check failed or nothing matched/);
  });
});
