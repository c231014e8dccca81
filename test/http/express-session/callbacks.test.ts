/**
 * An exception thrown inside a TesseraStore callback surfaces as an uncaught exception, as with
 * express-session's MemoryStore (issue 13, point 6): the callback runs outside the promise chain,
 * so it is never swallowed into an unhandled rejection that leaves the request hanging. Each
 * backend runs in a child process (test/http/express-session/fixtures/throwing-callbacks.ts) that
 * listens to both events and reports which one each method's exception reached.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { backends } from './backends.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/throwing-callbacks.ts', import.meta.url));

for (const backend of await backends()) {
  describe.skipIf(!backend.enabled)(`TesseraStore over ${backend.name}: callbacks`, () => {
    it('an exception thrown in any callback is an uncaught exception, never a swallowed rejection', async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, backend.name], {
        cwd: root,
        timeout: 60_000,
      });
      const { methods, surfaced } = JSON.parse(stdout.trim().split('\n').pop()!) as {
        methods: string[];
        surfaced: Record<string, string>;
      };
      assert.deepEqual(
        surfaced,
        Object.fromEntries(methods.map((m) => [m, 'uncaught'])),
        'each callback exception reached uncaughtException',
      );
    }, 70_000);
  });
}
