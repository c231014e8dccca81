/**
 * Every error a user of the HTTP layer, the adapters or the admin page can meet is a TesseraError
 * with its code, and the layer answers its own typed errors by code, not by message.
 */
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { afterAll, describe, it } from 'vitest';
import { sessionOf } from '../../src/adapters/express.js';
import { TesseraStore } from '../../src/adapters/express-session.js';
import { handleFetch } from '../../src/adapters/fetch.js';
import { createAdminHandler } from '../../src/admin/index.js';
import {
  ClosedError,
  ConfigError,
  CsrfError,
  NoSessionMiddlewareError,
  NotSupportedError,
  RateLimitedError,
  SessionCommittedError,
  StoreUnavailableError,
  TesseraError,
} from '../../src/core/errors.js';
import { createSessionHttp, type HttpRequestLike } from '../../src/http/handler.js';
import { answerFor } from '../../src/http/responses.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const manager = createSessionManager({ cleanupInterval: false });
afterAll(() => manager.close());

function request(method: string, headers: Record<string, string> = {}): HttpRequestLike {
  return {
    method,
    path: '/',
    header: (name) => headers[name],
    remoteAddress: '203.0.113.9',
  };
}

describe('typed errors', () => {
  it('changing a session after its response was saved is a SessionCommittedError', async () => {
    const http = createSessionHttp(manager);
    const session = await http.load(request('GET'));
    await http.commit(request('GET'), session);
    assert.throws(
      () => session.set('late', true),
      (err: unknown) =>
        err instanceof SessionCommittedError &&
        err.code === 'SESSION_COMMITTED' &&
        /already saved with the response/.test(err.message),
    );
  });

  it("Express's sessionOf without the middleware is a NoSessionMiddlewareError", () => {
    assert.throws(
      () => sessionOf({} as Request),
      (err: unknown) =>
        err instanceof NoSessionMiddlewareError &&
        err.code === 'NO_SESSION_MIDDLEWARE' &&
        /mount tesseraSession\(\) before this route/.test(err.message),
    );
  });

  it('a refused CSRF token is a CsrfError, answered 403', async () => {
    const http = createSessionHttp(manager);
    const post = request('POST', { 'x-csrf-token': 'A'.repeat(43) });
    const session = await http.load(post);
    await assert.rejects(
      http.checkCsrf(post, session),
      (err: unknown) => err instanceof CsrfError && err.code === 'CSRF_INVALID',
    );
    const answer = http.answerError(new CsrfError(), post);
    assert.equal(answer?.status, 403);
    const refused = await handleFetch(
      http,
      new Request('https://app.example/', { method: 'POST' }),
      () => new Response('not reached'),
    );
    assert.equal(refused.status, 403);
  });

  it('answers follow the error code: 403, 429 with Retry-After, 503 for store failures and a closed store', () => {
    assert.equal(answerFor(new CsrfError(), null)?.status, 403);
    const limited = answerFor(new RateLimitedError(2500), null);
    assert.equal(limited?.status, 429);
    assert.equal(limited?.headers['retry-after'], '3');
    assert.equal(
      answerFor(new StoreUnavailableError('redis', '127.0.0.1:1', 'down'), null)?.status,
      503,
    );
    const closed = new ClosedError('the memory store');
    assert.equal(closed.code, 'CLOSED');
    assert.equal(answerFor(closed, null)?.status, 503);
    assert.equal(answerFor(new Error('the app'), null), null);
    assert.equal(answerFor(new ConfigError('x', 'bad'), null), null);
  });

  it('a bad trustProxy is a ConfigError from the check itself', () => {
    assert.throws(
      () => createSessionHttp(manager, { trustProxy: 'not-an-ip' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.field === 'trustProxy' &&
        err.message ===
          '[tessera] invalid configuration: trustProxy: "not-an-ip" is not an IP address or "loopback"',
    );
  });

  it('listing through express-session on a store that cannot list all is a NotSupportedError', async () => {
    const memory = createMemoryStore();
    const store = new TesseraStore({
      store: { ...memory, capabilities: { ...memory.capabilities, listAll: false } },
    });
    const err = await new Promise<unknown>((resolve) => store.length((e) => resolve(e)));
    assert.ok(err instanceof NotSupportedError, String(err));
    assert.equal(err.code, 'NOT_SUPPORTED');
    await memory.close();
  });

  it('the admin handler without authorize is a ConfigError naming it', () => {
    assert.throws(
      () => createAdminHandler({ manager } as never),
      (err: unknown) => err instanceof ConfigError && err.field === 'authorize',
    );
  });

  it('every one of them is a TesseraError', () => {
    for (const err of [
      new CsrfError(),
      new RateLimitedError(1),
      new SessionCommittedError(),
      new NoSessionMiddlewareError('x'),
      new NotSupportedError('s', 'cannot'),
      new ClosedError('x'),
    ])
      assert.ok(err instanceof TesseraError && typeof err.code === 'string', err.name);
  });
});
