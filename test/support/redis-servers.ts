/**
 * Redis servers the Redis store tests start themselves on free loopback ports: a standalone server
 * (which a test may stop and start again on the same port), a 3-master Cluster and a
 * master + replica + Sentinel set. Nothing is persisted; every server's files live in a temp dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildServer, freePort, startServer } from './services.js';

const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];

/** Runs redis-cli and returns its stdout (throws on a non-zero exit). */
export function redisCli(args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    // 'close', not 'exit': the process can exit before its output has all been read, and a long
    // `--scan` then came back cut short on a loaded machine.
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`redis-cli ${args.join(' ')} exited ${code}: ${err || out}`));
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A standalone Redis; `stop()` then `start()` restarts it on the same port (empty). */
export interface StandaloneRedis {
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(extraArgs: string[] = []): Promise<StandaloneRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  let server: ChildServer | undefined;
  const redis: StandaloneRedis = {
    port,
    async start() {
      server = await startServer(
        'redis-server',
        ['--port', String(port), '--dir', dir, ...BASE, ...extraArgs],
        port,
      );
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
  };
  await redis.start();
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return redis;
}

/**
 * A Redis Cluster of `masters` masters, each with `replicas` replicas, formed with `redis-cli
 * --cluster create`.
 */
export interface RedisClusterSet {
  /** Every node's port. */
  ports: number[];
  /** The node processes by port (a test may pause one with SIGSTOP). */
  servers: Map<number, ChildServer>;
  stop(): Promise<void>;
}

/** The master and replica ports of a Cluster, from `CLUSTER NODES` on `port`. */
export async function clusterRoles(
  port: number,
): Promise<{ port: number; master: boolean; masterPort: number | null }[]> {
  const lines = (await redisCli(['-p', String(port), 'cluster', 'nodes'])).trim().split('\n');
  const nodes = lines.map((line) => {
    const [id, address, flags, masterId] = line.split(' ');
    return {
      id: id!,
      port: Number(address!.split('@')[0]!.split(':')[1]),
      master: flags!.split(',').includes('master'),
      masterId: masterId!,
    };
  });
  return nodes.map((n) => ({
    port: n.port,
    master: n.master,
    masterPort: n.master ? null : (nodes.find((m) => m.id === n.masterId)?.port ?? null),
  }));
}

export async function startRedisCluster(masters = 3, replicas = 0): Promise<RedisClusterSet> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-cluster-'));
  const servers: ChildServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      servers.push(
        await startServer(
          'redis-server',
          [
            '--port',
            String(port),
            '--dir',
            dir,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            ...BASE,
          ],
          port,
        ),
      );
    }
    const ports = servers.map((s) => s.port);
    await redisCli([
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await until(`cluster state ok on ${port}`, async () =>
        (await redisCli(['-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok'),
      );
    }
    if (replicas > 0)
      await until(
        'every replica to sync',
        async () => {
          const roles = await clusterRoles(ports[0]!);
          const replicaPorts = roles.filter((r) => !r.master).map((r) => r.port);
          if (replicaPorts.length !== masters * replicas) return false;
          for (const port of replicaPorts) {
            const info = await redisCli(['-p', String(port), 'info', 'replication']);
            if (!info.includes('master_link_status:up')) return false;
          }
          return true;
        },
        30_000,
      );
    return { ports, servers: new Map(servers.map((s) => [s.port, s])), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A master, one replica and one Sentinel watching them under the name `master`. */
export interface RedisSentinelSet {
  name: string;
  masterPort: number;
  replicaPort: number;
  sentinelPort: number;
  /** The port Sentinel currently names as master. */
  currentMasterPort(): Promise<number>;
  /** `SENTINEL FAILOVER`, then waits until the old replica is the master and accepts writes. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(): Promise<RedisSentinelSet> {
  const name = 'tessera-master';
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-sentinel-'));
  const servers: ChildServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const masterPort = await freePort();
    servers.push(
      await startServer(
        'redis-server',
        ['--port', String(masterPort), '--dir', dir, ...BASE],
        masterPort,
      ),
    );
    const replicaPort = await freePort();
    servers.push(
      await startServer(
        'redis-server',
        [
          '--port',
          String(replicaPort),
          '--dir',
          dir,
          ...BASE,
          '--replicaof',
          '127.0.0.1',
          String(masterPort),
        ],
        replicaPort,
      ),
    );
    await until('the replica to sync', async () =>
      (await redisCli(['-p', String(replicaPort), 'info', 'replication'])).includes(
        'master_link_status:up',
      ),
    );
    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    servers.push(await startServer('redis-server', [conf, '--sentinel'], sentinelPort));
    const sentinel = (...args: string[]) => redisCli(['-p', String(sentinelPort), ...args]);
    await until('Sentinel to discover the replica', async () =>
      (await sentinel('sentinel', 'replicas', name)).includes(String(replicaPort)),
    );
    const currentMasterPort = async () =>
      Number((await sentinel('sentinel', 'get-master-addr-by-name', name)).trim().split('\n')[1]);
    return {
      name,
      masterPort,
      replicaPort,
      sentinelPort,
      currentMasterPort,
      async failover() {
        const before = await currentMasterPort();
        await until(
          'SENTINEL FAILOVER to be accepted',
          async () => (await sentinel('sentinel', 'failover', name)).trim() === 'OK',
        );
        await until('the failover to finish', async () => {
          const now = await currentMasterPort();
          if (now === before) return false;
          const role = await redisCli(['-p', String(now), 'role']);
          return role.startsWith('master');
        });
        return currentMasterPort();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
