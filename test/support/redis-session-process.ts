/**
 * Starts the app of ./redis-session-app.ts in a child process (a real second server process on
 * the same Redis) and returns its URL.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunningApp } from '../http/http-client.js';

const CHILD = fileURLToPath(new URL('./redis-session-app.ts', import.meta.url));

/** `redis`: a standalone server's port, or the ports of a Cluster's nodes. */
export async function startRedisSessionApp(
  redis: number | number[],
  prefix: string,
  cache: boolean,
): Promise<RunningApp> {
  const where = Array.isArray(redis) ? `cluster:${redis.join(',')}` : String(redis);
  const child = fork(CHILD, [where, prefix, cache ? 'cache' : 'no-cache'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`session app exited ${code} before it listened`)),
    );
    child.once('message', (m: { port: number }) => resolve(m.port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
