/**
 * The published shape: every `exports` entry of package.json resolves to built JavaScript with
 * type declarations, and a store in another package can run the contract suite from
 * `tessera-session/testing` with its own test runner (node:test here, to show it is runner-agnostic).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; import: string }>;
  sideEffects: boolean;
  type: string;
};
const entries = Object.entries(pkg.exports).filter(([, t]) => typeof t === 'object') as [
  string,
  { types: string; import: string },
][];

let consumer: string;

beforeAll(() => {
  // CI builds before testing; a developer who has not built yet gets a build here.
  if (!existsSync(join(root, 'dist/index.js')))
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  consumer = mkdtempSync(join(tmpdir(), 'tessera-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(root, join(consumer, 'node_modules', 'tessera'), 'dir');
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'my-store', type: 'module', private: true }),
  );
}, 120_000);

afterAll(() => {
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

describe('package exports', () => {
  it('is ESM and side-effect free', () => {
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.sideEffects, false);
  });

  it('every entry points at built JavaScript and declarations', () => {
    for (const [entry, target] of entries) {
      assert.ok(existsSync(join(root, target.import)), `${entry}: ${target.import} exists`);
      assert.ok(existsSync(join(root, target.types)), `${entry}: ${target.types} exists`);
    }
  });

  it('every entry imports by its public name from another package', () => {
    const names = entries.map(([entry]) =>
      entry === '.' ? 'tessera' : `tessera/${entry.slice(2)}`,
    );
    const script = `for (const n of ${JSON.stringify(names)}) { const m = await import(n); if (Object.keys(m).length === 0) throw new Error(n + ' exports nothing'); } console.log('ok');`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: consumer,
      encoding: 'utf8',
    });
    assert.equal(out.trim(), 'ok');
  });

  it('a store in another package runs the contract suite from tessera-session/testing under node:test', () => {
    const file = join(consumer, 'store.test.mjs');
    writeFileSync(
      file,
      [
        "import { test } from 'node:test';",
        "import { createMemoryStore } from 'tessera-session';",
        "import { testSessionStore } from 'tessera-session/testing';",
        'testSessionStore(test, () => createMemoryStore());',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--test', file], {
      cwd: consumer,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /# fail 0/);
    const passed = Number(run.stdout.match(/# pass (\d+)/)?.[1]);
    assert.ok(passed >= 25, `${passed} contract tests passed`);
  });
});
