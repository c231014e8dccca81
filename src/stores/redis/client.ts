/**
 * One small interface over the two Redis clients people hold: node-redis (`redis`: createClient,
 * createCluster, createSentinel) and ioredis (`Redis`, `Cluster`, Sentinel through `Redis`). The
 * store only needs: run a script by SHA (reloading it on NOSCRIPT), send a plain command, ping and
 * close. This module also owns the deadline on every call and the translation of client errors
 * into `StoreUnavailableError` / `StoreError`, so no client's quirks reach the store. The store's
 * own connection is created in ./own-client.ts.
 */
import { StoreError, StoreUnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { withDeadline } from '../deadline.js';
import { OutageGate } from '../outage-gate.js';
import type { LuaScript } from './scripts.js';

export const REDIS_STORE_NAME = 'redis';

/** Which library the store uses when it creates its own client. */
export type RedisClientKind = 'ioredis' | 'node-redis';

/** What the store needs from a connection. */
export interface ScriptClient {
  /** host:port (or a description of the topology), for error messages; never a credential. */
  readonly address: string;
  /** The node-redis client underneath (what the local cache's tracking connection duplicates). */
  readonly nodeRedis?: NodeRedisLike;
  /** EVALSHA; on NOSCRIPT (a restarted server, a new Cluster node) EVAL, which caches it again. */
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /** A plain command; `key` routes it on a Cluster. */
  command(args: string[], key: string): Promise<unknown>;
  /** A plain command on every master of a Cluster (in parallel), or on the one server. */
  eachMaster(args: string[]): Promise<unknown[]>;
  /**
   * `WAIT replicas timeout` on the connection that wrote `routeKey`'s slot: how many replicas
   * acknowledged every write sent before it.
   */
  wait(routeKey: string, replicas: number, timeoutMs: number): Promise<number>;
  /** PING round trip in ms. */
  ping(routeKey: string): Promise<number>;
  close(): Promise<void>;
}

// Minimal structural views of both clients: the packages are optional, so only their shapes are used.
export interface NodeRedisLike {
  sendCommand: (...args: unknown[]) => Promise<unknown>;
  on?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  isReady?: boolean;
  isOpen?: boolean;
  options?: { socket?: { host?: string; port?: number; path?: string } };
  close?: () => Promise<void>;
  quit?: () => Promise<unknown>;
  destroy?: () => void;
  masters?: unknown;
  /** A Cluster's connection to one of its `masters`. */
  nodeClient?: (node: unknown) => Promise<NodeRedisLike> | NodeRedisLike;
  // present on a Sentinel client
  getMasterNode?: () => unknown;
}

export interface IoRedisLike {
  evalsha: (...args: unknown[]) => Promise<unknown>;
  eval: (...args: unknown[]) => Promise<unknown>;
  call: (...args: unknown[]) => Promise<unknown>;
  ping: () => Promise<unknown>;
  quit: () => Promise<unknown>;
  disconnect: () => void;
  status?: string;
  isCluster?: boolean;
  /** A Cluster's node connections. */
  nodes?: (role: 'master') => IoRedisLike[];
  options?: { host?: string; port?: number; name?: string; sentinels?: unknown[] };
  once: (event: string, listener: (...args: unknown[]) => void) => unknown;
  off?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  on: (event: string, listener: (...args: unknown[]) => void) => unknown;
}

export function isIoRedis(client: unknown): client is IoRedisLike {
  const c = client as Partial<IoRedisLike>;
  return typeof c.evalsha === 'function' && typeof c.call === 'function';
}

export function isNodeRedis(client: unknown): client is NodeRedisLike {
  const c = client as Partial<NodeRedisLike> & { evalSha?: unknown };
  return typeof c.sendCommand === 'function' && typeof c.evalSha === 'function';
}

/**
 * Whether `err` is an error reply from the Redis server (node-redis `ErrorReply`, ioredis
 * `ReplyError`), as opposed to a connection problem. Classes are recognised through the prototype
 * chain because neither package is imported here.
 */
function isReplyError(err: unknown): err is Error {
  for (let p = err as object | null; p; p = Object.getPrototypeOf(p)) {
    const name = (p as { constructor?: { name?: string } }).constructor?.name;
    if (name === 'ErrorReply' || name === 'ReplyError') return true;
  }
  return false;
}

/** The error code of a server reply: its first word, as defined by the Redis protocol. */
function replyCode(err: Error): string {
  return err.message.split(' ', 1)[0] ?? '';
}

// Replies that mean "this node cannot serve you right now": a failover, a loading server, a Cluster
// without quorum. They are outages, not bugs in the request.
const UNAVAILABLE_CODES = new Set([
  'LOADING',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'READONLY',
  'BUSY',
]);

/**
 * Runs a client command under the deadline, after the first connection is ready, behind the
 * outage gate. A call that expired while waiting for the connection never runs: the caller was
 * already told it failed, and it must not happen once the server is back. A connection failure
 * closes the gate (calls then fail at once, one probes per retry delay); a reply that is merely
 * late on a connection the client still reports as up is a slow server, not a down one, and
 * leaves the gate open.
 */
function callerFor(address: string, timeoutMs: number, options: ClientOptions) {
  const { ready, gate, connected } = options;
  const late = (detail: string) => new StoreUnavailableError(REDIS_STORE_NAME, address, detail);
  const deadlineErrors = new WeakSet<object>();
  const isOutage = (err: unknown) =>
    err instanceof StoreUnavailableError && !(deadlineErrors.has(err) && connected?.() === true);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(
        timeoutMs,
        async (expired) => {
          await ready?.();
          if (expired()) throw late('gave up waiting for the connection');
          return fn();
        },
        () => {
          const err = late(`no reply within ${timeoutMs} ms`);
          deadlineErrors.add(err);
          return err;
        },
      );
    } catch (err) {
      throw translateError(address, err);
    }
  };
  return <T>(fn: () => Promise<T>): Promise<T> => gate.run(() => call(fn), isOutage);
}

