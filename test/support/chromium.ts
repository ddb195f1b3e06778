/**
 * Headless Chromium for browser tests and benchmarks: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), a fresh profile each time, and Fieldkeep's
 * browser module bundled by esbuild for the page. The page is served at the test server's own
 * origin (intercepted, so the server needs no test route), so the module's API calls are
 * same-origin as in the product.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '..', '..');
/** The flags this machine's closed network needs: no background connections, no QUIC, no GPU. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface LaunchedChromium {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Debian's Chromium with a fresh profile, removed again on close. */
export async function launchChromium(viewport?: { width: number; height: number }): Promise<LaunchedChromium> {
  const profile = mkdtempSync(path.join(tmpdir(), 'fieldkeep-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...(viewport ? { viewport } : {}) });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A module as one script defining `window[globalName]` (by default src/crypto/browser as
 * `window.Fieldkeep`); esbuild's browser platform fails on any Node built-in.
 */
export async function bundleBrowserModule(entry = 'src/crypto/browser/index.ts', globalName = 'Fieldkeep'): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export type BrowserPage = LaunchedChromium;

/** Opens `<origin>/__browser-test/` with the bundle loaded (it must define `window[globalName]`). */
export async function openModulePage(origin: string, bundle: string, globalName = 'Fieldkeep'): Promise<BrowserPage> {
  const browser = await launchChromium();
  const { page } = browser;
  const pageUrl = `${origin}/__browser-test/`;
  await page.route(`${pageUrl}**`, (route) =>
    route.request().url().endsWith('/bundle.js')
      ? route.fulfill({ contentType: 'text/javascript', body: bundle })
      : route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>Fieldkeep module</title><script src="bundle.js"></script>' }),
  );
  await page.goto(pageUrl);
  await page.waitForFunction((name) => name in window, globalName);
  return browser;
}
