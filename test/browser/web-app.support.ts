/**
 * For the web application's browser tests: the built application (rebuilt when a source under
 * web/ is newer than the build), Debian's Chromium with a fresh profile, and screenshots at
 * desktop and phone widths under build/screenshots.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { SPA_DIR } from '../../src/web/spa.js';
import { launchChromium, type LaunchedChromium } from '../support/chromium.js';

const root = path.resolve(import.meta.dirname, '..', '..');
export const SCREENSHOT_DIR = path.join(root, 'build', 'screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** `npm run build` builds it (CI's npm start does); this covers a test run straight after editing web/. */
export async function ensureWebBuilt(): Promise<void> {
  const index = path.join(SPA_DIR, 'index.html');
  let built = 0;
  try {
    built = statSync(index).mtimeMs;
  } catch {
    built = 0;
  }
  if (built > newestMtime(path.join(root, 'web'))) return;
  await build({ configFile: path.join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
}

export interface WebBrowser extends LaunchedChromium {
  /** Script errors and policy violations the page reported. */
  problems: string[];
}

export async function openBrowser(): Promise<WebBrowser> {
  const browser = await launchChromium(DESKTOP);
  const { page } = browser;
  // Well under the test timeout, so a step that never happens fails with its own message.
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    // A refused or missing resource is an expected answer (signed out, no right); anything else is a fault.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { ...browser, problems };
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * The current screen at both widths, as `<name>-desktop.png` and `<name>-phone.png`; returns what
 * sticks out sideways at phone width (wide tables scroll inside their own box, the page never does).
 */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize(PHONE);
  const overflowing = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    const wide = Array.from(document.querySelectorAll('body *')).filter((element) => element.getBoundingClientRect().right > width + 1);
    return [`page ${document.documentElement.scrollWidth}px wide`, ...wide.filter((element) => !wide.includes(element.parentElement!)).map((element) => `${element.tagName.toLowerCase()}.${element.className}`)];
  });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  return overflowing.map((element) => `${name}: ${element}`);
}
