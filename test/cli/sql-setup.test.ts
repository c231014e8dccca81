/**
 * The CLI on an SQL backend that is not set up: outside `migrate`, a missing SQLite file is an
 * error naming the path (never a new empty database), and a database without the session table
 * says "table … does not exist here: run `tessera migrate`" on SQLite, PostgreSQL and MySQL. Both
 * exit 3, in one line; `migrate` then makes the same command work.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { requireService } from '../support/services.js';
import { type CliRun, jsonOf, runCli, STACK_LINE } from './run-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-setup-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function oneLine(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr:\n${run.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, STACK_LINE);
  assert.equal(run.stdout, '');
}

const MIGRATE_HINT = /does not exist here: run `tessera migrate`/;

describe('tessera on SQLite that is not set up', () => {
  it('a mistyped file is an error naming the path, and is not created', async () => {
    const typo = join(folder, 'demo.sqlit');
    const env = { SESSION_STORAGE: 'sqlite', DATABASE_URL: `sqlite:${typo}` };
    const runs = await Promise.all([
      runCli(['stats'], env),
      runCli(['sessions', 'list'], env),
      runCli(['sessions', 'revoke', '--user', 'alice'], env),
      runCli(['cleanup'], env),
    ]);
    const message = new RegExp(
      `^tessera: the SQLite file ${typo.replace(/[.]/g, '\\.')} does not exist: check DATABASE_URL, or run \`tessera migrate\` to create it$`,
    );
    for (const run of runs) oneLine(run, 3, message);
    assert.equal(existsSync(typo), false, 'no empty database was created');

    // A relative path is named as the absolute file it means; a config file is named as such.
    const config = join(folder, 'typo.json');
    writeFileSync(
      config,
      JSON.stringify({ storage: 'sqlite', database: { url: 'sqlite:nowhere/x.db' } }),
    );
    oneLine(
      await runCli(['--config', config, 'stats']),
      3,
      new RegExp(
        `the SQLite file ${resolve('nowhere/x.db')} does not exist: check database\\.url in ${config}`,
      ),
    );
  });

  it('an existing file without the table says to migrate; after migrate the command works', async () => {
    const file = join(folder, 'empty.sqlite');
    new Database(file).close();
    const env = { SESSION_STORAGE: 'sqlite', DATABASE_URL: `sqlite:${file}` };
    oneLine(
      await runCli(['stats'], env),
      3,
      /^tessera: table tessera_sessions does not exist here: run `tessera migrate` \(sqlite .*empty\.sqlite, from DATABASE_URL\)$/,
    );
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const stats = await runCli(['stats', '--json'], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(
      jsonOf<{ sessions: { activeSessions: number } }>(stats).sessions.activeSessions,
      0,
    );
  });
});

const pgUp = await requireService('PostgreSQL', '127.0.0.1', 5432, 'service postgresql start');
describe.skipIf(!pgUp)('tessera on PostgreSQL without the table', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/test';
  const table = `setup_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop table if exists "${table}", "${table}_migrations" cascade`);
    await client.end();
  });

  it('says to migrate, then works', async () => {
    const config = join(folder, 'pg.json');
    writeFileSync(config, JSON.stringify({ storage: 'postgres', database: { url, table } }));
    const [stats, list] = await Promise.all([
      runCli(['--config', config, 'stats']),
      runCli(['--config', config, 'sessions', 'list']),
    ]);
    for (const run of [stats, list]) {
      oneLine(
        run,
        3,
        new RegExp(
          `^tessera: table ${table} ${MIGRATE_HINT.source} \\(postgres 127\\.0\\.0\\.1:5432`,
        ),
      );
    }
    assert.equal((await runCli(['--config', config, 'migrate'])).code, 0);
    assert.equal((await runCli(['--config', config, 'stats'])).code, 0);
  }, 30_000);
});

const mysqlUp = await requireService('MariaDB', '127.0.0.1', 3306, 'service mariadb start');
describe.skipIf(!mysqlUp)('tessera on MySQL/MariaDB without the table', () => {
  const url = 'mysql://root@127.0.0.1:3306/test';
  const table = `setup_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const connection = await mysql.createConnection({ uri: url });
    await connection.query(`drop table if exists \`${table}\`, \`${table}_migrations\``);
    await connection.end();
  });

  it('says to migrate, then works', async () => {
    const config = join(folder, 'mysql.json');
    writeFileSync(config, JSON.stringify({ storage: 'mysql', database: { url, table } }));
    oneLine(
      await runCli(['--config', config, 'cleanup']),
      3,
      new RegExp(`^tessera: table ${table} ${MIGRATE_HINT.source} \\(mysql 127\\.0\\.0\\.1:3306`),
    );
    assert.equal((await runCli(['--config', config, 'migrate'])).code, 0);
    assert.equal((await runCli(['--config', config, 'cleanup'])).code, 0);
  }, 30_000);
});
