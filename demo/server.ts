/**
 * `npm start`: the demo on http://localhost:3000 (`PORT` to change). With no configuration it keeps
 * sessions in SQLite at `.tessera/demo.sqlite` under the project folder (`TESSERA_DEMO_DB` to
 * change), so sessions survive a restart and no external service is needed. `SESSION_STORAGE`
 * (with `REDIS_URL`, `DATABASE_URL`, `SESSION_KEY_PREFIX`, …) switches the backend through
 * `configFromEnv()` and `storeOptionsFromEnv()`, the same variables the `tessera` CLI reads.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFromEnv, type EnvConfig } from '../src/core/env-config.js';
import { TesseraError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import type { RateLimitStore, SessionStore } from '../src/core/types.js';
import { createSessionManager } from '../src/index.js';
import { createSqlStore } from '../src/stores/sql/index.js';
import { createDemoApp, type DemoData } from './app.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Logs warnings and errors as JSON lines on stderr (pino-compatible shape). */
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.error(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};

interface StoreFactory {
  createStoreFromConfig(
    config: EnvConfig,
    options?: Record<string, unknown>,
  ): Promise<SessionStore>;
  storeOptionsFromEnv?(): Record<string, unknown>;
  createRateLimitStoreFromConfig?(
    config: EnvConfig,
    options?: Record<string, unknown>,
  ): Promise<RateLimitStore | null>;
}

async function openStore(env: EnvConfig): Promise<{
  store: SessionStore;
  rateLimitStore: RateLimitStore | null;
  label: string;
}> {
  if (process.env.SESSION_STORAGE) {
    // The shared factory (src/stores/from-config.ts) builds any backend from the environment.
    const factoryPath = '../src/stores/from-config.js';
    const mod = (await import(factoryPath)) as StoreFactory;
    // No prefix of its own: the demo and `tessera` (the CLI) see the same sessions under the same
    // environment, SESSION_KEY_PREFIX included.
    const options = { ...(mod.storeOptionsFromEnv?.() ?? {}), logger };
    const store = await mod.createStoreFromConfig(env, options);
    const rateLimitStore = (await mod.createRateLimitStoreFromConfig?.(env, options)) ?? null;
    return {
      store,
      rateLimitStore,
      label: `${store.name} (SESSION_STORAGE=${process.env.SESSION_STORAGE})`,
    };
  }
  const file = resolve(root, process.env.TESSERA_DEMO_DB ?? '.tessera/demo.sqlite');
  mkdirSync(dirname(file), { recursive: true });
  const store = createSqlStore({ url: `sqlite:${file}`, logger });
  await store.migrate();
  return { store, rateLimitStore: null, label: `SQLite at ${file}` };
}

/** A configuration or backend problem is one line saying what to fix (exit 3), not a stack trace. */
function startupFailed(err: unknown): never {
  if (!(err instanceof TesseraError)) throw err;
  console.error(`The demo cannot start: ${err.message.replace(/^\[tessera\] /, '')}`);
  process.exit(3);
}

// An unknown SESSION_*, REDIS_* or MEMCACHED_* variable is logged as a warning (named, not shown).
const env = (() => {
  try {
    return configFromEnv(process.env, { logger });
  } catch (err) {
    return startupFailed(err);
  }
})();
const { store, rateLimitStore, label } = await openStore(env).catch(startupFailed);
const manager = (() => {
  try {
    return createSessionManager<DemoData>({
      store,
      logger,
      idleTimeout: env.idleTimeout ?? '30m',
      maxSessionsPerUser: env.maxSessionsPerUser ?? 5,
      ...(env.cleanupInterval !== undefined ? { cleanupInterval: env.cleanupInterval } : {}),
      ...(rateLimitStore ? { rateLimit: { store: rateLimitStore } } : {}),
    });
  } catch (err) {
    return startupFailed(err);
  }
})();
const mode = process.env.NODE_ENV === 'production' ? 'production' : 'development';
const app = createDemoApp({ manager, mode, trustProxy: process.env.TRUST_PROXY === '1' });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? 'localhost';

const server = app.listen(port, host, () => {
  console.log(`Tessera demo on http://localhost:${port} (sessions: ${label}; ${mode} cookies)`);
});

async function shutdown() {
  server.close();
  await manager.close();
  await store.close();
  await rateLimitStore?.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
