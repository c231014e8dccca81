/**
 * The `tessera` command line: argument parsing, help, dispatch to one module per command, and the
 * one place errors become one line on stderr and an exit code (see `EXIT`); `--verbose` adds the
 * stack and causes. Commands load lazily, so a Redis setup never loads the SQL driver.
 */
import { parseArgs } from 'node:util';
import {
  ConfigError,
  MissingDependencyError,
  StoreUnavailableError,
  TesseraError,
} from '../core/errors.js';
import { loadCliConfig } from './config.js';
import {
  type Command,
  type CommandContext,
  EXIT,
  lazyBackend,
  SetupError,
  UsageError,
} from './context.js';
import { type Output, processOutput } from './output.js';
import { assertSqlReady } from './sql-ready.js';

const HELP = `Usage: tessera <command> [options]

Commands:
  stats                                 active sessions, users, browsers, OS and device types
  sessions list [--user ID] [--limit N] live sessions, most recently active first (default 20)
  sessions revoke ID | --user ID        end one session (ID: 64 hex characters, or a unique
                                        prefix of at least 8), or every session of a user
  cleanup                               remove expired sessions and count them
  migrate                               create or upgrade the SQL schema
  doctor                                check configuration and backend; exit 0 only when healthy

Options:
  --config FILE   read the configuration from a JSON file instead of the environment
  --json          print the result as JSON
  --verbose       on error, print the stack trace and causes
  -h, --help      show this help

Configuration (environment): SESSION_STORAGE, SESSION_FALLBACK, REDIS_URL, REDIS_HOST, REDIS_PORT,
REDIS_DB, REDIS_USERNAME, REDIS_PASSWORD, REDIS_SSL, REDIS_POOL_SIZE, REDIS_CONNECT_TIMEOUT,
MEMCACHED_SERVERS, MEMCACHED_HOST, MEMCACHED_PORT, MEMCACHED_POOL_SIZE, DATABASE_URL,
SESSION_KEY_PREFIX (the Redis / Memcached key prefix: the same as your app's, "tessera:" unless
set), SESSION_FILE_DIR, SESSION_COOKIE_SECRETS. An unknown SESSION_*, REDIS_* or MEMCACHED_*
variable is a warning.

Exit codes: 0 ok, 1 check failed or nothing matched (revoke of no live session), 2 usage (an
ambiguous id prefix too), 3 configuration or setup (a client package that is not installed, an
SQLite folder that does not exist, a missing SQLite file or session table), 4 backend unavailable.
`;

const COMMANDS: Record<string, () => Promise<Command>> = {
  stats: async () => (await import('./commands/stats.js')).statsCommand,
  sessions: async () => (await import('./commands/sessions.js')).sessionsCommand,
  cleanup: async () => (await import('./commands/cleanup.js')).cleanupCommand,
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
};

/** One line, whatever the error carried. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The innermost cause's message (e.g. "connect ECONNREFUSED 127.0.0.1:6390"), if any. */
function rootCause(err: Error): string | undefined {
  let found: string | undefined;
  for (
    let e = err.cause as { message?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
    e;
  ) {
    const inner = Array.isArray(e.errors) ? (e.errors[0] as typeof e) : undefined;
    if (typeof e.message === 'string' && e.message) found = e.message;
    else if (inner && typeof inner.message === 'string') found = inner.message;
    e = (e.cause ?? inner?.cause) as typeof e;
  }
  return found;
}

function describe(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError)
    return {
      message: err.pointsToHelp ? `${err.message} (see tessera --help)` : err.message,
      code: EXIT.usage,
    };
  if (err instanceof SetupError) return { message: err.message, code: EXIT.config };
  const parse = (err as { code?: unknown })?.code;
  if (typeof parse === 'string' && parse.startsWith('ERR_PARSE_ARGS'))
    return { message: `${(err as Error).message} (see tessera --help)`, code: EXIT.usage };
  if (err instanceof ConfigError || err instanceof MissingDependencyError)
    return { message: err.message.replace(/^\[tessera\] /, ''), code: EXIT.config };
  if (err instanceof StoreUnavailableError) {
    const cause = rootCause(err);
    const text = err.message.replace(/^\[tessera\] /, '');
    return {
      message: `${text}${cause && !text.includes(cause) ? ` (${cause})` : ''}; run tessera doctor for advice`,
      code: EXIT.unavailable,
    };
  }
  if (err instanceof TesseraError)
    return { message: err.message.replace(/^\[tessera\] /, ''), code: EXIT.failed };
  return {
    message: `unexpected error: ${(err as Error)?.message ?? String(err)} (--verbose shows the stack)`,
    code: EXIT.failed,
  };
}

function printVerbose(err: unknown): void {
  for (
    let e = err as { stack?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 8;
    depth++
  ) {
    process.stderr.write(`${depth ? 'caused by: ' : ''}${e.stack ?? String(e)}\n`);
    e = e.cause as typeof e;
  }
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[], out: Output = processOutput()): Promise<number> {
  let verbose = argv.includes('--verbose');
  let configFile: string | undefined;
  const backend = lazyBackend(() => loadCliConfig(configFile, (line) => out.note(line)));
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        config: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        user: { type: 'string' },
        limit: { type: 'string' },
      },
    });
    configFile = parsed.values.config;
    verbose = parsed.values.verbose === true;
    const [name, ...args] = parsed.positionals;
    if (parsed.values.help || name === 'help') {
      out.line(HELP.trimEnd());
      return EXIT.ok;
    }
    if (!name) throw new UsageError('no command given');
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}"`);
    const { user, limit } = parsed.values;
    if (name !== 'sessions' && (user !== undefined || limit !== undefined))
      throw new UsageError(`${name} takes no --user or --limit`);
    const context: CommandContext = {
      args,
      options: { json: parsed.values.json === true, verbose, user, limit },
      out,
      config: backend.config,
      async store(extra) {
        // Opening a missing SQLite file would create an empty one: only `migrate` may.
        if (name !== 'doctor') await assertSqlReady(backend.config());
        const store = await backend.store(extra);
        if (store.name === 'memory' && name !== 'doctor')
          out.note(
            'tessera: note: the memory store lives inside each app process, so this command sees an empty one; set SESSION_STORAGE to the backend your app uses',
          );
        return store;
      },
      clock: Date.now,
    };
    return await (await load())(context);
  } catch (err) {
    const { message, code } = describe(err);
    out.note(`tessera: ${oneLine(message)}`);
    if (verbose) printVerbose(err);
    return code;
  } finally {
    await backend.close();
  }
}
