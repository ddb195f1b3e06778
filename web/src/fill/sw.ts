/**
 * The fill pages' service worker (served at /fill/sw.js, scope /fill/): it makes the form-filling
 * page open without a connection. At install it stores the page and every file it loads, the
 * form engine included (the build writes that list into this script); files under
 * /assets/ are content-hashed, so they are answered from that store first. Opening a fill address
 * asks the network first (so a new release is seen) and falls back to the stored page. The forms
 * themselves are cached by the page as it fetches them (openrosa.ts); submissions are never
 * touched here: the page's outbox sends them.
 *
 * This file is a classic worker script with no imports; the few worker types it uses are declared
 * here, since the web application's type library is the page's (DOM), not a worker's.
 */
export {};

interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface WorkerScope {
  readonly location: Location;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
}
declare const self: WorkerScope;
declare const FILL_PRECACHE: string;

const PRECACHE = JSON.parse(FILL_PRECACHE) as string[];
const SHELL = '/fill/';
const PREFIX = 'fieldkeep-fill-app-';
/** Named after the files it holds, so a release with other files gets a cache of its own. */
const APP_CACHE = PREFIX + hashOf(PRECACHE.join('\n'));

function hashOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(36);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(APP_CACHE);
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== APP_CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.startsWith(SHELL)) {
    event.respondWith(page(request));
    return;
  }
  if (url.pathname.startsWith('/assets/') || PRECACHE.includes(url.pathname)) event.respondWith(stored(request));
});

/** The page from the network (kept as the new stored copy), or the stored copy when there is none. */
async function page(request: Request): Promise<Response> {
  const cache = await caches.open(APP_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(SHELL, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(SHELL);
    if (kept === undefined) throw error;
    return kept;
  }
}

/** A file of the release: stored ones first (their names change when their content does). */
async function stored(request: Request): Promise<Response> {
  const cache = await caches.open(APP_CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept !== undefined) return kept;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.startsWith('/assets/')) await cache.put(request, response.clone());
  return response;
}
