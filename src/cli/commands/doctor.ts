/**
 * `tessera doctor`: checks the configuration, then each backend it names (reachable, server
 * version, round-trip latency, SQL schema), then the store itself, and says in plain words what to
 * fix. Exit code 0 only when nothing failed (warnings are printed but keep it healthy).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { EnvConfig, StorageKind } from '../../core/env-config.js';
import { ConfigError, MissingDependencyError, StoreUnavailableError } from '../../core/errors.js';
import type { CliConfig } from '../config.js';
import { type CommandContext, EXIT, UsageError } from '../context.js';
import {
  latestSchemaVersion,
  probeMemcached,
  probeRedis,
  probeSql,
  redisAddress,
} from '../probes.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  /** What to do about it, in plain words (warnings and failures). */
  fix?: string;
}

/** A store round trip slower than this is a warning: every request pays it. */
const SLOW_MS = 50;

/** The error codes of the cause chain, for advice. */
function codes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined; e; ) {
    if (typeof e.code === 'string') out.push(e.code);
    if (Array.isArray(e.errors)) for (const inner of e.errors) out.push(...codes(inner));
    e = e.cause as typeof e;
  }
  return out;
}

/** Plain-words advice for a backend that could not be reached. */
function adviceFor(kind: string, err: unknown, variables: string): string {
  const found = codes(err);
  const text = String((err as Error)?.message ?? err);
  if (err instanceof MissingDependencyError) return `install it: npm install ${err.packageName}`;
  if (found.includes('ECONNREFUSED'))
    return `nothing is listening there: start ${kind}, or correct ${variables}`;
  if (found.includes('ENOTFOUND') || found.includes('EAI_AGAIN'))
    return `the host name does not resolve: correct ${variables}`;
  if (
    /WRONGPASS|NOAUTH|password authentication failed|Access denied|28P01|ER_ACCESS_DENIED/i.test(
      `${text} ${found.join(' ')}`,
    )
  )
    return `the server refused the credentials: correct the user name and password in ${variables}`;
  if (/does not exist|ER_BAD_DB_ERROR|3D000/i.test(`${text} ${found.join(' ')}`))
    return `the database does not exist: create it, or correct ${variables}`;
  if (/timeout|timed out|ETIMEDOUT|no answer/i.test(`${text} ${found.join(' ')}`))
    return `the server did not answer in time: check the address and any firewall between here and ${kind}`;
  return `check that ${kind} is running and that ${variables} points at it`;
}

function failure(name: string, kind: string, err: unknown, variables: string): Check {
  const detail =
    err instanceof StoreUnavailableError || err instanceof MissingDependencyError
      ? err.message.replace(/^\[tessera\] /, '')
      : String((err as Error)?.message ?? err);
  return { name, status: 'fail', detail, fix: adviceFor(kind, err, variables) };
}

function latency(name: string, ms: number): Check {
  return ms > SLOW_MS
    ? {
        name,
        status: 'warn',
        detail: `${ms} ms per round trip`,
        fix: `more than ${SLOW_MS} ms is added to every request: run the store near the app`,
      }
    : { name, status: 'ok', detail: `${ms} ms per round trip` };
}

/** The backends a configuration uses, each once. */
function backends(env: EnvConfig): StorageKind[] {
  const kinds = new Set<StorageKind>();
  for (const kind of [env.storage, env.fallback]) {
    if (!kind) continue;
    if (kind === 'hybrid') {
      kinds.add('sql');
      kinds.add(env.redis ? 'redis' : env.memcached ? 'memcached' : 'memory');
    } else kinds.add(kind);
  }
  return [...kinds];
}

