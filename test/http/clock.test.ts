/**
 * The HTTP layer keeps time with the manager's clock: whether a request slid the session (and so
 * whether the session cookie's Max-Age is refreshed) is decided on one clock, fake or real.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { createSessionHttp, handleFetch } from '../../src/http/index.js';
import { createSessionManager } from '../../src/index.js';

const MINUTE = 60_000;

/** A Web app whose POST /login logs in and whose GET / only reads (and shows the CSRF token). */
function appWithClock(start: number) {
  let now = start;
  const manager = createSessionManager({
    cleanupInterval: false,
    touchAfter: MINUTE,
    idleTimeout: 30 * MINUTE,
    clock: () => now,
  });
  const http = createSessionHttp(manager, { mode: 'production' });
  const app = (req: Request) =>
    handleFetch(http, req, async (request, session) => {
      if (request.method === 'POST') await session.regenerate({ userId: 'ada' });
      return Response.json({ userId: session.userId, csrf: session.csrfToken });
    });
  return {
    manager,
    app,
    advance(ms: number) {
      now += ms;
    },
  };
}

async function logIn(app: (req: Request) => Promise<Response>): Promise<string> {
  const page = await app(new Request('https://app.example/'));
  const csrf = page.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrf: token } = (await page.json()) as { csrf: string };
  const login = await app(
    new Request('https://app.example/login', {
      method: 'POST',
      headers: { cookie: csrf, 'x-csrf-token': token },
    }),
  );
  assert.equal(login.status, 200);
  return login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

const sessionCookieSet = (res: Response) =>
  res.headers.getSetCookie().some((c) => c.startsWith('__Host-tessera='));

describe('the HTTP layer uses the manager clock', () => {
  it('a fake clock in the past: the request that slides the session refreshes its cookie', async () => {
    const { manager, app, advance } = appWithClock(Date.UTC(2001, 0, 1));
    const cookies = await logIn(app);
    advance(2 * MINUTE);
    const read = await app(new Request('https://app.example/', { headers: { cookie: cookies } }));
    assert.equal(((await read.json()) as { userId: string }).userId, 'ada');
    assert.ok(sessionCookieSet(read), 'the touch slid the session, so the cookie is refreshed');
    await manager.close();
  });

  it('a fake clock in the future: a request that does not slide the session sets no cookie', async () => {
    const { manager, app, advance } = appWithClock(Date.UTC(2099, 0, 1));
    const cookies = await logIn(app);
    advance(MINUTE / 2);
    const read = await app(new Request('https://app.example/', { headers: { cookie: cookies } }));
    assert.equal(((await read.json()) as { userId: string }).userId, 'ada');
    assert.deepEqual(read.headers.getSetCookie(), [], 'nothing changed, so no Set-Cookie');
    await manager.close();
  });
});
