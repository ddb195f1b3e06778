/**
 * The built web application (Vite's output in dist/spa), read once at startup and kept in
 * memory with a gzip copy of each compressible file: it is a few hundred kilobytes, and answering
 * from memory needs no file-system checks on every request.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface SpaFile {
  body: Buffer;
  gzip: Buffer | null;
  contentType: string;
  etag: string;
}

export interface Spa {
  index: SpaFile;
  /** Keyed by the URL path, e.g. `/assets/index-3f2a1b.js`. */
  files: Map<string, SpaFile>;
}

/** Where `npm run build` puts the web application: dist/spa from the repository root, whether we run from src or dist. */
export const SPA_DIR = path.resolve(import.meta.dirname, '..', '..', 'dist', 'spa');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const compressible = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt', '.webmanifest']);

export function spaFile(name: string, body: Buffer): SpaFile {
  const extension = path.extname(name);
  const gzip = compressible.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
  return {
    body,
    gzip,
    contentType: contentTypes[extension] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/**
 * The application in `dir`, or null when it has not been built or cannot be read whole (a build
 * under way): the server still runs its API, and says how to build the application.
 */
export async function loadSpa(dir: string = SPA_DIR): Promise<Spa | null> {
  if (!existsSync(path.join(dir, 'index.html'))) return null;
  try {
    return await readSpa(dir);
  } catch {
    return null;
  }
}

async function readSpa(dir: string): Promise<Spa | null> {
  const files = new Map<string, SpaFile>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const urlPath = '/' + path.relative(dir, full).split(path.sep).join('/');
    files.set(urlPath, spaFile(entry.name, await readFile(full)));
  }
  const index = files.get('/index.html');
  if (index === undefined) return null;
  files.delete('/index.html');
  return { index, files };
}
