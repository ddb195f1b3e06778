import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpa, spaFile } from './spa.js';

describe('the built web application in memory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-spa-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is null until built, so the server runs its API and says how to build', async () => {
    expect(await loadSpa(dir)).toBeNull();
  });

  it('keeps each file with its type, a content ETag, and a gzip copy of larger text', async () => {
    const script = 'export const greeting = "hello";\n'.repeat(100);
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Fieldkeep</title>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), script);
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const spa = (await loadSpa(dir))!;
    expect(spa.index.contentType).toBe('text/html; charset=utf-8');
    expect(spa.index.gzip).toBeNull();
    expect([...spa.files.keys()].sort()).toEqual(['/assets/index-abc123.js', '/favicon.svg']);
    const asset = spa.files.get('/assets/index-abc123.js')!;
    expect(asset.contentType).toBe('text/javascript; charset=utf-8');
    expect(gunzipSync(asset.gzip!).toString()).toBe(script);
    expect(asset.etag).toMatch(/^"[\w-]{27}"$/);
    expect(spaFile('a.js', Buffer.from(script)).etag).toBe(asset.etag);
    expect(spaFile('a.js', Buffer.from(script + ' ')).etag).not.toBe(asset.etag);
    expect(spaFile('font.woff2', Buffer.alloc(4000)).gzip).toBeNull();
  });
});
