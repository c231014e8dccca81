/**
 * Client-side sessions in real Chromium (Debian's, through playwright-core), through every
 * adapter: 9 KB of session data round-trips as four sealed chunk cookies the browser accepts
 * (it drops any cookie over its own 4096-byte limit, so a chunk too large would lose the
 * session), chunks are added as the data grows and cleared as it shrinks, and logout clears them
 * all. Runs under CI=true (a missing browser is a failure there).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SessionManager } from '../../../src/core/manager-api.js';
import { createSessionManager } from '../../../src/index.js';
import { createCookieStore } from '../../../src/stores/cookie/index.js';
import { haveChromium, launchChromium } from '../../support/browser.js';
import type { RunningApp } from '../http-client.js';
import { ADAPTERS, startApp } from './apps.js';

type Who = { id: string | null; userId: string | null; data: Record<string, unknown> };

/** A same-origin request from the page, with the CSRF token its script reads from the cookie. */
async function send(
  page: Page,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ([m, p]) => {
      const csrf = document.cookie
        .split('; ')
        .find((c) => c.startsWith('tessera.csrf='))
        ?.slice('tessera.csrf='.length);
      const res = await fetch(p, {
        method: m,
        headers: { accept: 'application/json', 'x-csrf-token': csrf ?? '' },
      });
      return { status: res.status, body: await res.json() };
    },
    [method, path] as const,
  );
}

/** The session's chunk cookies the browser holds, in chunk order, with their sizes. */
async function chunkCookies(context: BrowserContext): Promise<{ name: string; size: number }[]> {
  return (await context.cookies())
    .filter((c) => c.name === 'tessera' || /^tessera\.\d+$/.test(c.name))
    .map((c) => ({ name: c.name, size: c.name.length + c.value.length }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

describe.skipIf(!haveChromium())('client-side sessions in chromium', () => {
  let browser: Browser;
  const running: RunningApp[] = [];
  const managers: SessionManager[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(running.map((a) => a.close()));
    await Promise.all(managers.map((m) => m.close()));
  });

  it.each(ADAPTERS)(
    '%s: 9 KB of data round-trips in chunk cookies; chunks grow, shrink, and logout clears them',
    async (adapter) => {
      const cookies = createCookieStore({ secrets: [randomBytes(32).toString('hex')] });
      const manager = createSessionManager({
        store: cookies.sessionStore(),
        cleanupInterval: false,
      });
      managers.push(manager);
      const app = await startApp(adapter, manager, { mode: 'development' });
      running.push(app);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${app.url}/whoami`);
        assert.equal((await send(page, 'POST', '/login?user=ivan')).status, 200);
        assert.deepEqual(
          (await chunkCookies(context)).map((c) => c.name),
          ['tessera'],
        );

        const grow = await send(page, 'POST', '/big?bytes=9216');
        assert.equal(grow.status, 200);
        const big = await chunkCookies(context);
        assert.deepEqual(
          big.map((c) => c.name),
          ['tessera', 'tessera.1', 'tessera.2', 'tessera.3'],
          'the browser kept every chunk',
        );
        for (const c of big) assert.ok(c.size <= 4096, `${c.name} is ${c.size} bytes`);
        const back = (await send(page, 'GET', '/whoami')).body as Who;
        assert.equal(back.userId, 'ivan');
        assert.equal((back.data.big as string).length, 9216, 'the browser sent every chunk back');
        // A page load (not a script's fetch) carries them too.
        await page.goto(`${app.url}/whoami`);
        const loaded = JSON.parse((await page.textContent('body')) ?? '{}') as Who;
        assert.equal((loaded.data.big as string).length, 9216);

        await send(page, 'POST', '/big?bytes=3000');
        assert.deepEqual(
          (await chunkCookies(context)).map((c) => c.name),
          ['tessera', 'tessera.1'],
          'the chunks a smaller session no longer uses are gone',
        );
        await send(page, 'POST', '/drop?key=big');
        assert.deepEqual(
          (await chunkCookies(context)).map((c) => c.name),
          ['tessera'],
        );
        await send(page, 'POST', '/big?bytes=9216');
        assert.equal((await chunkCookies(context)).length, 4);

        assert.equal((await send(page, 'POST', '/logout')).status, 200);
        assert.deepEqual(await chunkCookies(context), [], 'logout cleared every chunk');
        assert.equal(((await send(page, 'GET', '/whoami')).body as Who).id, null);
      } finally {
        await context.close();
      }
    },
    60_000,
  );
});
