/**
 * Dependencies point downward: nothing in src/core imports a store, the HTTP layer, an adapter, the
 * admin page or the CLI. A static scan of every import specifier (static, re-export and dynamic).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const CORE = join(SRC, 'core');
/** The layers above core, which it must never reach. */
const ABOVE_CORE = ['stores', 'testing', 'http', 'adapters', 'admin', 'cli'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module specifier in a file: `import … from`, `export … from`, `import '…'`, `import(…)`. */
function importSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]!);
  return found;
}

describe('layering', () => {
  it('the scan sees every kind of import', () => {
    const text = [
      "import { a } from '../stores/memory.js';",
      "import type {\n  B,\n} from '../stores/record.js';",
      "export * from '../http/index.js';",
      "import '../cli/main.js';",
      "const m = await import('../adapters/hono.js');",
    ].join('\n');
    assert.deepEqual(importSpecifiers(text).sort(), [
      '../adapters/hono.js',
      '../cli/main.js',
      '../http/index.js',
      '../stores/memory.js',
      '../stores/record.js',
    ]);
  });

  it('no file in src/core imports from src/stores or any layer above core', () => {
    const offending: string[] = [];
    const files = sourceFiles(CORE);
    assert.ok(files.length > 5, 'the scan found the core sources');
    for (const file of files) {
      for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = relative(SRC, resolve(dirname(file), specifier));
        const layer = target.split(/[\\/]/)[0]!;
        if (ABOVE_CORE.includes(layer) || target.startsWith('..'))
          offending.push(`${relative(SRC, file)} imports ${specifier}`);
      }
    }
    assert.deepEqual(offending, []);
  });
});
