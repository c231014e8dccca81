/**
 * How the CLI fails: an unreachable backend (a free port with nothing on it), a bad configuration
 * (environment and --config file), and command-line mistakes are each one clear line on stderr and
 * a distinct non-zero exit code, with no stack trace unless --verbose and never a password. Also:
 * the entry runs from source, and cleanup draws a progress bar on a terminal.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { freePort, requireCommand } from '../support/services.js';
import { CLI_ENTRY, type CliRun, jsonOf, runCli, runCliFromSource, STACK_LINE } from './run-cli.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-errors-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const SECRET = `pw-${randomBytes(6).toString('hex')}`;

function oneErrorLine(run: CliRun, code: number, pattern: RegExp) {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^tessera: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, STACK_LINE);
  assert.ok(!run.stderr.includes(SECRET) && !run.stdout.includes(SECRET), 'no password printed');
  assert.equal(run.stdout, '');
}

describe('tessera CLI errors', () => {
  it('an unreachable Redis: one line naming the address, exit 4; doctor says what to fix', async () => {
    const port = await freePort();
    const env = {
      SESSION_STORAGE: 'redis',
      REDIS_URL: `redis://user:${SECRET}@127.0.0.1:${port}`,
      SESSION_KEY_PREFIX: 'cli-unreachable:',
    };
    const [stats, list, doctor, verbose] = await Promise.all([
      runCli(['stats'], env),
      runCli(['sessions', 'list', '--json'], env),
      runCli(['doctor'], env),
      runCli(['stats', '--verbose'], env),
    ]);
    const address = new RegExp(`\\[redis\\] unavailable at 127\\.0\\.0\\.1:${port}`);
    oneErrorLine(stats, 4, address);
    oneErrorLine(list, 4, address);
    assert.equal(doctor.code, 1);
    assert.match(
      doctor.stdout,
      new RegExp(
        `\\[fail\\]\\s+redis\\s+\\[redis\\] unavailable at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
      ),
    );
    assert.match(doctor.stdout, /fix: nothing is listening there: start Redis/);
    assert.match(doctor.stdout, /^1 problem\(s\) found\.$/m);
    assert.ok(!doctor.stdout.includes(SECRET));
    // --verbose adds the stack (and still no password).
    assert.equal(verbose.code, 4);
    assert.match(verbose.stderr, STACK_LINE);
    assert.ok(!verbose.stderr.includes(SECRET));
  }, 30_000);

  it('an unreachable PostgreSQL: one line, exit 4; doctor exit 1', async () => {
    const port = await freePort();
    const env = {
      SESSION_STORAGE: 'postgres',
      DATABASE_URL: `postgres://app:${SECRET}@127.0.0.1:${port}/sessions`,
    };
    const [stats, doctor] = await Promise.all([
      runCli(['stats'], env),
      runCli(['doctor', '--json'], env),
    ]);
    oneErrorLine(
      stats,
      4,
      new RegExp(`\\[sql\\] unavailable at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    assert.equal(doctor.code, 1);
    const report = jsonOf<{
      healthy: boolean;
      checks: { name: string; status: string; fix?: string }[];
    }>(doctor);
    assert.equal(report.healthy, false);
    const database = report.checks.find((c) => c.name === 'database');
    assert.equal(database?.status, 'fail');
    assert.match(database?.fix ?? '', /correct DATABASE_URL/);
  }, 30_000);

  it('a bad configuration: one line naming the field, exit 3', async () => {
    const badJson = join(folder, 'bad.json');
    writeFileSync(badJson, '{ "storage": "redis", ');
    const unknownKind = join(folder, 'kind.json');
    writeFileSync(unknownKind, JSON.stringify({ storage: 'floppy' }));
    const noDb = join(folder, 'nodb.json');
    writeFileSync(noDb, JSON.stringify({ storage: 'sql' }));
    const noFolder = join(folder, 'no-such-folder', 'sessions.db');
    const [port, storage, url, file, kind, db, missing, doctor, folderless] = await Promise.all([
      runCli(['stats'], { SESSION_STORAGE: 'redis', REDIS_PORT: 'eighty' }),
      runCli(['stats'], { SESSION_STORAGE: 'floppy' }),
      runCli(['stats'], { SESSION_STORAGE: 'sql', DATABASE_URL: `oracle://u:${SECRET}@h/db` }),
      runCli(['--config', badJson, 'stats']),
      runCli(['--config', unknownKind, 'stats']),
      runCli(['--config', noDb, 'migrate']),
      runCli(['--config', join(folder, 'absent.json'), 'stats']),
      runCli(['doctor'], { SESSION_STORAGE: 'redis', REDIS_PORT: 'eighty' }),
      runCli(['migrate'], { SESSION_STORAGE: 'sql', DATABASE_URL: `sqlite:${noFolder}` }),
    ]);
    oneErrorLine(port, 3, /invalid configuration: REDIS_PORT: must be a number/);
    oneErrorLine(storage, 3, /invalid configuration: SESSION_STORAGE: .*floppy/);
    oneErrorLine(url, 3, /invalid configuration: DATABASE_URL: must start with postgres:\/\//);
    oneErrorLine(file, 3, /invalid configuration: --config: .*bad\.json: not valid JSON/);
    oneErrorLine(kind, 3, /invalid configuration: storage: unknown backend "floppy"/);
    oneErrorLine(db, 3, /invalid configuration: database: is required when storage is "sql"/);
    oneErrorLine(missing, 3, /absent\.json: file not found/);
    oneErrorLine(folderless, 3, /the folder .*no-such-folder of the SQLite file .* does not exist/);
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /\[fail\]\s+config\s+invalid configuration: REDIS_PORT/);
    assert.match(doctor.stdout, /fix: correct REDIS_PORT/);
  }, 30_000);

  it('command-line mistakes: one line pointing to --help, exit 2', async () => {
    const runs = await Promise.all([
      runCli([]),
      runCli(['stat']),
      runCli(['stats', '--frobnicate']),
      runCli(['sessions']),
      runCli(['sessions', 'list', '--limit', 'many']),
      runCli(['sessions', 'revoke']),
      runCli(['sessions', 'revoke', 'not-an-id']),
      runCli(['sessions', 'revoke', 'a'.repeat(64), '--user', 'x']),
      runCli(['cleanup', '--user', 'x']),
    ]);
    const expected = [
      /no command given/,
      /unknown command "stat"/,
      /Unknown option '--frobnicate'/,
      /sessions needs a sub-command/,
      /--limit must be a whole number/,
      /needs one session ID, or --user ID/,
      /"not-an-id" is not a session id/,
      /either a session ID or --user ID, not both/,
      /cleanup takes no --user or --limit/,
    ];
    for (const [i, run] of runs.entries()) oneErrorLine(run, 2, expected[i]!);
    for (const run of runs) assert.match(run.stderr, /see tessera --help/);
  }, 30_000);

  it('runs from source (the bin entry), prints help, and tells memory-store users what they see', async () => {
    const help = await runCliFromSource(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of [
      'stats',
      'sessions list',
      'sessions revoke',
      'cleanup',
      'migrate',
      'doctor',
    ])
      assert.match(help.stdout, new RegExp(`^  ${command}`, 'm'));
    const [memory, migrate] = await Promise.all([
      runCli(['stats']),
      runCli(['migrate'], { SESSION_STORAGE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }),
    ]);
    assert.equal(memory.code, 0);
    assert.match(memory.stderr, /note: the memory store lives inside each app process/);
    assert.match(memory.stdout, /active sessions\s+0/);
    assert.equal(migrate.code, 0);
    assert.equal(migrate.stdout.trim(), 'Nothing to migrate: the redis store has no SQL schema.');
  }, 30_000);
});

const haveScript = await requireCommand('script', 'apt-get install -y bsdutils');
describe.skipIf(!haveScript)('tessera cleanup on a terminal', () => {
  it('draws a progress bar that ends at 100%', async () => {
    const db = join(folder, 'tty.db');
    const config = join(folder, 'tty.json');
    writeFileSync(config, JSON.stringify({ storage: 'sqlite', database: { url: `sqlite:${db}` } }));
    assert.equal((await runCli(['--config', config, 'migrate'])).code, 0);
    // `script` gives the command a pseudo-terminal, as an operator's shell would.
    const node = process.execPath;
    const command = `${node} ${await CLI_ENTRY()} --config ${config} cleanup`;
    const output = await new Promise<string>((done, fail) =>
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 30_000 }, (err, stdout) =>
        err ? fail(err) : done(stdout),
      ),
    );
    assert.ok(
      output.includes(`\r\u001b[2K[${'#'.repeat(30)}] 100%  0 removed`),
      `a full bar redrawn in place: ${JSON.stringify(output)}`,
    );
    assert.match(output, /\[#+-+\]\s+\d+%/, 'partial bars before the end');
    assert.match(output, /Removed 0 expired session\(s\) from the sql store/);
    assert.doesNotMatch(output, /^cleanup 1\//m, 'no plain progress lines on a terminal');
  }, 30_000);
});
