/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), mounted in the demo
 * app: an admin and a normal user log in from two separate browser contexts; the admin finds the
 * user's session in the table and terminates it; the user's next request lands on the login page.
 * Screenshots go to test-output/ (git-ignored); with TESSERA_UPDATE_SCREENSHOTS=1 the overview and
 * sessions pages are also written to docs/admin.png and docs/admin-sessions.png for the README.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDemoApp, type DemoData } from '../../demo/app.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionManager } from '../../src/index.js';
import { createSqlStore, type SqlStore } from '../../src/stores/sql/index.js';
import { IN_CI } from '../support/services.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const message = `${CHROMIUM} is missing. Install it with: apt-get install -y chromium`;
  if (IN_CI) throw new Error(`${message} (CI=true: a missing browser is a failure, not a skip)`);
  console.warn(`[skipped] ${message}`);
}

const OUTPUT = resolve('test-output');
const UPDATE_DOCS = process.env.TESSERA_UPDATE_SCREENSHOTS === '1';
const UA = {
  firefoxWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  android:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
};

describe.skipIf(!haveChromium)('admin dashboard in chromium', () => {
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    await manager?.close();
    await store?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('admin terminates a user session; the user is sent to the login page', async () => {
    const adminContext = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    });
    const userContext = await browser.newContext({
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    });
    try {
      const login = async (context: typeof adminContext, username: string, password: string) => {
        const page = await context.newPage();
        await page.goto(`${origin}/login`);
        await page.getByLabel('Username').fill(username);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForURL(`${origin}/`);
        return page;
      };
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
      mkdirSync(OUTPUT, { recursive: true });
      await admin.screenshot({ path: join(OUTPUT, 'admin-overview.png'), fullPage: true });
      if (UPDATE_DOCS) copyFileSync(join(OUTPUT, 'admin-overview.png'), resolve('docs/admin.png'));

      await admin.getByRole('link', { name: 'Sessions' }).click();
      const row = admin.locator('tr', { hasText: 'user-alice' });
      assert.equal(await row.count(), 1, "alice's session is in the table");
      const rowText = (await row.textContent()) ?? '';
      assert.match(rowText, /Mobile Safari/);
      assert.match(rowText, /iOS 17/);
      assert.match(rowText, /mobile/);
      assert.match(rowText, /127\.0\.0\.1/);
      await admin.screenshot({ path: join(OUTPUT, 'admin-sessions.png'), fullPage: true });
      if (UPDATE_DOCS)
        copyFileSync(join(OUTPUT, 'admin-sessions.png'), resolve('docs/admin-sessions.png'));

      await row.getByRole('button', { name: 'Terminate', exact: true }).click();
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

      // The audit trail shows why.
      await admin.getByRole('link', { name: 'Audit trail' }).click();
      const audit = admin.locator('tr', { hasText: 'user-alice' });
      assert.match((await audit.first().textContent()) ?? '', /admin/);
    } finally {
      await adminContext.close();
      await userContext.close();
    }
  }, 60_000);
});
