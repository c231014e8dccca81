/**
 * The contract suite's public shapes: the runner's test function it is handed, the store factory
 * and the options every guarantee function accepts.
 */
import type { KnownKeys } from '../../core/strict-options.js';
import type { SessionStore, StoreCapabilities } from '../../core/types.js';

/**
 * A contract test's body. It takes no declared parameters (so jest and mocha treat it as
 * promise-returning, not callback-style) and reads the runner's test context from its arguments
 * (vitest, node:test) or from `this` (mocha) only to skip.
 */
export type ContractTestBody = (this: unknown, ...args: unknown[]) => Promise<void>;

/**
 * The runner's test function: vitest's `it`/`test`, node:test's `test`, jest's or mocha's `it`.
 * `(name, fn)` registers a test; `test.skip(name, fn)`, when the runner has it, registers one the
 * report shows as skipped.
 */
export type TestFunction = ((name: string, fn: ContractTestBody) => unknown) & {
  skip?: (name: string, fn: ContractTestBody) => unknown;
};

/** Builds a fresh store; each contract test builds its own and closes it. */
export type StoreFactory = () => SessionStore | Promise<SessionStore>;

export interface ContractOptions {
  /**
   * Builds a second store instance on the same backend (another client, another process's view).
   * When given, concurrent operations are spread over both, so atomicity is checked across clients.
   * @default undefined (both roles use one instance)
   */
  second?: StoreFactory;
  /**
   * Builds a store whose backend cannot be reached (a real port with nothing on it). Enables the
   * "errors are typed" group; without it that group is registered as skipped.
   * @default undefined (the "errors are typed" group is skipped)
   */
  unreachable?: StoreFactory;
  /** Every operation on the unreachable store must fail within this many ms. @default 5000 */
  unavailableWithinMs?: number;
  /** How many concurrent creates the limit test fires. @default 20 */
  concurrentCreates?: number;
  /** Size of the large value round-tripped. @default 1_000_000 */
  largeValueBytes?: number;
  /**
   * The `maxDataBytes` the data-limit tests patch against; their values are sized from it (a
   * client-side cookie store needs it small). @default 65_536
   */
  dataLimitBytes?: number;
  /** Prefix for test names, followed by `: `. @default '' (no prefix) */
  prefix?: string;
  /**
   * The store's capabilities, declared up front. Tests for a capability declared `false` here are
   * registered with the runner's `test.skip`, before any store is built: the way to get real skips
   * on a runner whose test context cannot skip (jest). Without it, each test reads the
   * capabilities of the store it builds and skips through the runner's context (vitest
   * `ctx.skip`, node:test `t.skip`, mocha `this.skip`). When given, a test checks that it agrees
   * with the store's own `capabilities`.
   * @default undefined (learned from the store each test builds)
   */
  capabilities?: Partial<StoreCapabilities>;
}

/** The contract suite's option keys; any other is an `UnknownOptionError`. */
export const CONTRACT_KNOWN_KEYS = {
  second: true,
  unreachable: true,
  unavailableWithinMs: true,
  concurrentCreates: true,
  largeValueBytes: true,
  dataLimitBytes: true,
  prefix: true,
  capabilities: true,
} as const satisfies KnownKeys<ContractOptions>;

/** The keys of `capabilities: { … }`. */
export const CAPABILITY_KNOWN_KEYS = {
  listUser: true,
  listAll: true,
  stats: true,
  audit: true,
  atomicLimit: true,
  revocation: true,
} as const satisfies KnownKeys<StoreCapabilities>;
