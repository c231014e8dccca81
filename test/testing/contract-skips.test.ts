/**
 * The contract suite reports a guarantee a store does not keep as skipped, never as passed: run
 * by vitest and by node:test over a store without listing (tests in child runners, read from
 * their reports), and with a runner that cannot skip at all.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import {
  type ContractTestBody,
  type TestFunction,
  testDeclaredCapabilities,
  testListing,
  testSessionStore,
} from '../../src/testing/index.js';
import {
  createNoListingStore,
  EXCLUDED_BY_CAPABILITIES,
  EXCLUDED_BY_OPTIONS,
} from './fixtures/no-listing-store.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
/** The child runner must not think it is a worker of this one. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')),
);
const excluded = [...EXCLUDED_BY_CAPABILITIES, ...EXCLUDED_BY_OPTIONS].sort();

/** Every contract test name, in registration order, as `testSessionStore` registers them. */
function contractTestNames(options: Parameters<typeof testSessionStore>[2] = {}): string[] {
  const names: string[] = [];
  const collect = Object.assign((name: string) => names.push(name), {
    skip: (name: string) => names.push(name),
  });
  testSessionStore(collect, createNoListingStore, options);
  return names;
}

type Outcome = 'passed' | 'skipped' | 'failed';

/** Checks one group of results: exactly the excluded tests skipped, every other one passed. */
function assertReported(group: string, results: Map<string, Outcome>, expectedNames: string[]) {
  assert.deepEqual([...results.keys()].sort(), [...expectedNames].sort(), `${group}: test names`);
  const skipped = [...results].filter(([, o]) => o === 'skipped').map(([n]) => n);
  const other = [...results].filter(([, o]) => o !== 'skipped' && o !== 'passed');
  assert.deepEqual(other, [], `${group}: no test failed`);
  assert.deepEqual(skipped.sort(), excluded, `${group}: exactly the excluded tests are skipped`);
}

describe('contract suite: what a store does not keep is reported as skipped', () => {
  it('under vitest, capabilities learned at run time or declared up front', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tessera-contract-'));
    try {
      const report = join(out, 'report.json');
      await run(
        process.execPath,
        [
          join(root, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--root',
          root,
          '--config',
          join(root, 'test/testing/fixtures/vitest.config.ts'),
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: root, env: childEnv, timeout: 120_000 },
      );
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        testResults: {
          assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
        }[];
      };
      const groups = new Map<string, Map<string, Outcome>>();
      for (const a of json.testResults.flatMap((f) => f.assertionResults)) {
        const group = a.ancestorTitles[0] ?? '';
        if (!groups.has(group)) groups.set(group, new Map());
        groups.get(group)!.set(a.title, a.status as Outcome);
      }
      assert.deepEqual([...groups.keys()].sort(), ['declared up front', 'learned at run time']);
      assertReported(
        'learned at run time',
        groups.get('learned at run time')!,
        contractTestNames(),
      );
      assertReported(
        'declared up front',
        groups.get('declared up front')!,
        contractTestNames({ capabilities: { listUser: false } }),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('under node:test, capabilities learned at run time or declared up front', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=tap',
        'test/testing/fixtures/no-listing.node-test.ts',
      ],
      { cwd: root, env: childEnv, timeout: 120_000 },
    );
    const groups = new Map<string, Map<string, Outcome>>();
    for (const line of stdout.split('\n')) {
      const m = line.match(/^(not ok|ok) \d+ - (.+?): (.+?)( # SKIP.*)?$/);
      if (!m) continue;
      const [, status, group, name, skip] = m as unknown as [
        string,
        string,
        string,
        string,
        string?,
      ];
      if (!groups.has(group)) groups.set(group, new Map());
      groups.get(group)!.set(name, status === 'not ok' ? 'failed' : skip ? 'skipped' : 'passed');
    }
    assert.deepEqual([...groups.keys()].sort(), ['declared up front', 'learned at run time']);
    assertReported('learned at run time', groups.get('learned at run time')!, contractTestNames());
    assertReported(
      'declared up front',
      groups.get('declared up front')!,
      contractTestNames({ capabilities: { listUser: false } }),
    );
    assert.match(stdout, /# SKIP the memory store declares capabilities\.listUser false/);
  }, 120_000);

  it('a runner that cannot skip gets a failure naming the capability, never a pass', async () => {
    const registered: { name: string; fn: ContractTestBody }[] = [];
    // jest's shape: no test.skip used here, and the body is called with no context.
    const runner: TestFunction = (name, fn) => registered.push({ name, fn });
    testListing(runner, createNoListingStore);
    assert.equal(registered.length, 2);
    for (const { fn } of registered) {
      await assert.rejects(
        fn.call({}),
        /declares capabilities\.(listUser|listAll) false.*pass `capabilities`/,
      );
    }
  });

  it('declared capabilities skip at registration, before any store is built', () => {
    const ran: string[] = [];
    const skipped: string[] = [];
    const runner = Object.assign((name: string) => ran.push(name), {
      skip: (name: string) => skipped.push(name),
    });
    const noStore = () => {
      throw new Error('no store is built to register tests');
    };
    testListing(runner, noStore, { capabilities: { listUser: false, listAll: false } });
    assert.deepEqual(ran, []);
    assert.deepEqual(skipped, [
      "listUser returns the user's live sessions, most recently active first",
      'list pages through live sessions with a total',
    ]);
  });

  it('a declaration that disagrees with the store fails', async () => {
    const registered: ContractTestBody[] = [];
    const runner: TestFunction = (_name, fn) => registered.push(fn);
    testDeclaredCapabilities(runner, createNoListingStore, { capabilities: { listUser: true } });
    assert.equal(registered.length, 1);
    await assert.rejects(
      registered[0]!.call(undefined),
      /options\.capabilities\.listUser is true, the store declares false/,
    );
  });
});