/** The gate of a client at `address`: its refusals name the store and the address. */
export function outageGate(address: string, retryDelay: number): OutageGate {
  return new OutageGate(
    retryDelay,
    (cause) =>
      new StoreUnavailableError(
        REDIS_STORE_NAME,
        address,
        'marked down after a connection failure; one call probes it again shortly',
        { cause },
      ),
  );
}

export function translateError(address: string, err: unknown): Error {
  if (err instanceof StoreUnavailableError || err instanceof StoreError) return err;
  if (isReplyError(err)) {
    if (UNAVAILABLE_CODES.has(replyCode(err)))
      return new StoreUnavailableError(REDIS_STORE_NAME, address, err.message, { cause: err });
    return new StoreError(REDIS_STORE_NAME, `server replied: ${err.message}`, { cause: err });
  }
  const detail = err instanceof Error ? err.message || err.name : String(err);
  return new StoreUnavailableError(REDIS_STORE_NAME, address, detail, { cause: err });
}

function isNoScript(err: unknown): boolean {
  return isReplyError(err) && replyCode(err) === 'NOSCRIPT';
}

export interface ClientOptions {
  timeoutMs: number;
  logger: Logger;
  /** The store owns the client (it created it) and closes it on close(). */
  owned: boolean;
  /** Waits for the first connection of a client the store created. */
  ready?: () => Promise<void>;
  /** Fails calls at once while the server is known to be down. */
  gate: OutageGate;
  /** Whether the client reports its connection up (`undefined`: it cannot tell). */
  connected?: () => boolean | undefined;
}

