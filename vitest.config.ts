import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `tessera-session` and `tessera-session/<entry>` resolve to the sources in tests, derived from package.json's
 * exports (./dist/x.js → ./src/x.ts), so README examples written against the public entry points
 * run as they are. test/package/ checks the built dist separately.
 */
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { default: string }>;
};
const alias = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object')
  .map(([entry, target]) => ({
    find: new RegExp(
      `^${entry === '.' ? 'tessera-session' : `tessera-session/${entry.slice(2)}`}$`,
    ),
    replacement: fileURLToPath(
      new URL(
        (target as { default: string }).default
          .replace('./dist/', './src/')
          .replace(/\.js$/, '.ts'),
        import.meta.url,
      ),
    ),
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Backend suites start their own servers on free ports; two workers fit a 2-core machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
