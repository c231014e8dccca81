/**
 * Guarantee 7, errors are typed: a backend that cannot be reached fails every operation with
 * `StoreUnavailableError` within the configured time, and health reports the outage. Needs
 * `options.unreachable`; without it the test is registered as skipped.
 */
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../core/errors.js';
import { sampleRecord } from '../fixtures.js';
import { HOUR } from './assertions.js';
import type { ContractOptions, StoreFactory, TestFunction } from './options.js';
import { registrar } from './register.js';

const NAME = 'an unreachable backend fails every operation with StoreUnavailableError in time';

/** Registers the unreachable-backend test (skipped when `options.unreachable` is not given). */
export function testErrorsAreTyped(
  test: TestFunction,
  factory: StoreFactory,
  options: ContractOptions = {},
): void {
  const suite = registrar(test, factory, options);
  const unreachable = options.unreachable;
  if (!unreachable) {
    suite.skipped(NAME);
    return;
  }
  const within = options.unavailableWithinMs ?? 5_000;
  suite.plain(NAME, async () => {
    const store = await unreachable();
    try {
      const now = Date.now();
      const r = sampleRecord({}, now);
      const ops: [string, () => Promise<unknown>][] = [
        ['create', () => store.create(r, { maxSessionsPerUser: 5, now })],
        ['get', () => store.get(r.id, now, { touchAfter: 0, idleTimeout: HOUR })],
        ['patch', () => store.patch(r.id, { set: { a: 1 } }, now)],
        ['destroy', () => store.destroy(r.id, 'logout', now)],
        ['destroyUser', () => store.destroyUser('u', { reason: 'logout-all', now })],
        [
          'regenerate',
          () => store.regenerate(r.id, sampleRecord({}, now), { maxSessionsPerUser: 5, now }),
        ],
        ['listUser', () => store.listUser('u', now)],
        ['cleanup', () => store.cleanup(now)],
      ];
      for (const [name, op] of ops) {
        const started = Date.now();
        await assert.rejects(op(), (err: unknown) => {
          assert.ok(err instanceof StoreUnavailableError, `${name} rejected with ${String(err)}`);
          return true;
        });
        const took = Date.now() - started;
        assert.ok(took <= within, `${name} took ${took} ms, over ${within} ms`);
      }
      const health = await store.health();
      assert.equal(health.ok, false, 'health reports the outage');
    } finally {
      await store.close();
    }
  });
}
