/**
 * How a contract test is registered and run: it builds its own store(s) and closes them, and a
 * test whose capability the store does not declare is reported as skipped, never as passed.
 *
 * Capabilities belong to a store instance, and factories often can only run once the backend is
 * up (a port chosen in `beforeAll`), so they are not known when tests are registered. Each test
 * therefore reads them from the store it builds anyway and skips through the runner's own test
 * context: vitest's `ctx.skip(note)`, node:test's `t.skip(message)`, mocha's `this.skip()`. A
 * caller may also declare `capabilities` up front; tests excluded there are registered with
 * `test.skip`, which every common runner has (jest's context cannot skip, so jest needs this).
 * A runner that can do neither gets a failure naming the capability, not a pass.
 */
import type { SessionStore, StoreCapabilities } from '../../core/types.js';
import type { ContractOptions, ContractTestBody, StoreFactory, TestFunction } from './options.js';

export type Capability = keyof StoreCapabilities;

/** Registers the tests of one guarantee, each with the capabilities it needs. */
export interface Registrar {
  /** A test on one fresh store. */
  single(name: string, needs: Capability[], fn: (store: SessionStore) => Promise<void>): void;
  /** A test on two instances over one backend (one instance twice when `second` is not given). */
  pair(
    name: string,
    needs: Capability[],
    fn: (a: SessionStore, b: SessionStore) => Promise<void>,
  ): void;
  /** A test that manages its own stores. */
  plain(name: string, fn: () => Promise<void>): void;
  /** A test that cannot run with these options, shown as skipped when the runner has `test.skip`. */
  skipped(name: string): void;
}

type Skip = (reason: string) => void;

interface Skippable {
  skip: (reason?: string) => void;
}

/** vitest's context is a function object, node:test's and mocha's are plain objects. */
function canSkip(value: unknown): value is Skippable {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { skip?: unknown }).skip === 'function'
  );
}

/** The runner's way to skip from inside a running test, if it has one. */
function runnerSkip(self: unknown, args: unknown[]): Skip | undefined {
  const context = args[0];
  // vitest throws to stop the test; node:test only marks it, so the caller returns right after.
  if (canSkip(context)) return (reason) => context.skip(reason);
  if (canSkip(self)) return () => self.skip(); // mocha: throws, takes no reason
  return undefined;
}

/**
 * Skips the running test when `store` lacks one of `needs`. Returns true when the test must stop
 * here (node:test marks the skip and lets the body continue, so the caller returns).
 */
function skipUnlessCapable(store: SessionStore, needs: Capability[], skip: Skip | undefined) {
  const missing = needs.filter((c) => !store.capabilities[c]);
  if (missing.length === 0) return false;
  const reason = `the ${store.name} store declares ${missing.map((c) => `capabilities.${c}`).join(', ')} false`;
  if (!skip)
    throw new Error(
      `${reason}, and this runner cannot skip from inside a test: pass \`capabilities\` in the contract options so the test is registered with test.skip`,
    );
  skip(reason);
  return true;
}

export async function using<T>(
  factory: StoreFactory,
  fn: (store: SessionStore) => Promise<T>,
): Promise<T> {
  const store = await factory();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Runs `fn` with two instances on one backend when `second` is given (both the same otherwise). */
async function usingPair<T>(
  factory: StoreFactory,
  second: StoreFactory | undefined,
  fn: (a: SessionStore, b: SessionStore) => Promise<T>,
): Promise<T> {
  return using(factory, async (a) => (second ? using(second, (b) => fn(a, b)) : fn(a, a)));
}

export function registrar(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions,
): Registrar {
  const prefix = options.prefix ? `${options.prefix}: ` : '';
  const skipAtRegistration = typeof test.skip === 'function';

  const add = (name: string, needs: Capability[], run: (skip?: Skip) => Promise<void>) => {
    const body: ContractTestBody = function (this: unknown, ...args: unknown[]) {
      return run(runnerSkip(this, args));
    };
    const declaredMissing = needs.some((c) => options.capabilities?.[c] === false);
    if (declaredMissing && skipAtRegistration) test.skip?.(`${prefix}${name}`, body);
    else test(`${prefix}${name}`, body);
  };

  return {
    single: (name, needs, fn) =>
      add(name, needs, (skip) =>
        using(factory, async (store) => {
          if (!skipUnlessCapable(store, needs, skip)) await fn(store);
        }),
      ),
    pair: (name, needs, fn) =>
      add(name, needs, (skip) =>
        usingPair(factory, options.second, async (a, b) => {
          if (!skipUnlessCapable(a, needs, skip)) await fn(a, b);
        }),
      ),
    plain: (name, fn) => add(name, [], () => fn()),
    skipped: (name) => {
      if (skipAtRegistration) test.skip?.(`${prefix}${name}`, async () => {});
    },
  };
}
