/**
 * Compiles src with tsc into test-output/bench-lib, so the benchmarks run the library as users do:
 * compiled JavaScript, not tsx-transformed source (tsx adds a `__name` call for every function it
 * creates, which would be charged to Tessera's request path).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The HTTP servers run the library as users do: compiled JavaScript, not tsx-transformed source. */
export function compileLibrary(): string {
  const out = join(root, 'test-output', 'bench-lib');
  log(`compiling src to ${out}`);
  try {
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--outDir',
        out,
        '--sourceMap',
        'false',
        '--declaration',
        'false',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    // Type errors still emit JavaScript; only a missing output is fatal (checked by the import).
    log(
      `tsc reported errors (output still written): ${String((err as Error).message).slice(0, 200)}`,
    );
  }
  return out;
}
