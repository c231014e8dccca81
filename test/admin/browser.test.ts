/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), mounted in the demo
 * app: an admin and a normal user log in from two separate browser contexts; the admin finds the
 * user's session in the table, confirms, and terminates it; the user's next request lands on the
 * login page, which says an administrator ended the session. Every dashboard page fits a 360 px
 * phone and a 1280 px desktop with no horizontal scrolling, the chart's labels stay readable on the
 * phone, and the stat cards fill whole rows. Screenshots go to test-output/; with
 * TESSERA_UPDATE_SCREENSHOTS=1 also to docs/ for the README (admin.png, admin-sessions.png,
 * admin-phone.png).
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

const UA = {
  firefoxWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  android: PHONE_UA,
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
};

describe.skipIf(!haveChromium())('admin dashboard in chromium', () => {
  let folder: string;
  let store: SqlStore;
  let manager: SessionManager<DemoData>;
  let server: Server;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'tessera-admin-browser-'));
    store = createSqlStore({
      url: `sqlite:${join(folder, 'sessions.db')}`,
      table: `b_${randomBytes(5).toString('hex')}`,
    });
    manager = createSessionManager<DemoData>({ store, cleanupInterval: false });
    // A short chart window with frequent samples, so the test can watch the curve move.
    const app = createDemoApp({
      manager,
      mode: 'development',
      adminChart: { historyWindow: 20_000, sampleInterval: 400 },
    });
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

  const login = async (context: BrowserContext, username: string, password: string) => {
    const page = await context.newPage();
    await page.goto(`${origin}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${origin}/`);
    return page;
  };

  it('admin terminates a user session after confirming; the user is sent to the login page and told why', async () => {
    const adminContext = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      userAgent: DESKTOP_UA,
    });
    const userContext = await browser.newContext({ userAgent: UA.iphone });
    try {
      const alice = await login(userContext, 'alice', 'wonderland');
      assert.equal(await alice.locator('h1').textContent(), 'Hello, Alice');

      // A normal user may not open the dashboard.
      const forbidden = await alice.goto(`${origin}/admin/`);
      assert.equal(forbidden?.status(), 403);
      await alice.goto(`${origin}/`);

      const admin = await login(adminContext, 'admin', 'admin-demo');
      await admin.goto(`${origin}/admin/`);
      assert.match((await admin.locator('.cards').textContent()) ?? '', /2\s*Active sessions/);
      assert.equal(await admin.locator('svg[aria-label^="Active sessions"]').count(), 1);

      // More users arrive from other devices while the admin keeps the overview open: each reload
      // past the sample interval adds a point to the chart.
      const others = [
        ['user-bob', UA.firefoxWindows],
        ['user-carol', UA.android],
        ['user-dave', UA.ipad],
        ['user-bob', UA.edge],
        [null, UA.chromeMac],
      ] as const;
      for (const [userId, userAgent] of others) {
        await manager.create({ userId, userAgent, ip: '192.0.2.10' });
        await new Promise((r) => setTimeout(r, 450));
        await admin.reload();
      }
      assert.match((await admin.locator('.cards').textContent()) ?? '', /7\s*Active sessions/);
      assert.ok(
        (await admin.locator('svg[aria-label^="Active sessions"] circle').count()) >= 5,
        'one chart point per sample',
      );
      await screenshot(admin, 'admin-overview.png', 'admin.png');

      await admin.getByRole('link', { name: 'Sessions' }).click();
      const row = admin.locator('tr', { hasText: 'user-alice' });
      assert.equal(await row.count(), 1, "alice's session is in the table");
      const rowText = (await row.textContent()) ?? '';
      assert.match(rowText, /Mobile Safari/);
      assert.match(rowText, /iOS 17/);
      assert.match(rowText, /mobile/);
      assert.match(rowText, /127\.0\.0\.1/);
      await screenshot(admin, 'admin-sessions.png', 'admin-sessions.png');

      // The first click only asks; Cancel leaves everything as it was.
      await row.getByRole('button', { name: 'Terminate', exact: true }).click();
      await admin.waitForURL(/\/admin\/sessions\/terminate\?id=[0-9a-f]{64}/);
      assert.equal(await admin.locator('h2').first().textContent(), 'Terminate this session?');
      assert.match((await admin.locator('dl.facts').textContent()) ?? '', /user-alice/);
      await admin.getByRole('link', { name: 'Cancel' }).click();
      await admin.waitForURL(`${origin}/admin/sessions`);
      assert.equal(await admin.locator('tr', { hasText: 'user-alice' }).count(), 1);

      await admin
        .locator('tr', { hasText: 'user-alice' })
        .getByRole('button', { name: 'Terminate', exact: true })
        .click();
      await admin.getByRole('button', { name: 'Terminate session' }).click();
      await admin.waitForURL(/\/admin\/sessions\?done=session/);
      assert.match(
        (await admin.locator('.notice').textContent()) ?? '',
        /The session was terminated/,
      );
      assert.equal(await admin.locator('tr', { hasText: 'user-alice' }).count(), 0);

      // Alice's next request: her cookie names a terminated session, so she must log in again.
      await alice.goto(`${origin}/`);
      assert.equal(new URL(alice.url()).pathname, '/login');
      assert.equal(await alice.locator('h1').textContent(), 'Log in');
      assert.match(
        (await alice.locator('.flash.warn').textContent()) ?? '',
        /An administrator ended this session/,
      );

      // The audit trail shows why.
      await admin.getByRole('link', { name: 'Audit trail' }).click();
      const audit = admin.locator('tr', { hasText: 'user-alice' });
      assert.match((await audit.first().textContent()) ?? '', /admin/);

      // Ending your own session: the confirmation page warns first.
      await admin.getByRole('link', { name: 'Sessions' }).click();
      await admin
        .locator('tr', { hasText: 'this session' })
        .getByRole('button', { name: 'Terminate', exact: true })
        .click();
      assert.match(
        (await admin.locator('.own-session').textContent()) ?? '',
        /This is your own session/,
      );
      await admin.getByRole('button', { name: 'Terminate my own session' }).click();
      await admin.waitForURL(`${origin}/login`);
      assert.match(
        (await admin.locator('.flash.warn').textContent()) ?? '',
        /An administrator ended this session/,
      );
    } finally {
      await adminContext.close();
      await userContext.close();
    }
  }, 90_000);

  /** The dashboard's pages, both confirmation pages included (for a session of bob's it makes). */
  async function dashboardPaths(): Promise<string[]> {
    const bob = await manager.create({
      userId: 'user-bob',
      userAgent: UA.edge,
      ip: '198.51.100.23',
    });
    return [
      '/admin/',
      '/admin/sessions',
      '/admin/sessions?user=user-bob',
      '/admin/audit',
      `/admin/sessions/terminate?id=${bob.session.id}`,
      '/admin/users/terminate?userId=user-bob',
    ];
  }

  async function adminAt(viewport: { width: number; height: number }, userAgent: string) {
    const context = await browser.newContext({ viewport, userAgent });
    const page = await login(context, 'admin', 'admin-demo');
    return { context, page };
  }

  it('every page fits a 360 px phone; the chart stays readable there', async () => {
    const { context, page } = await adminAt(VIEWPORTS.phone, PHONE_UA);
    try {
      for (const path of await dashboardPaths()) {
        await page.goto(origin + path);
        assert.equal(await page.locator('h1').first().textContent(), 'Tessera admin', path);
        await assertFits(page, path);
      }
      await page.goto(`${origin}/admin/`);
      // The line chart's time labels keep their size, and the visible ones do not overlap.
      const ticks = await page.locator('svg.plot text.tick').evaluateAll((nodes) =>
        nodes
          .map((n) => ({ box: n.getBoundingClientRect(), size: getComputedStyle(n).fontSize }))
          .filter((t) => t.box.width > 0)
          .map((t) => ({ left: t.box.left, right: t.box.right, size: Number.parseFloat(t.size) })),
      );
      assert.ok(ticks.length >= 2, `time labels are shown (${ticks.length})`);
      for (const t of ticks) assert.ok(t.size >= 11, `time label at ${t.size} px`);
      for (let i = 1; i < ticks.length; i++)
        assert.ok(ticks[i]!.left > ticks[i - 1]!.right, 'time labels do not overlap');
      const plot = await page.locator('svg.plot').boundingBox();
      assert.ok(plot && plot.width >= 250 && plot.x + plot.width <= VIEWPORTS.phone.width);
      // The bar charts scale down but their labels stay above 9 px.
      const barLabel = await page
        .locator('svg[aria-label="By browser"] text.label')
        .first()
        .boundingBox();
      assert.ok(barLabel && barLabel.height >= 9, `bar label ${barLabel?.height} px high`);
      await screenshot(page, 'admin-phone.png', 'admin-phone.png');
      await page.goto(`${origin}/admin/sessions`);
      await screenshot(page, 'admin-sessions-phone.png');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('every page fits 1280 px; the stat cards fill one row; the header links back and logs out', async () => {
    const { context, page } = await adminAt(VIEWPORTS.desktop, DESKTOP_UA);
    try {
      for (const path of await dashboardPaths()) {
        await page.goto(origin + path);
        await assertFits(page, path);
      }
      await page.goto(`${origin}/admin/`);
      const tops = await page
        .locator('.cards .card')
        .evaluateAll((cards) => cards.map((c) => Math.round(c.getBoundingClientRect().top)));
      assert.equal(tops.length, 8);
      assert.equal(new Set(tops).size, 1, `all eight cards in one row: ${tops}`);
      // The analytics: the SQL store's ages and logins (this test's admin logged in just now).
      assert.deepEqual(await page.locator('.figures .card .k').allTextContents(), [
        'Median session age',
        '95th percentile age',
        'Logins, last hour',
      ]);
      const logins = await page.locator('.figures .card .n').nth(2).textContent();
      assert.ok(Number(logins) >= 1, `logins in the last hour: ${logins}`);
      const columns = page.locator('svg[aria-label="Logins per hour (UTC, last 24 hours)"] rect');
      assert.equal(await columns.count(), 24);
      assert.doesNotMatch((await page.locator('p.health').textContent()) ?? '', / \./);

      await page.getByRole('link', { name: 'Back to the demo' }).click();
      await page.waitForURL(`${origin}/`);
      await page.goto(`${origin}/admin/`);
      await page.locator('header').getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${origin}/login`);
      assert.match((await page.locator('.flash').textContent()) ?? '', /You have been logged out/);
    } finally {
      await context.close();
    }
  }, 60_000);

  /** A page's text, for messages. */
  async function text(page: Page) {
    return (await page.locator('main').textContent()) ?? '';
  }

  it('a stale CSRF token inside /admin gets the dashboard’s own “Request refused” page', async () => {
    const { context, page } = await adminAt(VIEWPORTS.phone, PHONE_UA);
    try {
      const [path] = (await dashboardPaths()).filter((p) => p.startsWith('/admin/users/'));
      await page.goto(origin + path!);
      // Another tab logs out and in again: this page's token is now stale.
      await page
        .locator('main input[name="_csrf"]')
        .first()
        .evaluate((input) => {
          (input as HTMLInputElement).value = 'stale-token-from-an-old-tab';
        });
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/admin/users/terminate')),
        page.getByRole('button', { name: /^Terminate \d+ session/ }).click(),
      ]);
      assert.equal(response.status(), 403);
      assert.equal(await page.locator('h1').first().textContent(), 'Tessera admin');
      assert.match(await text(page), /Request refused/);
      await assertFits(page, 'the refusal page');
      const bob = await store.list({ userId: 'user-bob', limit: 10 }, Date.now());
      assert.ok(bob.total > 0, 'nothing was terminated');
    } finally {
      await context.close();
    }
  }, 60_000);
});