async function checkBackend(kind: StorageKind, config: CliConfig): Promise<Check[]> {
  const { env, store } = config;
  switch (kind) {
    case 'memory':
      return [
        {
          name: 'memory',
          status: 'warn',
          detail: 'the memory store lives inside each app process: this command sees an empty one',
          fix: 'set SESSION_STORAGE (redis, sql, memcached, file, hybrid) to the backend your app uses',
        },
      ];
    case 'redis': {
      const redis = env.redis!;
      const vars = 'REDIS_URL (or REDIS_HOST / REDIS_PORT)';
      try {
        const probe = await probeRedis(redis);
        const major = Number(probe.version.replace(/^Valkey /, '').split('.')[0]);
        return [
          {
            name: 'redis',
            status: 'ok',
            detail: `${probe.version.startsWith('Valkey') ? probe.version : `Redis ${probe.version}`} at ${probe.address}`,
          },
          ...(major < 6 && !probe.version.startsWith('Valkey')
            ? [
                {
                  name: 'redis version',
                  status: 'warn' as const,
                  detail: `Redis ${probe.version} is past its end of life`,
                  fix: 'upgrade to Redis 6.2 or later',
                },
              ]
            : []),
          latency('redis latency', probe.latencyMs),
        ];
      } catch (err) {
        return [failure('redis', `Redis at ${redisAddress(redis)}`, err, vars)];
      }
    }
    case 'memcached': {
      const vars = 'MEMCACHED_SERVERS';
      try {
        const probes = await probeMemcached(env.memcached!);
        return probes.flatMap((p) => [
          {
            name: 'memcached',
            status: 'ok' as const,
            detail: `memcached ${p.version} at ${p.address}`,
          },
          latency('memcached latency', p.latencyMs),
        ]);
      } catch (err) {
        return [failure('memcached', 'memcached', err, vars)];
      }
    }
    case 'sql': {
      const database = env.database!;
      const vars = 'DATABASE_URL';
      try {
        const probe = await probeSql(database);
        if (!probe)
          return [
            {
              name: 'database',
              status: 'fail',
              detail: `the SQLite file ${database.url} does not exist`,
              fix: 'run `tessera migrate` to create it with the session table (or correct DATABASE_URL)',
            },
          ];
        const latest = await latestSchemaVersion(database.dialect);
        const schema: Check =
          probe.schemaVersion >= latest
            ? {
                name: 'schema',
                status: 'ok',
                detail: `table "${database.table}" at version ${probe.schemaVersion}`,
              }
            : {
                name: 'schema',
                status: 'fail',
                detail:
                  probe.schemaVersion === 0
                    ? `table "${database.table}" does not exist yet`
                    : `table "${database.table}" is at version ${probe.schemaVersion}, this Tessera needs ${latest}`,
                fix: 'run `tessera migrate` (an app creating its store with migrate: true also does it)',
              };
        return [
          { name: 'database', status: 'ok', detail: `${probe.version} at ${probe.address}` },
          latency('database latency', probe.latencyMs),
          schema,
        ];
      } catch (err) {
        return [failure('database', `the ${database.dialect} server`, err, vars)];
      }
    }
    case 'file': {
      const dir = store.filePath!;
      try {
        await access(dir, constants.R_OK | constants.W_OK);
        return [{ name: 'file', status: 'ok', detail: `folder ${dir} is readable and writable` }];
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        return [
          {
            name: 'file',
            status: 'fail',
            detail: `folder ${dir} ${missing ? 'does not exist' : 'is not readable and writable by this user'}`,
            fix: missing
              ? `create it (mkdir -p ${dir}) or correct SESSION_FILE_DIR`
              : `give this user read and write access to ${dir}`,
          },
        ];
      }
    }
    case 'cookie':
      return [
        {
          name: 'cookie',
          status: 'ok',
          detail: `${store.cookieSecrets?.length ?? 0} secret(s); sessions live in the browsers, there is nothing to connect to`,
        },
      ];
    case 'hybrid':
      // Expanded into its database and cache by `backends()`.
      return [];
  }
}

export async function doctorCommand(context: CommandContext): Promise<number> {
  const { args, options, out } = context;
  if (args.length) throw new UsageError(`doctor takes no argument "${args[0]}"`);
  const checks: Check[] = [];
  let config: CliConfig | undefined;
  try {
    config = context.config();
    const { env } = config;
    checks.push({
      name: 'config',
      status: 'ok',
      detail: `storage ${env.storage}${env.fallback ? ` with fallback ${env.fallback}` : ''} (from ${config.source === 'environment' ? 'the environment' : config.source})`,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    checks.push({
      name: 'config',
      status: 'fail',
      detail: err.message.replace(/^\[tessera\] /, ''),
      fix: `correct ${err.field}: it ${err.problem}`,
    });
  }
  if (config) {
    for (const kind of backends(config.env)) checks.push(...(await checkBackend(kind, config)));
    // The store itself, only when every backend answered (else the failure is already explained).
    if (!checks.some((c) => c.status === 'fail')) {
      try {
        const store = await context.store({ migrate: false });
        const health = await store.health();
        checks.push(
          health.ok
            ? {
                name: 'store',
                status: 'ok',
                detail: `${store.name} store answers${health.latencyMs !== undefined ? ` (${Math.round(health.latencyMs * 100) / 100} ms)` : ''}`,
              }
            : {
                name: 'store',
                status: 'fail',
                detail: `${store.name} store: ${health.detail ?? 'health check failed'}`,
                fix: 'see the detail; the checks above passed, so the server is up but the store cannot use it',
              },
        );
      } catch (err) {
        checks.push(failure('store', 'the store', err, 'the configuration'));
      }
    }
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  if (options.json) {
    out.json({ healthy: failed === 0, checks });
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      out.line(`${`[${c.status}]`.padEnd(7)}${c.name.padEnd(width + 2)}${c.detail}`);
      if (c.fix) out.line(`${' '.repeat(width + 9)}fix: ${c.fix}`);
    }
    out.line(
      failed
        ? `${failed} problem(s) found${warned ? `, ${warned} warning(s)` : ''}.`
        : `Healthy${warned ? ` (${warned} warning(s))` : ''}.`,
    );
  }
  return failed ? EXIT.failed : EXIT.ok;
}
