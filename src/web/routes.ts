/**
 * Serves the web application at `/`: the page for every address the application routes itself
 * (so a reload or a shared link works), its hashed assets cached for a year, and a policy stricter
 * than the API's default (no inline styles either: the build emits every style as a file).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { loadSpa, type SpaFile } from './spa.js';
import { storageOf } from './storage.js';

/** The application's own addresses; /p/… and /admin/… hold the project and administration screens. */
export const SPA_PAGES = ['/', '/sign-in', '/reset-password', '/account', '/where-is-my-data', '/p/*', '/admin', '/admin/*'] as const;

export const SPA_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
].join('; ');

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

export function webRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/v1/instance/storage',
    {
      config: { permission: 'authenticated' },
      schema: { tags: ['instance'], summary: 'Where this instance keeps its data: database, attachments, backups ("Where is my data?").', response: { 200: Storage } },
    },
    async () => storageOf(ctx.config),
  );

  const spa = loadSpa();
  const hidden = { schema: { hide: true }, config: { permission: 'public' as const } };

  for (const page of SPA_PAGES) {
    app.get(page, hidden, async (request, reply) => {
      const loaded = await spa;
      if (loaded === null) return reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(notBuilt);
      // The page names the current assets, so it is revalidated on every load (cheap: an ETag).
      return sendFile(request, reply, loaded.index, 'no-cache');
    });
  }

  app.get('/assets/*', hidden, async (request, reply) => {
    const file = (await spa)?.files.get(request.url.split('?')[0]!);
    if (file === undefined) throw new AppError('route.not_found');
    return sendFile(request, reply, file, IMMUTABLE);
  });

  app.get('/favicon.svg', hidden, async (request, reply) => {
    const file = (await spa)?.files.get('/favicon.svg');
    if (file === undefined) throw new AppError('route.not_found');
    return sendFile(request, reply, file, 'public, max-age=86400');
  });
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: SpaFile, cacheControl: string) {
  reply
    .header('content-security-policy', SPA_CONTENT_SECURITY_POLICY)
    .header('cache-control', cacheControl)
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .type(file.contentType);
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip !== null && acceptsGzip) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}
