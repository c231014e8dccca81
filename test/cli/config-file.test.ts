/**
 * The CLI's `--config` file is strict like every options object: an unknown key, at the top or in
 * a connection object, is an `UnknownOptionError` naming the file and the nearest valid key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { configFromFile } from '../../src/cli/config.js';
import { UnknownOptionError } from '../../src/core/errors.js';

const folder = mkdtempSync(join(tmpdir(), 'tessera-cli-config-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('tessera --config', () => {
  it('the CLI config file is checked, nested connection objects included', () => {
    const path = join(folder, 'config.json');
    for (const [file, key, suggestion] of [
      [{ storag: 'memory' }, 'storag', 'storage'],
      [{ storage: 'redis', redis: { hots: 'localhost' } }, 'redis.hots', 'redis.host'],
      [{ storage: 'sql', database: { urll: 'sqlite::memory:' } }, 'database.urll', 'database.url'],
      [{ memcached: { server: ['a:1'] } }, 'memcached.server', 'memcached.servers'],
    ] as const) {
      writeFileSync(path, JSON.stringify(file));
      assert.throws(
        () => configFromFile(path),
        (err: unknown) =>
          err instanceof UnknownOptionError &&
          err.key === key &&
          err.suggestion === suggestion &&
          err.where === `the config file ${path}`,
      );
    }
  });
});
