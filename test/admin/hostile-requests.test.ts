/**
 * Requests the dashboard cannot read are a 400, never a 500: a path segment with broken
 * percent-encoding (the Hono mount, where the handler sees the raw URL), and a Host header that is
 * no host at all reaching `toFetchRequest` (the Express mount of examples/admin-express.ts, which
 * anonymous visitors reach).
 */
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { describe, it } from 'vitest';
import { tesseraSession } from '../../src/adapters/hono.js';
import { createAdminHandler, toFetchRequest } from '../../src/admin/index.js';
import { BadRequestError } from '../../src/core/errors.js';
import { answerFor } from '../../src/http/responses.js';
import { createSessionManager } from '../../src/index.js';

describe('admin: malformed percent-encoding in the path', () => {
  it('the Hono mount answers 400 for /api/users/%E0%A4%A/terminate and a broken session id', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const admin = createAdminHandler({ manager, authorize: (s) => s.userId === 'root' });
    const app = new Hono();
    app.use('*', tesseraSession(manager, { mode: 'development', skipCsrf: ['/login'] }));
    app.post('/login', async (c) => {
      await c.get('session').regenerate({ userId: 'root' });
      return c.json({ token: c.get('session').issuedToken, csrf: c.get('session').csrfToken });
    });
    app.all('/admin/*', (c) => admin(c.req.raw, { session: c.get('session') }));
    const logged = (await (
      await app.request('http://localhost/login', { method: 'POST', headers: {} })
    ).json()) as { token: string; csrf: string };
    const headers = { authorization: `Bearer ${logged.token}`, 'x-csrf-token': logged.csrf };
    for (const path of [
      '/admin/api/users/%E0%A4%A/terminate',
      '/admin/api/users/%/terminate',
      '/admin/api/sessions/%ZZ/terminate',
    ]) {
      const res = await app.request(`http://localhost${path}`, { method: 'POST', headers });
      assert.equal(res.status, 400, path);
      assert.equal(((await res.json()) as { error: string }).error, 'bad_request');
    }
    // A user id no store can keep (a NUL character) is the client's mistake: 400, not 500.
    const nul = await app.request('http://localhost/admin/api/users/%00/terminate', {
      method: 'POST',
      headers,
    });
    assert.equal(nul.status, 400, '/admin/api/users/%00/terminate');
    // A form body far larger than any dashboard form is refused without being read whole.
    const huge = await app.request('http://localhost/admin/api/users/x/terminate', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(200_000)}`,
    });
    assert.equal(huge.status, 400);
    // A well-formed one still works.
    const ok = await app.request('http://localhost/admin/api/users/%C3%A9/terminate', {
      method: 'POST',
      headers,
    });
    assert.equal(ok.status, 200);
    await manager.close();
  });
});

describe('toFetchRequest: a Host header that names no host', () => {
  const nodeRequest = (host: string) =>
    ({
      headers: { host },
      url: '/admin',
      method: 'GET',
      readableEnded: true,
    }) as unknown as Parameters<typeof toFetchRequest>[0];

  it('throws BadRequestError, which every adapter answers with 400', () => {
    for (const host of ['a b', '[::1', 'a/b', 'user@host', 'host#x', 'host?x', 'a\\b']) {
      assert.throws(
        () => toFetchRequest(nodeRequest(host)),
        (err: unknown) => err instanceof BadRequestError,
        host,
      );
    }
    const answer = answerFor(new BadRequestError('the Host header is not a host'), null);
    assert.equal(answer?.status, 400);
    for (const host of ['localhost:3000', '127.0.0.1', '[::1]:8080', 'app.example.com'])
      assert.equal(new URL(toFetchRequest(nodeRequest(host)).url).pathname, '/admin', host);
  });
});
