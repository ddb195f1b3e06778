import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { SPA_CONTENT_SECURITY_POLICY, spaContentSecurityPolicy } from './routes.js';

const PRIVACY = 'https://example.org/privacy';

describe('the privacy and terms settings', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'fieldkeep-links-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('are unset by default and must be web addresses when set', () => {
    expect(loadConfig({ env: {}, cwd }).links).toEqual({ privacyUrl: null, termsUrl: null });
    expect(loadConfig({ env: { FIELDKEEP_TERMS_URL: 'http://intranet.local/terms' }, cwd }).links).toEqual({ privacyUrl: null, termsUrl: 'http://intranet.local/terms' });
    expect(() => loadConfig({ env: { FIELDKEEP_PRIVACY_URL: 'javascript:alert(1)' }, cwd })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { FIELDKEEP_PRIVACY_URL: 'privacy.html' }, cwd })).toThrow(ConfigError);
  });
});

describe('the map tile setting', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'fieldkeep-tiles-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('is unset by default and must be an http(s) or path template with {z}, {x} and {y}', () => {
    expect(loadConfig({ env: {}, cwd }).map).toEqual({ tileUrl: null, tileAttribution: null });
    expect(loadConfig({ env: { FIELDKEEP_MAP_TILE_URL: '/tiles/{z}/{x}/{y}.png', FIELDKEEP_MAP_TILE_ATTRIBUTION: '© Survey office' }, cwd }).map).toEqual({ tileUrl: '/tiles/{z}/{x}/{y}.png', tileAttribution: '© Survey office' });
    for (const bad of ['https://tiles.example.org/{z}/{x}.png', 'ftp://tiles.example.org/{z}/{x}/{y}.png', '//tiles.example.org/{z}/{x}/{y}.png', "https://tiles.example.org/{z}/{x}/{y}.png; script-src *", 'tiles/{z}/{x}/{y}.png']) {
      expect(() => loadConfig({ env: { FIELDKEEP_MAP_TILE_URL: bad }, cwd }), bad).toThrow(ConfigError);
    }
  });

  it('adds the tile origin, and only it, to the page policy’s images', () => {
    expect(spaContentSecurityPolicy(null)).toBe(SPA_CONTENT_SECURITY_POLICY);
    expect(spaContentSecurityPolicy('/tiles/{z}/{x}/{y}.png')).toBe(SPA_CONTENT_SECURITY_POLICY);
    const policy = spaContentSecurityPolicy('https://tiles.example.org:8443/osm/{z}/{x}/{y}.png?key=1');
    expect(policy.split('; ')).toContain("img-src 'self' data: blob: https://tiles.example.org:8443");
    expect(policy.split('; ').filter((part) => !part.startsWith('img-src'))).toEqual(SPA_CONTENT_SECURITY_POLICY.split('; ').filter((part) => !part.startsWith('img-src')));
  });
});

describeEachDatabase('the instance links', (kind) => {
  describe('when the privacy policy is set and the terms are not', () => {
    const env = useTestServer(kind, { FIELDKEEP_PRIVACY_URL: PRIVACY });

    it('are public, so the sign-in page can show them', async () => {
      const answer = await call(`${env().url}/api/v1/instance/links`, 'GET');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ privacyUrl: PRIVACY, termsUrl: null, mapTileUrl: null, mapTileAttribution: null });
    });
  });

  describe('when neither is set', () => {
    const env = useTestServer(kind);

    it('are both null', async () => {
      expect((await call(`${env().url}/api/v1/instance/links`, 'GET')).body).toEqual({ privacyUrl: null, termsUrl: null, mapTileUrl: null, mapTileAttribution: null });
    });
  });
});
