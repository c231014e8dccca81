/**
 * Session data values a store could not keep as they are are refused where they are given, as
 * `InvalidInputError`: at `session.set()` in a route, and at the manager's `create`/`update`. Data
 * over `maxDataBytes` is a `DataTooLargeError`, logged as a warning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { DataTooLargeError, InvalidInputError } from '../../src/core/errors.js';
import { MAX_VALUE_DEPTH } from '../../src/core/input-checks.js';
import type { JsonValue } from '../../src/core/types.js';
import { RequestSession } from '../../src/http/session.js';
import { createSessionManager } from '../../src/index.js';
import { nested } from '../http/adapter-helpers.js';

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

/** Values JSON cannot carry exactly, or that nest past the limit. */
const UNSTORABLE: [string, unknown][] = [
  ['5,000 levels deep', nested(5000)],
  [`${MAX_VALUE_DEPTH + 1} levels deep`, nested(MAX_VALUE_DEPTH + 1)],
  ['a cycle', cyclic],
  ['a BigInt', 10n],
  ['undefined', undefined],
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['NaN', Number.NaN],
  ['Infinity inside an array', [1, Number.POSITIVE_INFINITY]],
  ['a Date', new Date(0)],
  ['a Map', new Map([['a', 1]])],
  ['undefined inside an object', { a: undefined }],
];

async function requestSession() {
  const manager = createSessionManager({ cleanupInterval: false });
  const { token, session } = await manager.create({ userId: 'u' });
  const request = new RequestSession({
    manager,
    record: session,
    token,
    source: 'cookie',
    csrfCookie: null,
    ip: null,
    userAgent: null,
    loadedAt: manager.now(),
  });
  return { manager, request };
}

describe('values a store could not keep', () => {
  it('session.set() throws InvalidInputError at once, naming the key', async () => {
    const { manager, request } = await requestSession();
    for (const [what, value] of UNSTORABLE)
      assert.throws(
        () => request.set('v', value as JsonValue),
        (err: unknown) => err instanceof InvalidInputError && /"v"/.test(err.message),
        what,
      );
    assert.throws(() => request.flash('note', nested(5000)), InvalidInputError);
    assert.throws(() => request.set('\ud800', 1), InvalidInputError, 'a lone surrogate key');
    // Nothing pending: the commit writes nothing.
    await request.commit();
    const stored = (await manager.store.get(request.id!, manager.now())).record!;
    assert.deepEqual(stored.data, {});
    assert.equal(stored.version, request.record!.version);
    await manager.close();
  });

  it('values at the limit, and every JSON shape, are accepted', async () => {
    const { manager, request } = await requestSession();
    request.set('deepest', nested(MAX_VALUE_DEPTH));
    request.set('mixed', { a: [1, 'two', null, true, { b: -0.5 }], c: Object.create(null) });
    await request.commit();
    const stored = (await manager.store.get(request.id!, manager.now())).record!;
    assert.deepEqual(Object.keys(stored.data).sort(), ['deepest', 'mixed']);
    await manager.close();
  });

  it('the manager refuses them in create() and update() too', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const { session } = await manager.create({ userId: 'u' });
    for (const [what, value] of UNSTORABLE) {
      await assert.rejects(
        manager.create({ data: { v: value as JsonValue } }),
        InvalidInputError,
        what,
      );
      await assert.rejects(
        manager.update(session, { set: { v: value as JsonValue } }),
        InvalidInputError,
        what,
      );
    }
    await manager.close();
  });

  it('data over maxDataBytes is a DataTooLargeError, logged as a warning with the sizes', async () => {
    const warnings: Record<string, unknown>[] = [];
    const quiet = () => {};
    const manager = createSessionManager({
      cleanupInterval: false,
      maxDataBytes: 100,
      logger: { debug: quiet, info: quiet, error: quiet, warn: (obj) => warnings.push(obj) },
    });
    const { session } = await manager.create({ userId: 'u' });
    await assert.rejects(
      manager.update(session, { set: { big: 'x'.repeat(200) } }),
      DataTooLargeError,
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.sessionId, session.id);
    assert.equal(warnings[0]!.limit, 100);
    assert.ok(Number(warnings[0]!.bytes) > 200);
    await manager.close();
  });
});
