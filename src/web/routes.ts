/**
 * Serves the web application at `/`: the page for every address the application routes itself
 * (so a reload or a shared link works), its hashed assets cached for a year, and a policy stricter
 * than the API's default (no inline styles either: the build emits every style as a file).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App, AppContext } from '../server/context.js';
import { tileOrigin } from '../config/config.js';
import { AppError } from '../server/errors.js';
import { contentSecurityPolicy } from '../server/security-headers.js';
import { loadSpa, type SpaFile } from './spa.js';
import { storageOf } from './storage.js';

/** The application's own addresses; /p/… and /admin/… hold the project and administration screens. */
export const SPA_PAGES = ['/', '/sign-in', '/reset-password', '/account', '/where-is-my-data', '/p/*', '/admin', '/admin/*'] as const;

/** No inline styles and no `data:` fonts (the build emits every style and font as a file); media from `blob:` URLs. */
const SPA_DIRECTIVES = { 'font-src': "'self'", 'style-src': "'self'", 'media-src': "'self' blob:" };

export const SPA_CONTENT_SECURITY_POLICY = contentSecurityPolicy(SPA_DIRECTIVES);

/**
 * The application's policy for this instance: the map's tiles are images from the origin the
 * operator configured (FIELDKEEP_MAP_TILE_URL), so that origin, and only that one, joins
 * `img-src`; without the setting, or with tiles on this server, the policy is the one above.
 */
export function spaContentSecurityPolicy(tileUrl: string | null): string {
  const origin = tileUrl === null ? null : tileOrigin(tileUrl);
  if (origin === null || origin === undefined) return SPA_CONTENT_SECURITY_POLICY;
  return contentSecurityPolicy({ ...SPA_DIRECTIVES, 'img-src': `'self' data: blob: ${origin}` });
}

/**
 * The form-filling page (/fill/…) only: ODK Web Forms compiles its XPath parser from WebAssembly
 * (`'wasm-unsafe-eval'`, which allows compiling WebAssembly and nothing else; it is loaded from a
 * `data:` URL), injects its styles and fonts from script (`'unsafe-inline'` styles, `data:`
 * fonts, as the default policy has them), and shows chosen photos as `blob:` URLs. Scripts stay
 * same-origin, with no eval.
 */
export const FILL_CONTENT_SECURITY_POLICY = contentSecurityPolicy({
  'connect-src': "'self' data: blob:",
  'media-src': "'self' blob:",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'worker-src': "'self'",
});

const IMMUTABLE = 'public, max-age=31536000, immutable';

const notBuilt =
  'The web application has not been built. Run `npm run build` (npm start does it for you); the API works meanwhile at /api/docs.\n';

const Storage = Type.Object({
  database: Type.String({ description: 'The database, its password masked.' }),
  attachments: Type.String({ description: 'The directory holding attachments and form files.' }),
  backups: Type.Object({
    directory: Type.String(),
    schedule: Type.Union([Type.String(), Type.Null()]),
    encrypted: Type.Boolean({ description: 'Archives are encrypted to recipients or a passphrase.' }),
  }),
});

const InstanceLinks = Type.Object({
  privacyUrl: Type.Union([Type.String(), Type.Null()], { description: 'The privacy policy (FIELDKEEP_PRIVACY_URL); null when not set.' }),
  termsUrl: Type.Union([Type.String(), Type.Null()], { description: 'The terms of use (FIELDKEEP_TERMS_URL); null when not set.' }),
  mapTileUrl: Type.Union([Type.String(), Type.Null()], { description: "The map's base layer, an XYZ template with {z}, {x} and {y} (FIELDKEEP_MAP_TILE_URL); null when the map has none." }),
  mapTileAttribution: Type.Union([Type.String(), Type.Null()], { description: 'The credit shown under the base layer (FIELDKEEP_MAP_TILE_ATTRIBUTION); null when not set.' }),
});

export function webRoutes(app: App, ctx: AppContext): void {
  // Public: the sign-in page shows these links before anyone is signed in.
  app.get(
    '/api/v1/instance/links',
    { config: { permission: 'public' }, schema: { tags: ['instance'], summary: "The instance's privacy policy and terms of use, and the map's base layer, when the operator has set them.", response: { 200: InstanceLinks } } },
    async () => ({ ...ctx.config.links, mapTileUrl: ctx.config.map.tileUrl, mapTileAttribution: ctx.config.map.tileAttribution }),
  );

  app.get(
    '/api/v1/instance/storage',
    {
      config: { permission: 'authenticated' },
      schema: { tags: ['instance'], summary: 'Where this instance keeps its data: database, attachments, backups ("Where is my data?").', response: { 200: Storage } },
    },
    async () => storageOf(ctx.config),
  );

  const spa = loadSpa();
  const policy = spaContentSecurityPolicy(ctx.config.map.tileUrl);
  const hidden = { schema: { hide: true }, config: { permission: 'public' as const } };

  for (const page of SPA_PAGES) {
    app.get(page, hidden, async (request, reply) => {
      const loaded = await spa;
      if (loaded === null) return reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(notBuilt);
      // The page names the current assets, so it is revalidated on every load (cheap: an ETag).
      return sendFile(request, reply, loaded.index, 'no-cache', policy);
    });
  }

  // The form-filling page: its own page and policy, its service worker (fixed address, always
  // revalidated so a release reaches it) and its web app manifest.
  for (const page of ['/fill', '/fill/*']) {
    app.get(page, hidden, async (request, reply) => {
      const fill = (await spa)?.files.get('/fill.html');
      if (fill === undefined) return reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(notBuilt);
      return sendFile(request, reply, fill, 'no-cache', FILL_CONTENT_SECURITY_POLICY);
    });
  }
  for (const [path, file] of [['/fill/sw.js', '/fill/sw.js'], ['/fill/manifest.webmanifest', '/fill.webmanifest']] as const) {
    app.get(path, hidden, async (request, reply) => {
      const found = (await spa)?.files.get(file);
      if (found === undefined) throw new AppError('route.not_found');
      return sendFile(request, reply, found, 'no-cache', FILL_CONTENT_SECURITY_POLICY);
    });
  }

  app.get('/assets/*', hidden, async (request, reply) => {
    const file = (await spa)?.files.get(request.url.split('?')[0]!);
    if (file === undefined) throw new AppError('route.not_found');
    return sendFile(request, reply, file, IMMUTABLE, policy);
  });

  app.get('/favicon.svg', hidden, async (request, reply) => {
    const file = (await spa)?.files.get('/favicon.svg');
    if (file === undefined) throw new AppError('route.not_found');
    return sendFile(request, reply, file, 'public, max-age=86400', policy);
  });
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: SpaFile, cacheControl: string, policy: string) {
  reply
    .header('content-security-policy', policy)
    .header('cache-control', cacheControl)
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .type(file.contentType);
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip !== null && acceptsGzip) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}
