/**
 * Test support for real backends: is a server reachable, free loopback ports, and child server
 * processes that tests start and stop themselves. Under CI=true a missing server is a failure,
 * never a skip; elsewhere the suite is skipped with a message naming the server and how to start it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';

export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Whether a TCP connection to host:port opens within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * `true` when the server answers. When it does not: under CI=true this throws (the suite fails);
 * otherwise it prints why the suite is skipped and returns `false`, for `describe.skipIf(!ok)`.
 */
export async function requireService(
  name: string,
  host: string,
  port: number,
  howToStart: string,
): Promise<boolean> {
  if (await reachable(host, port)) return true;
  const message = `${name} is not reachable at ${host}:${port}. Start it with: ${howToStart}`;
  if (IN_CI) throw new Error(`${message} (CI=true: a missing server is a failure, not a skip)`);
  console.warn(`[skipped] ${message}`);
  return false;
}

/** `true` when `command` is on the PATH; same CI rule as `requireService`. */
export async function requireCommand(command: string, howToInstall: string): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code === 0));
    child.on('error', () => resolve(false));
  });
  if (ok) return true;
  const message = `${command} is not installed. Install it with: ${howToInstall}`;
  if (IN_CI) throw new Error(`${message} (CI=true: a missing server is a failure, not a skip)`);
  console.warn(`[skipped] ${message}`);
  return false;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until host:port accepts connections, or throws after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await reachable(host, port, 250)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}

/** A server process the test started; `stop()` kills it and waits for it to exit. */
export interface ChildServer {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `command args…` and waits for `port` to open on 127.0.0.1. */
export async function startServer(
  command: string,
  args: string[],
  port: number,
  timeoutMs = 10_000,
): Promise<ChildServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort('127.0.0.1', port, timeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${command} did not start on port ${port}: ${stderr || String(err)}`);
  }
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
