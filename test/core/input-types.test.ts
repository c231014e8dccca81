/**
 * Values the types forbid but a JavaScript caller can still pass (an object from a body parser
 * that builds them): a user id, address or user agent that is not a string is an
 * `InvalidInputError` before any store is called, on every store alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/index.js';

describe('create and regenerate refuse values that are not strings', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['userId', { userId: { a: 'b' } }],
    ['userId', { userId: ['alice'] }],
    ['userId', { userId: 42 }],
    ['ip', { ip: { a: 1 } }],
    ['userAgent', { userAgent: ['x'] }],
  ];

  it('create: InvalidInputError naming the field, nothing stored', async () => {
    const manager = createSessionManager({});
    try {
      for (const [field, input] of bad)
        await assert.rejects(
          manager.create(input as never),
          (err: unknown) => err instanceof InvalidInputError && err.field === field,
          JSON.stringify(input),
        );
      assert.equal((await manager.stats()).sessions?.activeSessions, 0);
    } finally {
      await manager.close();
    }
  });

  it('regenerate: the same, and the old session stays', async () => {
    const manager = createSessionManager({});
    try {
      const { token } = await manager.create({ userId: 'alice' });
      for (const [field, input] of bad)
        await assert.rejects(
          manager.regenerate(token, input as never),
          (err: unknown) => err instanceof InvalidInputError && err.field === field,
        );
      assert.equal((await manager.validate(token))?.session?.userId, 'alice');
    } finally {
      await manager.close();
    }
  });
});
