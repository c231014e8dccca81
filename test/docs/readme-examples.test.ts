/**
 * Every code block in the README that names an example file (`<!-- example: path -->` on the line
 * before it) must be that file, to the character; the example files themselves are run by tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it, vi } from 'vitest';
import { requireService } from '../support/services.js';

const redisUp = await requireService('Redis', '127.0.0.1', 6379, 'redis-server --port 6379');

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => ({
  path: m[1]!,
  code: m[2]!,
}));

describe('README examples', () => {
  it('the README shows at least the quick start', () => {
    assert.ok(blocks.some((b) => b.path === 'examples/quickstart.ts'));
  });

  for (const block of blocks) {
    it(`${block.path} is shown in the README exactly as it is`, () => {
      assert.equal(
        block.code,
        readFileSync(new URL(`../../${block.path}`, import.meta.url), 'utf8'),
      );
    });
  }

  it('the quick start runs and prints the logged-in user', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../../examples/quickstart.js');
      assert.deepEqual(log.mock.calls, [['hello alice', true]]);
    } finally {
      log.mockRestore();
    }
  });

  it.skipIf(!redisUp)(
    'the stores example runs on Redis and SQLite and finds the session',
    async () => {
      const root = new URL('../..', import.meta.url).pathname;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'examples/stores.ts'],
        {
          cwd: root,
          env: Object.fromEntries(
            Object.entries(process.env).filter(
              ([name]) => name !== 'DATABASE_URL' && name !== 'REDIS_URL',
            ),
          ),
          timeout: 20_000,
        },
      );
      assert.equal(stdout, 'alice 1\n');
    },
  );
});
