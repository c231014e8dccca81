/**
 * Health: a reachable store reports itself healthy under its own name.
 */
import assert from 'node:assert/strict';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

/** Registers the health test. */
export function testHealth(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);

  suite.single('health reports ok', [], async (store) => {
    const health = await store.health();
    assert.equal(health.ok, true);
    assert.equal(health.store, store.name);
  });
}
