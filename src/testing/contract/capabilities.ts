/**
 * When the caller declares `capabilities` up front (so excluded tests are registered as skipped
 * before any store exists), this checks the declaration against the store's own: a stale
 * declaration would skip a guarantee the store claims, or run one it disclaims.
 */
import assert from 'node:assert/strict';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { type Capability, registrar, using } from './register.js';

/** Registers the declaration check; registers nothing when `options.capabilities` is not given. */
export function testDeclaredCapabilities(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const declared = options.capabilities;
  if (!declared) return;
  registrar(test, factory, options).plain(
    "the declared capabilities are the store's own",
    async () =>
      using(factory, async (store) => {
        for (const [name, value] of Object.entries(declared) as [Capability, boolean][]) {
          assert.equal(
            store.capabilities[name],
            value,
            `options.capabilities.${name} is ${value}, the store declares ${store.capabilities[name]}`,
          );
        }
      }),
  );
}
