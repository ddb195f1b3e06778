import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useTestServer } from '../../test/support/server.js';
import { domainRoutes, type RouteModule } from './app.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** Routes that exist only in these tests, to drive the server's body and error handling. */
const probeRoutes: RouteModule = (app) => {
  app.post(
    '/api/test/echo',
    {
      config: { permission: 'public' },
      schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer() }, { additionalProperties: false }) },
    },
    async (request) => request.body,
  );
  app.get('/api/test/explode', { config: { permission: 'public' } }, async () => {
    throw new Error('select secret_column from users -- internal detail');
  });
  app.get('/api/test/slow', { config: { permission: 'public' } }, async () => {
    await sleep(400);
    return { done: true };
  });
};

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as { code: string; status: number; title: string; detail?: string; requestId?: string };
}

const postJson = (url: string, body: string, contentType = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

describeEachDatabase('the HTTP server', (kind) => {
  const env = useTestServer(kind, { FIELDKEEP_BODY_LIMIT: '2048' }, [...domainRoutes, probeRoutes]);

  it('answers liveness and readiness', async () => {
    const live = await fetch(`${env().url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${env().url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: kind, migrations: 'current' });
  });

  it('answers an unknown address with 404 route.not_found', async () => {
    const response = await fetch(`${env().url}/no/such/thing`);
    expect(response.status).toBe(404);
    expect((await problemOf(response)).code).toBe('route.not_found');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const response = await fetch(`${env().url}/healthz`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('GET');
    expect((await problemOf(response)).code).toBe('route.method_not_allowed');
  });

  it('accepts a valid JSON body', async () => {
    const response = await postJson(`${env().url}/api/test/echo`, JSON.stringify({ name: 'a', count: 2 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'a', count: 2 });
  });

  it.each([
    ['truncated JSON', '{"name": "a",'],
    ['not JSON at all', 'name=a'],
    ['an empty body', ''],
  ])('answers %s with 400 request.malformed_json', async (_label, body) => {
    const response = await postJson(`${env().url}/api/test/echo`, body);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe('request.malformed_json');
  });

  it.each([
    ['__proto__', '{"name":"a","count":1,"__proto__":{"isAdmin":true}}'],
    ['constructor.prototype', '{"name":"a","count":1,"constructor":{"prototype":{"isAdmin":true}}}'],
  ])('refuses a %s key with 400 request.forbidden_key', async (_label, body) => {
    const response = await postJson(`${env().url}/api/test/echo`, body);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe('request.forbidden_key');
  });

  it('answers a body that breaks the schema with 400 request.invalid naming the field', async () => {
    const response = await postJson(`${env().url}/api/test/echo`, JSON.stringify({ name: 'a', count: 'many' }));
    expect(response.status).toBe(400);
    const problem = (await problemOf(response)) as unknown as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('request.invalid');
    expect(problem.errors[0]?.path).toBe('/count');
  });

  it('refuses unexpected fields instead of silently dropping them', async () => {
    const response = await postJson(`${env().url}/api/test/echo`, JSON.stringify({ name: 'a', count: 1, role: 'admin' }));
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe('request.invalid');
  });

  it('answers an oversize body with 413 request.body_too_large', async () => {
    const response = await postJson(`${env().url}/api/test/echo`, JSON.stringify({ name: 'x'.repeat(5000), count: 1 }));
    expect(response.status).toBe(413);
    expect((await problemOf(response)).code).toBe('request.body_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await postJson(`${env().url}/api/test/echo`, 'hello', 'application/x-unknown');
    expect(response.status).toBe(415);
    expect((await problemOf(response)).code).toBe('request.unsupported_media_type');
  });

  it('hides internal errors: 500 server.internal, no stack or SQL, logged with the request id', async () => {
    const response = await fetch(`${env().url}/api/test/explode`);
    expect(response.status).toBe(500);
    const text = await response.clone().text();
    expect(text).not.toContain('secret_column');
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    const problem = await problemOf(response);
    expect(problem.code).toBe('server.internal');
    const logged = env().logs.find((l) => l.msg === 'unhandled error' && l.reqId === problem.requestId);
    expect(JSON.stringify(logged)).toContain('secret_column');
  });

  it('sends the security headers on every response, errors included', async () => {
    for (const path of ['/healthz', '/no/such/thing', '/api/v1/users/me']) {
      const response = await fetch(`${env().url}${path}`);
      for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('ignores X-Forwarded-Proto when trustProxy is off', async () => {
    const response = await fetch(`${env().url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('logs one line per request with method, route, status, duration and request id', async () => {
    const before = env().logs.length;
    await fetch(`${env().url}/healthz`);
    await sleep(20);
    const lines = env().logs.slice(before).filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', route: '/healthz', url: '/healthz', status: 200 });
    expect(typeof lines[0]?.durationMs).toBe('number');
    expect(typeof lines[0]?.reqId).toBe('string');
  });

  it('keeps device tokens, query secrets and credentials out of the log', async () => {
    const token = 'Dev1ceT0kenAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnop';
    await fetch(`${env().url}/key/${token}/projects/1/formList?deviceID=collect:abc`);
    await fetch(`${env().url}/healthz?st=${token}&x=1`);
    await fetch(`${env().url}/healthz?passphrase=${token}`);
    await fetch(`${env().url}/healthz`, { headers: { authorization: `Bearer ${token}`, cookie: `__Host-session=${token}` } });
    env().server.logger.info({ body: { passphrase: token, privateKey: token } }, 'a body someone logs by mistake');
    await sleep(20);
    const all = env().rawLogs.join('\n');
    expect(all).not.toContain(token);
    expect(all).toContain('/key/[redacted]/projects/1/formList?deviceID=collect:abc');
    expect(all).toContain('/healthz?st=[redacted]&x=1');
    expect(all).toContain('/healthz?passphrase=[redacted]');
  });

  it('publishes the OpenAPI document and a browsable reference', async () => {
    const response = await fetch(`${env().url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    const docs = await fetch(`${env().url}/api/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('finishes in-flight requests when it stops, then refuses new connections', async () => {
    const { startServer } = await import('./start.js');
    const server = await startServer({ ...env().config, port: 0 }, { routes: [...domainRoutes, probeRoutes] });
    const slow = fetch(`${server.url}/api/test/slow`);
    await sleep(100);
    await server.stop();
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describeEachDatabase('the HTTP server behind a trusted TLS proxy', (kind) => {
  const env = useTestServer(kind, { FIELDKEEP_TRUST_PROXY: 'true' });

  it('sends HSTS only for requests that arrived over HTTPS', async () => {
    const tls = await fetch(`${env().url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(tls.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    const plain = await fetch(`${env().url}/healthz`);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('route declarations', () => {
  it('refuse to start a server with a route that declares no permission', async () => {
    const { buildServer } = await import('./app.js');
    const { createLogger } = await import('./logger.js');
    const undeclared: RouteModule = (app) => {
      app.get('/api/test/undeclared', async () => ({}));
    };
    const ctx = { config: {} as never, database: {} as never, blobs: {} as never };
    const { loadConfig } = await import('../config/config.js');
    await expect(buildServer({ ...ctx, config: loadConfig({ cwd: process.cwd(), env: {} }) }, createLogger('silent'), [undeclared])).rejects.toThrow(
      /GET \/api\/test\/undeclared/,
    );
  });
});
