/**
 * The demo in a real browser (Debian's chromium through playwright-core), in-process on SQLite with
 * a clock the test moves: a user signed out by another device, by "log out everywhere else", by an
 * administrator, by the per-user limit, by inactivity and by the absolute lifetime lands on the
 * login page with a sentence saying which. Every page fits a 360 px phone and a 1280 px desktop;
 * the CSRF refusal is a page in the demo's layout. Screenshots: test-output/, and docs/demo.png and
 * docs/demo-phone.png with TESSERA_UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDemoApp, type DemoData } from '../../demo/app.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionManager } from '../../src/index.js';
import { createSqlStore, type SqlStore } from '../../src/stores/sql/index.js';
import {
  assertFits,
  DESKTOP_UA,
  haveChromium,
  launchChromium,
  PHONE_UA,
  screenshot,
  VIEWPORTS,
} from '../support/browser.js';

const MINUTE = 60_000;

describe.skipIf(!haveChromium())('demo app in chromium', () => {
  let folder: string;
  let store: SqlStore;
  let manager: SessionManager<DemoData>;
  let server: Server;
  let browser: Browser;
  let origin: string;
  /** The manager's clock: the test moves it; the browser's cookies do not notice. */
  let now = Date.now();

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'tessera-demo-browser-'));
    store = createSqlStore({
      url: `sqlite:${join(folder, 'demo.db')}`,
      table: `d_${randomBytes(5).toString('hex')}`,
    });
    manager = createSessionManager<DemoData>({
      store,
      cleanupInterval: false,
      idleTimeout: '30m',
      absoluteTimeout: '2h',
      maxSessionsPerUser: 3,
      clock: () => now,
    });
    const app = createDemoApp({ manager, mode: 'development' });
    server = await new Promise<Server>((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    const address = server.address();
    origin = `http://localhost:${typeof address === 'object' && address ? address.port : 0}`;
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    await manager?.close();
    await store?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const contexts: BrowserContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
  });

  async function device(kind: keyof typeof VIEWPORTS): Promise<Page> {
    const context = await browser.newContext({
      viewport: VIEWPORTS[kind],
      userAgent: kind === 'phone' ? PHONE_UA : DESKTOP_UA,
    });
    contexts.push(context);
    return context.newPage();
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${origin}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${origin}/`);
  }

  /** Opens the home page and expects the login page, saying `why`. */
  async function expectSignedOut(page: Page, why: RegExp): Promise<void> {
    await page.goto(`${origin}/`);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match((await page.locator('.flash.warn').textContent()) ?? '', why);
    // Said once: a reload of the login page no longer carries it.
    await page.reload();
    assert.equal(await page.locator('.flash.warn').count(), 0);
  }

  it('tells a signed-out user why: another device, everywhere else, an administrator, the limit, inactivity, the lifetime', async () => {
    const laptop = await device('desktop');
    const phone = await device('phone');
    await logIn(laptop, 'alice', 'wonderland');

    // Revoked from another device.
    await logIn(phone, 'alice', 'wonderland');
    await laptop.goto(`${origin}/devices`);
    await laptop
      .locator('tr', { hasText: 'Android' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await expectSignedOut(phone, /^You were signed out from another device\.$/);

    // "Log out everywhere else" on the laptop.
    await logIn(phone, 'alice', 'wonderland');
    await laptop.goto(`${origin}/devices`);
    await laptop.getByRole('button', { name: 'Log out everywhere else' }).click();
    await expectSignedOut(phone, /another device that logged out everywhere else/);

    // An administrator, through the dashboard's confirmation page.
    await logIn(phone, 'alice', 'wonderland');
    const admin = await device('desktop');
    await logIn(admin, 'admin', 'admin-demo');
    await admin.goto(`${origin}/admin/sessions?user=user-alice`);
    await admin
      .locator('tr', { hasText: 'Android' })
      .getByRole('button', { name: 'Terminate', exact: true })
      .click();
    await admin.getByRole('button', { name: 'Terminate session' }).click();
    await admin.waitForURL(/done=session/);
    await expectSignedOut(phone, /^An administrator ended this session\./);

    // The per-user limit (3): the phone is the least recently active when two more log in.
    await logIn(phone, 'alice', 'wonderland');
    now += 2 * MINUTE;
    await laptop.goto(`${origin}/`); // the laptop is seen after the phone
    for (let i = 0; i < 2; i++) {
      now += 1000;
      await manager.create({ userId: 'user-alice', userAgent: DESKTOP_UA });
    }
    await expectSignedOut(phone, /at most 3 sessions can be open at once/);

    // Inactivity: 31 minutes without a request.
    await logIn(phone, 'alice', 'wonderland');
    now += 31 * MINUTE;
    await expectSignedOut(phone, /^Signed out after 30 minutes of inactivity\.$/);

    // The absolute lifetime (2 hours), however active.
    await logIn(phone, 'alice', 'wonderland');
    for (let elapsed = 0; elapsed < 2 * 60 * MINUTE - 25 * MINUTE; elapsed += 25 * MINUTE) {
      now += 25 * MINUTE;
      await phone.goto(`${origin}/`);
      assert.equal(new URL(phone.url()).pathname, '/', 'active, so still logged in');
    }
    now += 25 * MINUTE;
    await expectSignedOut(phone, /maximum lifetime of 2 hours/);
  }, 120_000);

  /** A stale CSRF token (another tab logged out and in) in the notes form: the refusal page. */
  async function refusal(page: Page): Promise<void> {
    await page.goto(`${origin}/`);
    await page.locator('form[action="/notes"] input[name="_csrf"]').evaluate((input) => {
      (input as HTMLInputElement).value = 'stale-token-from-an-old-tab';
    });
    await page.getByLabel('Add a note').fill('lost?');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/notes')),
      page.getByRole('button', { name: 'Save in session' }).click(),
    ]);
    assert.equal(response.status(), 403);
    assert.equal(await page.locator('header .brand').textContent(), 'Tessera demo');
    assert.match(
      (await page.locator('.refusal h1').textContent()) ?? '',
      /missing or invalid CSRF token/,
    );
    await assertFits(page, 'the CSRF refusal');
    await page.getByRole('link', { name: 'Back to the home page' }).click();
    await page.waitForURL(`${origin}/`);
  }

  for (const kind of ['phone', 'desktop'] as const) {
    it(`every page fits the ${VIEWPORTS[kind].width} px ${kind}; the refusal is a demo page`, async () => {
      const page = await device(kind);
      await page.goto(`${origin}/login`);
      await assertFits(page, '/login');
      await page.goto(`${origin}/nowhere`);
      await assertFits(page, 'the 404 page');

      await manager.terminateUser('user-bob', { reason: 'admin' }); // a fresh start per viewport
      await logIn(page, 'bob', 'builder');
      // Other devices of bob's, so the device list has rows to revoke.
      for (const ua of [
        PHONE_UA,
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
      ])
        await manager.create({
          userId: 'user-bob',
          userAgent: ua,
          ip: '2001:db8:85a3::8a2e:370:7334',
        });
      await page
        .getByLabel('Add a note')
        .fill(
          'A note long enough to wrap on a phone without pushing the page sideways: https://example.com/a/very/long/address/that/has/no/spaces/at/all',
        );
      await page.getByRole('button', { name: 'Save in session' }).click();
      for (const path of ['/', '/devices', '/admin']) {
        await page.goto(origin + path);
        await assertFits(page, path);
      }
      if (kind === 'desktop') {
        // The badge stays on one line.
        const badge = page.locator('.badge', { hasText: 'this device' });
        await page.goto(`${origin}/devices`);
        const { height, font } = await badge.evaluate((el) => ({
          height: el.getBoundingClientRect().height,
          font: Number.parseFloat(getComputedStyle(el).fontSize),
        }));
        assert.ok(height < 2 * font, `"this device" on one line (${height} px high)`);
      }
      await page.goto(`${origin}/devices`);
      await screenshot(
        page,
        `demo-devices-${kind}.png`,
        kind === 'phone' ? 'demo-phone.png' : 'demo.png',
      );
      await refusal(page);
      await screenshot(page, `demo-home-${kind}.png`);
    }, 60_000);
  }
});

describe.skipIf(!haveChromium())('demo app in chromium, on the real clock', () => {
  it('a browser back after its session idled out is told so: the cookie outlives the session', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-demo-idle-'));
    const store = createSqlStore({
      url: `sqlite:${join(folder, 'demo.db')}`,
      table: `d_${randomBytes(5).toString('hex')}`,
    });
    const manager = createSessionManager<DemoData>({
      store,
      cleanupInterval: false,
      idleTimeout: '2s',
    });
    const app = createDemoApp({ manager, mode: 'development' });
    const server = await new Promise<Server>((done) => {
      const s = app.listen(0, '127.0.0.1', () => done(s));
    });
    const address = server.address();
    const origin = `http://localhost:${typeof address === 'object' && address ? address.port : 0}`;
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: VIEWPORTS.phone })).newPage();
      await page.goto(`${origin}/login`);
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('wonderland');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${origin}/`);
      // Past the idle timeout by the browser's own clock: its cookie must still be there.
      await new Promise((r) => setTimeout(r, 3000));
      await page.goto(`${origin}/`);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.match(
        (await page.locator('.flash.warn').textContent()) ?? '',
        /^Signed out after 2 seconds of inactivity\.$/,
      );
    } finally {
      await browser.close();
      await new Promise((done) => server.close(done));
      await manager.close();
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
