/**
 * For the web application's browser tests: the built application (rebuilt when a source under
 * web/ is newer than the build), Debian's Chromium with a fresh profile, and screenshots at
 * desktop and phone widths under build/screenshots.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
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
  // Vitest runs with NODE_ENV=test, which Vite and Vue read as a development build: the tests
  // must load what `npm run build` ships (Vue behaves differently in production builds).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
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

/** `screenshot`, and whether the page is also wider than a 360 px screen, the narrowest phone served. */
export async function screenshotAndCheck360(page: Page, name: string): Promise<string[]> {
  const problems = await screenshot(page, name);
  const wide = await overflowAt360(page);
  return wide > 0 ? [...problems, `${name}: ${wide}px too wide at 360px`] : problems;
}

/** How wide the page is past a 360 px screen (0 when it fits); the viewport is set back to desktop. */
async function overflowAt360(page: Page): Promise<number> {
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize(DESKTOP);
  return wide;
}

/** Signs in through the form (with the second step's code when given) and waits for the projects list. */
export async function signInAs(page: Page, baseUrl: string, username: string, password: string, code?: () => string, onCodeStep?: () => Promise<void>): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (code !== undefined) {
    await page.getByLabel('Code').waitFor();
    await onCodeStep?.();
    await page.getByLabel('Code').fill(code());
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
}

/** Signs out from the main navigation and waits for the sign-in form. */
export async function signOutOf(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** A plain PNG of one colour, as a phone's photo stand-in: pages show it, and its bytes can be compared after upload. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => rgb[i % 3]!)]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}
