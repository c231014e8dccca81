/**
 * A data key is a key, whatever its name: `__proto__`, `constructor` or `toString` set through the
 * request's session are plain entries of `session.data` for the rest of the request (never the
 * object's prototype), are read back by `get`, and are stored as they are. The request session is
 * the one every adapter hands out, so this holds for Express, Fastify, Hono and handleFetch alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { RequestSession } from '../../src/http/session.js';
import { createSessionManager } from '../../src/index.js';

async function requestSession() {
  const manager = createSessionManager({ cleanupInterval: false });
  const { token, session } = await manager.create({ userId: 'u', data: { theme: 'dark' } });
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
  return { manager, token, request };
}

describe('data keys named like Object.prototype members', () => {
  it('__proto__ set in a request is a key of session.data, not its prototype', async () => {
    const { manager, token, request } = await requestSession();
    request.set('__proto__', { isAdmin: true });
    const data = request.data as Record<string, unknown>;
    assert.equal(data.isAdmin, undefined, 'no property inherited from the value');
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.ok(Object.hasOwn(data, '__proto__'), 'the key is in the view');
    assert.deepEqual(Object.keys(data).sort(), ['__proto__', 'theme']);
    assert.match(JSON.stringify(data), /"__proto__":\{"isAdmin":true\}/);
    assert.deepEqual(request.get('__proto__'), { isAdmin: true });
    await request.commit();
    const stored = (await manager.validate(token)).session!;
    assert.ok(Object.hasOwn(stored.data, '__proto__'));
    assert.equal((stored.data as Record<string, unknown>).isAdmin, undefined);
    await manager.close();
  });

  it('get() of a key the session does not hold is undefined, whatever its name', async () => {
    const { manager, request } = await requestSession();
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      assert.equal(request.get(key), undefined, key);
    request.set('constructor', 'mine').set('toString', 'also mine');
    assert.equal(request.get('constructor'), 'mine');
    assert.equal((request.data as Record<string, unknown>).toString, 'also mine');
    request.delete('constructor');
    assert.equal(request.get('constructor'), undefined);
    assert.ok(!Object.hasOwn(request.data, 'constructor'));
    await manager.close();
  });
});
