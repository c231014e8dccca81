/**
 * The Redis connection the store creates itself from a `RedisConfig` (node-redis or ioredis, as
 * `clientLibrary` says): it fails fast while Redis is down instead of queueing commands (through
 * the outage gate, reopened as soon as the client reconnects), reconnects with a short backoff,
 * waits for the first connection within each call's deadline, and logs connection errors at most
 * once per 10 s.
 */
import type { ResolvedRedisConfig } from '../../core/config.js';
import { MissingDependencyError } from '../../core/errors.js';
import { describeError, type Logger } from '../../core/logger.js';
import {
  type IoRedisLike,
  type NodeRedisLike,
  outageGate,
  REDIS_STORE_NAME,
  type RedisClientKind,
  type ScriptClient,
  wrapIoRedis,
  wrapNodeRedis,
} from './client.js';

/**
 * How long to wait between reconnect attempts: short, so a restarted server is found within half
 * a second (calls meanwhile fail at once through the outage gate, so retrying costs them nothing).
 */
function backoff(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 500);
}

/** Logs a client's connection errors without letting them crash the process (an 'error' event). */
export function errorListener(logger: Logger, address: string): (err: unknown) => void {
  let last = 0;
  return (err) => {
    // A down server emits an error per reconnect attempt: one line per 10 s is enough.
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    logger.warn(
      { store: REDIS_STORE_NAME, address, err: describeError(err) },
      'redis connection error',
    );
  };
}

/** One shared wait for 'ready' (not a listener per call, which would pile up while Redis is down). */
export function readyWaiter(isReady: () => boolean, onReady: (fn: () => void) => () => void) {
  let pending: Promise<void> | undefined;
  return () => {
    if (isReady()) return Promise.resolve();
    pending ??= new Promise<void>((resolve) => {
      const off = onReady(() => {
        off();
        pending = undefined;
        resolve();
      });
    });
    return pending;
  };
}

/** Creates the store's own connection from a resolved `RedisConfig`, failing fast while it is down. */
export async function createOwnClient(
  kind: RedisClientKind,
  config: ResolvedRedisConfig,
  timeoutMs: number,
  retryDelay: number,
  logger: Logger,
): Promise<ScriptClient> {
  const address = `${config.host}:${config.port}`;
  const onError = errorListener(logger, address);
  // Reconnected: calls go through at once, without waiting for the next probe.
  const gate = outageGate(address, retryDelay);
  const reopen = () => gate.open();
  if (kind === 'ioredis') {
    let mod: { Redis: typeof import('ioredis').Redis };
    try {
      mod = await import('ioredis');
    } catch (cause) {
      throw new MissingDependencyError('ioredis', 'the Redis store (client: "ioredis")', { cause });
    }
    const client = new mod.Redis({
      host: config.host,
      port: config.port,
      db: config.db,
      username: config.username,
      password: config.password,
      tls: config.tls ? { servername: config.host } : undefined,
      connectTimeout: config.connectTimeout,
      // Fail at once while disconnected instead of queueing: the caller gets StoreUnavailableError.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: backoff,
    });
    client.on('error', onError);
    client.on('ready', reopen);
    const ready = readyWaiter(
      () => client.status === 'ready',
      (fn) => {
        client.on('ready', fn);
        return () => client.off('ready', fn);
      },
    );
    return wrapIoRedis(client as unknown as IoRedisLike, address, {
      timeoutMs,
      logger,
      owned: true,
      ready,
      gate,
    });
  }
  let mod: typeof import('redis');
  try {
    mod = await import('redis');
  } catch (cause) {
    throw new MissingDependencyError('redis', 'the Redis store (client: "node-redis")', { cause });
  }
  const socket = config.tls
    ? {
        host: config.host,
        port: config.port,
        tls: true as const,
        servername: config.host,
        connectTimeout: config.connectTimeout,
        reconnectStrategy: backoff,
      }
    : {
        host: config.host,
        port: config.port,
        connectTimeout: config.connectTimeout,
        reconnectStrategy: backoff,
      };
  const client = mod.createClient({
    socket,
    username: config.username,
    password: config.password,
    database: config.db,
    // Fail at once while disconnected instead of queueing: the caller gets StoreUnavailableError.
    disableOfflineQueue: true,
    // The store puts its own deadline on every call (callerFor); node-redis's default per-command
    // timeout would add an AbortSignal.timeout per command, which costs more CPU and GC than the
    // command itself (bench/redis-client-choice.ts).
    commandOptions: { timeout: 0 },
  });
  client.on('error', onError);
  client.on('ready', reopen);
  // connect() keeps retrying through reconnectStrategy; calls wait for 'ready' within their deadline.
  const connecting = client.connect().then(
    () => undefined,
    (err: unknown) => onError(err as Error),
  );
  const ready = readyWaiter(
    () => client.isReady,
    (fn) => {
      client.on('ready', fn);
      return () => client.off('ready', fn);
    },
  );
  const wrapped = wrapNodeRedis(client as unknown as NodeRedisLike, address, {
    timeoutMs,
    logger,
    owned: true,
    ready,
    gate,
  });
  // A close while the first connection is still being made waits for that attempt (at most the
  // command timeout): node-redis destroyed mid-connect leaves the new socket open, and with it the
  // process (a store created and closed at once, a shutdown before the first request).
  const close = wrapped.close.bind(wrapped);
  wrapped.close = async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await close();
  };
  return wrapped;
}
