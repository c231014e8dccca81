/**
 * Profiles one server under load: starts bench/http-server.ts with `node --cpu-prof`, loads it
 * with autocannon for a few seconds, stops it and prints the profile's heaviest functions (self
 * time). The .cpuprofile is left in the output folder for Chrome DevTools.
 *
 *   npx tsx bench/profile.ts <express|fastify|hono> <variant> [read|write] [seconds] [out dir]
 *
 * With `BENCH_PACED=1` the load is paced at `PACED_RATE` req/s (as the adapter-cost figures of
 * bench/http.ts are), so a plain and a Tessera profile meet the same load generator.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startRedis } from '../test/support/redis-servers.js';
import { freePort, waitForPort } from '../test/support/services.js';
import { topSelfTime } from './cpu-profile.js';
import { PACED_RATE } from './http.js';

const [framework = 'fastify', variant = 'tessera-memory', scenario = 'read', secondsArg, outArg] =
  process.argv.slice(2);
const seconds = Number(secondsArg ?? 5);
const out = outArg ?? join('test-output', 'profiles', `${framework}-${variant}-${scenario}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

let requests = 1;
const redis = await startRedis();
const port = await freePort();
const server = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${out}`,
    '--import',
    'tsx',
    fileURLToPath(new URL('./http-server.ts', import.meta.url)),
    framework,
    variant,
    String(port),
    String(redis.port),
  ],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
try {
  await waitForPort('127.0.0.1', port, 30_000);
  const login = await fetch(`http://127.0.0.1:${port}/login`);
  const { csrf } = (await login.json()) as { csrf: string };
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 50,
    duration: seconds,
    ...(process.env.BENCH_PACED === '1' ? { overallRate: PACED_RATE } : {}),
    requests: [
      scenario === 'read'
        ? { method: 'GET', path: '/read', headers: { cookie } }
        : { method: 'POST', path: '/write', headers: { cookie, 'x-csrf-token': csrf } },
    ],
  });
  requests = result.requests.total;
  console.log(`${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}`);
} finally {
  await new Promise((resolve) => {
    server.once('exit', resolve);
    // The server exits by itself when the IPC channel closes, which lets node write the profile.
    server.disconnect();
  });
  await redis.stop();
}
// tsx's loader thread writes its own profile; the main thread's is the one with the most samples.
const file = readdirSync(out)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => ({ f, size: statSync(join(out, f)).size }))
  .sort((a, b) => b.size - a.size)[0]?.f;
if (file) {
  console.log(`profile: ${join(out, file)}`);
  console.log(topSelfTime(JSON.parse(readFileSync(join(out, file), 'utf8')), requests).join('\n'));
}
