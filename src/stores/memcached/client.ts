/**
 * A small Memcached text-protocol client over node:net, owned by the Memcached store. It exists
 * because the store needs compare-and-swap (`gets` + `cas`) and no well-kept npm client exposes it:
 * memjs (binary protocol) returns no CAS token from `get`. It speaks only what the store uses:
 * get/gets (one or many keys), set/add/cas/append, delete, incr, touch and version; requests are
 * pipelined on each connection and every request has a deadline. Keys are spread over the servers
 * by consistent hashing (160 points per server on an MD5 ring, as ketama does).
 *
 * A server that cannot be reached keeps its place on the ring: its share of keys fails with
 * `StoreUnavailableError` while the other servers keep serving theirs. Rehashing a dead server's
 * keys onto the others would let a partitioned server come back with records (a session terminated
 * meanwhile) that no longer belong there, so it is deliberately not done.
 */
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { StoreError, StoreUnavailableError } from '../../core/errors.js';
import { OutageGate } from '../outage-gate.js';
import {
  CRLF,
  type Item,
  MEMCACHED_STORE_NAME,
  type Parsed,
  parseLine,
  parseValues,
  type StoreReply,
} from './protocol.js';

export type { Item, StoreReply } from './protocol.js';

export { MEMCACHED_STORE_NAME } from './protocol.js';

interface Pending {
  parse(buf: Buffer): Parsed<unknown>;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One TCP connection with a FIFO of pipelined requests. */
class Connection {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeout: number,
  ) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  private unavailable(detail: string): StoreUnavailableError {
    return new StoreUnavailableError(MEMCACHED_STORE_NAME, this.address, detail);
  }

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const socket = new Socket();
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.unavailable(`no connection within ${this.timeout} ms`));
      }, this.timeout);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.connect(this.port, this.host, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        // A late event from a socket already replaced must not fail its successor.
        socket.on('error', (err) => {
          if (this.socket === socket) this.fail(err);
        });
        socket.on('close', () => {
          if (this.socket === socket) this.fail(this.unavailable('connection closed'));
        });
        socket.on('data', (chunk: Buffer) => this.receive(chunk));
        this.socket = socket;
        resolve(socket);
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const parsed = head.parse(this.buf);
      if (!parsed.done) return;
      this.queue.shift();
      clearTimeout(head.timer);
      this.buf = this.buf.subarray(parsed.used);
      if (parsed.value instanceof StoreError) head.reject(parsed.value);
      else head.resolve(parsed.value);
    }
  }

  /** Drops the connection and fails everything in flight (the reply order is lost with it). */
  fail(err: Error): void {
    const socket = this.socket;
    this.socket = null;
    this.buf = Buffer.alloc(0);
    socket?.destroy();
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  async send<T>(request: Buffer, parse: (buf: Buffer) => Parsed<unknown>): Promise<T> {
    const socket = await this.open();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(this.unavailable(`no reply within ${this.timeout} ms`)),
        this.timeout,
      );
      this.queue.push({ parse, resolve: resolve as (v: unknown) => void, reject, timer });
      socket.write(request);
    });
  }

  close(): void {
    this.fail(this.unavailable('client closed'));
  }
}

/** One memcached server: `poolSize` connections used in turn, behind one outage gate. */
class Server {
  private turn = 0;
  /** After a connection failure calls fail at once; one probes per retry delay. */
  readonly gate: OutageGate;
  readonly connections: Connection[];

  constructor(
    readonly host: string,
    readonly port: number,
    poolSize: number,
    timeout: number,
    retryDelay: number,
  ) {
    this.connections = Array.from({ length: poolSize }, () => new Connection(host, port, timeout));
    this.gate = new OutageGate(
      retryDelay,
      (cause) =>
        new StoreUnavailableError(
          MEMCACHED_STORE_NAME,
          this.address,
          'server marked down after a connection failure; one call probes it again shortly',
          { cause },
        ),
    );
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  next(): Connection {
    this.turn = (this.turn + 1) % this.connections.length;
    return this.connections[this.turn]!;
  }
}

export interface ClientOptions {
  servers: { host: string; port: number }[];
  poolSize: number;
  /** Connection and reply deadline, ms. */
  timeout: number;
  /** After a connection failure, calls to that server fail at once for this long (then one probes), ms. */
  retryDelay: number;
}

const POINTS_PER_SERVER = 160;

/** The Memcached client the store uses; every error is a `StoreUnavailableError` or `StoreError`. */
export class MemcachedClient {
  private readonly servers: Server[];
  private readonly ring: { point: number; server: Server }[] = [];
  private closed = false;

  constructor(options: ClientOptions) {
    this.servers = options.servers.map(
      (s) => new Server(s.host, s.port, options.poolSize, options.timeout, options.retryDelay),
    );
    for (const server of this.servers) {
      for (let i = 0; i < POINTS_PER_SERVER / 4; i++) {
        const digest = createHash('md5').update(`${server.address}-${i}`).digest();
        for (let j = 0; j < 4; j++) this.ring.push({ point: digest.readUInt32LE(j * 4), server });
      }
    }
    this.ring.sort((a, b) => a.point - b.point);
  }

