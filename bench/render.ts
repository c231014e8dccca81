/**
 * Writes bench/results.md again from the last run's figures (test-output/bench-results.json, saved
 * by `npm run bench`), with the report code as it is now: for a change to the report's text or
 * target checks without measuring again. The figures and the date stay those of that run.
 *
 *   npx tsx bench/render.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTargets, markdown } from './report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = JSON.parse(readFileSync(join(root, 'test-output', 'bench-results.json'), 'utf8'));
writeFileSync(join(root, 'bench', 'results.md'), markdown(results, checkTargets(results)));
console.log('wrote bench/results.md from test-output/bench-results.json');
