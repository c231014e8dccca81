/**
 * The store contract suite: every guarantee of the store contract, checked with real concurrency
 * against the real backend. One exported function per guarantee (each registers its tests);
 * `testSessionStore` registers them all. Runner-agnostic: pass your runner's test function
 * (vitest `it`, node:test `test`, …); assertions use node:assert, so a failure is an
 * AssertionError in any runner.
 *
 *   import { it } from 'vitest';
 *   import { testSessionStore } from 'tessera-session/testing';
 *   testSessionStore(it, () => createMyStore(), { unreachable: () => createMyStore({ port: 1 }) });
 *
 * A test for a capability the store declares `false` (listing on Memcached, the per-user limit on
 * a client-side cookie) is reported by the runner as skipped, never as passed: under vitest and
 * node:test with no further option, under jest by declaring `capabilities` in the options (see
 * `ContractOptions.capabilities`). So is the "errors are typed" test when `unreachable` is not
 * given.
 */

import { rejectUnknownKeys } from '../../core/strict-options.js';
import { testAtomicLimit } from './atomic-limit.js';
import { testDeclaredCapabilities } from './capabilities.js';
import { testCleanup } from './cleanup.js';
import { testDataLimit } from './data-limit.js';
import { testErrorsAreTyped } from './errors.js';
import { testExpiredIsGone } from './expiry.js';
import { testHealth } from './health.js';
import { testListing } from './listing.js';
import { testNoLostUpdates } from './no-lost-updates.js';
import {
  CAPABILITY_KNOWN_KEYS,
  CONTRACT_KNOWN_KEYS,
  type ContractOptions,
  type StoreFactory,
  type TestFunction,
} from './options.js';
import { testOwnIdleTimeout } from './own-idle-timeout.js';
import { testOwnerChange } from './owner-change.js';
import { testPatch } from './patch.js';
import { testRecreate } from './recreate.js';
import { testRegenerateIsAtomic } from './regenerate.js';
import { testRoundTrip } from './round-trip.js';
import { testStats } from './stats.js';
import { testTerminationIsFinal } from './termination.js';
import { testTouch } from './touch.js';

export type { ContractOptions, ContractTestBody, StoreFactory, TestFunction } from './options.js';
export {
  testAtomicLimit,
  testCleanup,
  testDataLimit,
  testDeclaredCapabilities,
  testErrorsAreTyped,
  testExpiredIsGone,
  testHealth,
  testListing,
  testNoLostUpdates,
  testOwnerChange,
  testOwnIdleTimeout,
  testPatch,
  testRecreate,
  testRegenerateIsAtomic,
  testRoundTrip,
  testStats,
  testTerminationIsFinal,
  testTouch,
};

/**
 * Registers every contract test, in a fixed order: those a store's capabilities exclude are
 * reported as skipped.
 */
export function testSessionStore(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  rejectUnknownKeys('testSessionStore()', options, CONTRACT_KNOWN_KEYS);
  rejectUnknownKeys(
    'testSessionStore()',
    options?.capabilities,
    CAPABILITY_KNOWN_KEYS,
    'capabilities',
  );
  testRoundTrip(test, factory, options);
  testTouch(test, factory, options);
  testOwnIdleTimeout(test, factory, options);
  testPatch(test, factory, options);
  testDataLimit(test, factory, options);
  testOwnerChange(test, factory, options);
  testAtomicLimit(test, factory, options);
  testNoLostUpdates(test, factory, options);
  testTerminationIsFinal(test, factory, options);
  testRecreate(test, factory, options);
  testExpiredIsGone(test, factory, options);
  testCleanup(test, factory, options);
  testRegenerateIsAtomic(test, factory, options);
  testListing(test, factory, options);
  testStats(test, factory, options);
  testHealth(test, factory, options);
  testErrorsAreTyped(test, factory, options);
  testDeclaredCapabilities(test, factory, options);
}