  /** The server that owns `key` on the ring. */
  serverFor(key: string): Server {
    if (this.servers.length === 1) return this.servers[0]!;
    const point = createHash('md5').update(key).digest().readUInt32LE(0);
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[mid]!.point < point) lo = mid + 1;
      else hi = mid;
    }
    return (this.ring[lo] ?? this.ring[0]!).server;
  }

  /** host:port of the server owning `key` (tests and error messages). */
  addressFor(key: string): string {
    return this.serverFor(key).address;
  }

  private async call<T>(
    server: Server,
    request: Buffer,
    parse: (buf: Buffer) => Parsed<unknown>,
  ): Promise<T> {
    if (this.closed)
      throw new StoreUnavailableError(MEMCACHED_STORE_NAME, server.address, 'store is closed');
    // A StoreError means the server answered (it is up; the request was refused); anything else
    // is a connection failure (refused, dropped, or a reply too late, which drops the connection).
    return server.gate.run(async () => {
      try {
        return await server.next().send<T>(request, parse);
      } catch (err) {
        if (err instanceof StoreError || err instanceof StoreUnavailableError) throw err;
        throw new StoreUnavailableError(
          MEMCACHED_STORE_NAME,
          server.address,
          err instanceof Error ? err.message : String(err),
          { cause: err },
        );
      }
    });
  }

  /** `gets` of one key: its value and CAS token, or `null`. */
  async gets(key: string): Promise<Item | null> {
    const items = await this.call<Map<string, Item>>(
      this.serverFor(key),
      Buffer.from(`gets ${key}\r\n`, 'latin1'),
      parseValues,
    );
    return items.get(key) ?? null;
  }

  /** Values of many keys, one `get` per server, in parallel. Missing keys are absent. */
  async getMany(keys: string[]): Promise<Map<string, Buffer>> {
    const byServer = new Map<Server, string[]>();
    for (const key of new Set(keys)) {
      const server = this.serverFor(key);
      byServer.set(server, [...(byServer.get(server) ?? []), key]);
    }
    const out = new Map<string, Buffer>();
    await Promise.all(
      [...byServer].map(async ([server, group]) => {
        for (let i = 0; i < group.length; i += 100) {
          const slice = group.slice(i, i + 100);
          const items = await this.call<Map<string, Item>>(
            server,
            Buffer.from(`get ${slice.join(' ')}\r\n`, 'latin1'),
            parseValues,
          );
          for (const [k, item] of items) out.set(k, item.value);
        }
      }),
    );
    return out;
  }

  private async storage(
    command: 'set' | 'add' | 'cas' | 'append',
    key: string,
    value: Buffer | string,
    ttlSeconds: number,
    cas?: string,
  ): Promise<StoreReply> {
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const header = `${command} ${key} 0 ${ttlSeconds} ${data.length}${cas ? ` ${cas}` : ''}\r\n`;
    const reply = await this.call<string>(
      this.serverFor(key),
      Buffer.concat([Buffer.from(header, 'latin1'), data, CRLF]),
      parseLine,
    );
    if (reply === 'STORED' || reply === 'NOT_STORED' || reply === 'EXISTS' || reply === 'NOT_FOUND')
      return reply;
    throw new StoreError(MEMCACHED_STORE_NAME, `unexpected reply to ${command}: ${reply}`);
  }

  set(key: string, value: Buffer | string, ttlSeconds: number): Promise<StoreReply> {
    return this.storage('set', key, value, ttlSeconds);
  }
  add(key: string, value: Buffer | string, ttlSeconds: number): Promise<StoreReply> {
    return this.storage('add', key, value, ttlSeconds);
  }
  cas(key: string, value: Buffer | string, ttlSeconds: number, cas: string): Promise<StoreReply> {
    return this.storage('cas', key, value, ttlSeconds, cas);
  }
  /** Appends bytes to an existing item (its TTL is kept); `NOT_STORED` when it does not exist. */
  append(key: string, value: string): Promise<StoreReply> {
    return this.storage('append', key, value, 0);
  }

  /** `true` when the key existed. */
  async delete(key: string): Promise<boolean> {
    const reply = await this.call<string>(
      this.serverFor(key),
      Buffer.from(`delete ${key}\r\n`, 'latin1'),
      parseLine,
    );
    return reply === 'DELETED';
  }

  /** The new value, or `null` when the key does not exist. */
  async incr(key: string, by: number): Promise<number | null> {
    const reply = await this.call<string>(
      this.serverFor(key),
      Buffer.from(`incr ${key} ${by}\r\n`, 'latin1'),
      parseLine,
    );
    return reply === 'NOT_FOUND' ? null : Number(reply);
  }

  /** Round-trip time of `version` on each server, or the error it gave. */
  async versions(): Promise<{ address: string; ms?: number; error?: string }[]> {
    return Promise.all(
      this.servers.map(async (server) => {
        const started = performance.now();
        try {
          await this.call<string>(server, Buffer.from('version\r\n'), parseLine);
          return { address: server.address, ms: performance.now() - started };
        } catch (err) {
          return { address: server.address, error: err instanceof Error ? err.message : 'error' };
        }
      }),
    );
  }

  close(): void {
    this.closed = true;
    for (const server of this.servers) for (const c of server.connections) c.close();
  }
}