export function wrapIoRedis(
  client: IoRedisLike,
  address: string,
  options: ClientOptions,
): ScriptClient {
  const { timeoutMs, owned } = options;
  const call = callerFor(address, timeoutMs, {
    connected: () => (client.status === undefined ? undefined : client.status === 'ready'),
    ...options,
  });
  return {
    address,
    run: (script, keys, args) =>
      call(async () => {
        try {
          return await client.evalsha(script.sha, keys.length, ...keys, ...args);
        } catch (err) {
          if (!isNoScript(err)) throw err;
          return client.eval(script.source, keys.length, ...keys, ...args);
        }
      }),
    command: (args, _key) => call(() => client.call(args[0], ...args.slice(1))),
    eachMaster: (args) =>
      call(() =>
        Promise.all(
          (client.isCluster && client.nodes ? client.nodes('master') : [client]).map((node) =>
            node.call(args[0], ...args.slice(1)),
          ),
        ),
      ),
    // The option refuses an ioredis Cluster (see `waitReplicas`): a keyless WAIT would go to any node.
    wait: (_key, replicas, timeoutMs) =>
      call(async () => Number(await client.call('WAIT', String(replicas), String(timeoutMs)))),
    async ping(_key) {
      const started = performance.now();
      await call(() => client.ping());
      return performance.now() - started;
    },
    async close() {
      if (!owned) return;
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

export function wrapNodeRedis(
  client: NodeRedisLike,
  address: string,
  options: ClientOptions,
): ScriptClient {
  const { timeoutMs, owned } = options;
  const cluster = client.masters !== undefined;
  const sentinel = typeof client.getMasterNode === 'function';
  // The three node-redis client kinds route a raw command differently.
  const send = (args: string[], key: string): Promise<unknown> =>
    cluster
      ? client.sendCommand(key, false, args)
      : sentinel
        ? client.sendCommand(false, args)
        : client.sendCommand(args);
  const call = callerFor(address, timeoutMs, { connected: () => client.isReady, ...options });
  return {
    address,
    nodeRedis: client,
    run: (script, keys, args) =>
      call(async () => {
        const tail = [String(keys.length), ...keys, ...args];
        const key = keys[0] ?? '';
        try {
          return await send(['EVALSHA', script.sha, ...tail], key);
        } catch (err) {
          if (!isNoScript(err)) throw err;
          return send(['EVAL', script.source, ...tail], key);
        }
      }),
    command: (args, key) => call(() => send(args, key)),
    eachMaster: (args) =>
      call(async () => {
        if (!cluster || !client.nodeClient || !Array.isArray(client.masters))
          return [await send(args, '')];
        const nodeClient = client.nodeClient.bind(client);
        return Promise.all(
          client.masters.map(async (master) => (await nodeClient(master)).sendCommand(args)),
        );
      }),
    wait: (key, replicas, timeoutMs) =>
      call(async () => Number(await send(['WAIT', String(replicas), String(timeoutMs)], key))),
    async ping(key) {
      const started = performance.now();
      await call(() => send(['PING'], key));
      return performance.now() - started;
    },
    async close() {
      if (!owned) return;
      try {
        // Not connected yet (or between reconnects): no command can be in flight, and a graceful
        // close would wait for a connection that may still be made (and keep the process alive).
        if (client.isOpen === false || client.isReady === false) client.destroy?.();
        else if (client.close) await client.close();
        else await client.quit?.();
      } catch {
        client.destroy?.();
      }
    },
  };
}

/** Describes where a caller's client points, for error messages. */
export function addressOf(client: unknown): string {
  if (isIoRedis(client)) {
    const o = client.options ?? {};
    if (client.isCluster) return 'redis cluster';
    if (o.sentinels) return `redis sentinel "${o.name ?? ''}"`;
    return `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  }
  const c = client as NodeRedisLike;
  if (c.masters !== undefined) return 'redis cluster';
  if (typeof c.getMasterNode === 'function') return 'redis sentinel';
  const socket = c.options?.socket;
  if (socket?.path) return socket.path;
  return `${socket?.host ?? 'localhost'}:${socket?.port ?? 6379}`;
}

/** Wraps a client the caller already holds (node-redis or ioredis, standalone, Cluster or Sentinel). */
export function wrapClient(
  client: unknown,
  timeoutMs: number,
  retryDelay: number,
  logger: Logger,
): ScriptClient {
  const address = addressOf(client);
  const options = { timeoutMs, logger, owned: false, gate: outageGate(address, retryDelay) };
  if (isIoRedis(client)) return wrapIoRedis(client, address, options);
  if (isNodeRedis(client)) return wrapNodeRedis(client, address, options);
  throw new StoreError(
    REDIS_STORE_NAME,
    'the client option is neither a node-redis nor an ioredis client',
  );
}
