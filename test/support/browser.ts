/**
 * Headless Chromium for the page tests (Debian's /usr/bin/chromium through playwright-core), the
 * two viewports every page must fit (a 360 px phone and a 1280 px desktop), and the check that a
 * page needs no horizontal scrolling there. Screenshots go to test-output/ (git-ignored), and to
 * docs/ for the README when TESSERA_UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { IN_CI } from './services.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser is there; under CI a missing browser throws instead of skipping. */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `${CHROMIUM} is missing. Install it with: apt-get install -y chromium`;
  if (IN_CI) throw new Error(`${message} (CI=true: a missing browser is a failure, not a skip)`);
  console.warn(`[skipped] ${message}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

export const VIEWPORTS = {
  phone: { width: 360, height: 740 },
  desktop: { width: 1280, height: 860 },
} as const;

export const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
export const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** The page is no wider than its viewport: nothing sticks out, nothing scrolls sideways. */
export async function assertFits(page: Page, what: string): Promise<void> {
  const { scrollWidth, viewport } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  assert.ok(
    scrollWidth <= viewport,
    `${what} at ${viewport} px is ${scrollWidth} px wide (horizontal scrolling)`,
  );
}

/** Every page of `paths` fits the page's current viewport. */
export async function assertAllFit(page: Page, origin: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    await page.goto(origin + path);
    await assertFits(page, path);
  }
}

const OUTPUT = resolve('test-output');
const UPDATE_DOCS = process.env.TESSERA_UPDATE_SCREENSHOTS === '1';

/** A full-page screenshot in test-output/, copied to docs/<docsName> when updating the README's. */
export async function screenshot(page: Page, name: string, docsName?: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  const file = join(OUTPUT, name);
  await page.screenshot({ path: file, fullPage: true });
  if (UPDATE_DOCS && docsName) copyFileSync(file, resolve('docs', docsName));
}
