/**
 * A Redis store closed at once, or refused for a bad option, leaves nothing open: a process that
 * creates one and closes it (a script, a test, a shutdown before the first request) exits by
 * itself. Each case runs in a child process against the local Redis and must exit quickly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { requireService } from '../support/services.js';

const ok = await requireService(
  'Redis',
  '127.0.0.1',
  6379,
  'redis-server --daemonize yes --port 6379',
);
const STORE = fileURLToPath(new URL('../../src/stores/redis/index.ts', import.meta.url));

/** Runs `body` in a child process; resolves with its exit code and ms taken (null: killed). */
async function runChild(
  body: string,
  limitMs = 8000,
): Promise<{ code: number | null; ms: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-close-'));
  const script = join(dir, 'child.mts');
  writeFileSync(
    script,
    `import { createRedisStore } from ${JSON.stringify(STORE)};\n${body}\nconsole.log('done');\n`,
  );
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, ms: Date.now() - started, out };
}

describe.skipIf(!ok)('Redis store: close before it connected', () => {
  for (const localCache of [true, false]) {
    it(`created and closed at once, the process exits (local cache ${localCache ? 'on' : 'off'})`, async () => {
      const run = await runChild(
        `const store = createRedisStore({ port: 6379, localCache: ${localCache} });\nawait store.close();`,
      );
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, /done/);
    }, 20_000);
  }

  it('closed a few ms after creation, several times over, the process exits', async () => {
    const run = await runChild(
      `for (const ms of [1, 5, 20, 50]) {
  const store = createRedisStore({ port: 6379 });
  await new Promise((r) => setTimeout(r, ms));
  await store.close();
}`,
    );
    assert.equal(run.code, 0, run.out);
  }, 20_000);

  it('a refused option opens no connection: the process exits after the ConfigError', async () => {
    const run = await runChild(
      `try {
  createRedisStore({ port: 6379, localCache: { maxage: 1 } as never });
} catch (err) {
  console.log((err as Error).name);
}`,
    );
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /ConfigError/);
  }, 20_000);
});
