/*
 * Hostile request bodies: broken and abusive multipart to the OpenRosa submission endpoint, and
 * oversize, deeply nested or prototype-polluting JSON to the API.
 */
import { expect, it } from 'vitest';
import { multipartBody, type Part } from '../../src/openrosa/submission-client.test-support.js';
import { describeEachDatabase } from '../support/databases.js';
import { useTestServer } from '../support/server.js';
import { testUserSettings } from '../support/test-users.js';
import { expectRefused, send, submissionHeaders, useHostileTargets } from './hostile-server.js';

const MB = 1024 * 1024;

describeEachDatabase('hostile request bodies', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const targets = useHostileTargets(env);

  const xmlPart = (): Part => ({ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: targets().validSubmission() });
  const postParts = (parts: Part[]) => () => {
    const body = multipartBody(parts);
    return send(targets().submissionUrl, 'POST', submissionHeaders(targets().owner, body.contentType), body.body);
  };
  /** A part written by hand, for headers multipartBody will not write. */
  const postRaw = (contentType: string, body: Buffer) => () => send(targets().submissionUrl, 'POST', submissionHeaders(targets().owner, contentType), body);

  it('refuses multipart without a boundary', async () => {
    const body = multipartBody([xmlPart()]);
    await expectRefused(env(), postRaw('multipart/form-data', body.body), ['submission.malformed_multipart']);
  });

  it('refuses 10,000 parts', async () => {
    const parts = Array.from({ length: 10_000 }, (_, i): Part => ({ name: `f${i}.jpg`, filename: `f${i}.jpg`, contentType: 'image/jpeg', body: 'x' }));
    await expectRefused(env(), postParts([xmlPart(), ...parts]), ['submission.too_large']);
  });

  it('refuses a file part without a name', async () => {
    const boundary = 'nameless';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="instance.xml"\r\nContent-Type: text/xml\r\n\r\n${targets().validSubmission()}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n--${boundary}--\r\n`,
    );
    await expectRefused(env(), postRaw(`multipart/form-data; boundary=${boundary}`, body), ['submission.malformed_multipart']);
  });

  it.each([
    ['a ../ path', '../../../etc/cron.d/fieldkeep'],
    ['an absolute path', '/etc/passwd'],
    ['a backslash path', '..\\..\\evil.jpg'],
    ['a NUL byte', 'photo.jpg\u0000.php'],
    ['a 10,000-character name', `${'a'.repeat(10_000)}.jpg`],
  ])('refuses an attachment name with %s', async (_label, name) => {
    await expectRefused(env(), postParts([xmlPart(), { name, filename: name, contentType: 'image/jpeg', body: 'JPEG' }]), ['submission.bad_attachment_name']);
  });

  it('refuses a part whose header is longer than the parser reads (a 200,000-character name), storing nothing', async () => {
    // busboy cuts a part's header off at 80 kB, losing whatever followed the cut.
    const name = `${'a'.repeat(200_000)}.jpg`;
    await expectRefused(env(), postParts([xmlPart(), { name, filename: name, contentType: 'image/jpeg', body: 'JPEG' }]), ['submission.malformed_multipart']);
    const stored = await env().server.database.db.selectFrom('submission_attachments').select('name').execute();
    expect(stored.filter((row) => row.name.startsWith('aaaa'))).toEqual([]);
  });

  const postJson = (body: Buffer | string, options: { chunked?: boolean } = {}) => () =>
    send(`${env().url}/api/v1/projects`, 'POST', { ...targets().owner.headers, 'content-type': 'application/json' }, Buffer.from(body), options);

  it('refuses a 50 MB JSON body, declared and chunked', async () => {
    const huge = Buffer.concat([Buffer.from('{"name":"'), Buffer.alloc(50 * MB, 'a'), Buffer.from('"}')]);
    await expectRefused(env(), postJson(huge), ['request.body_too_large']);
    await expectRefused(env(), postJson(huge, { chunked: true }), ['request.body_too_large']);
  });

  it('refuses JSON nested 100,000 deep', async () => {
    const deep = `{"name":"deep","description":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await expectRefused(env(), postJson(deep), ['request.invalid', 'request.malformed_json']);
    const deepObjects = `{"name":"deep","x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    await expectRefused(env(), postJson(deepObjects), ['request.invalid', 'request.malformed_json']);
  });

  it.each([
    ['__proto__ at the top', '{"name":"p","__proto__":{"polluted":true}}'],
    ['constructor.prototype', '{"name":"p","constructor":{"prototype":{"polluted":true}}}'],
    ['__proto__ nested deep', '{"name":"p","settings":{"a":[{"__proto__":{"polluted":true}}]}}'],
    ['an escaped __proto__ key', '{"name":"p","\\u005f_proto__":{"polluted":true}}'],
  ])('refuses prototype-pollution keys: %s', async (_label, json) => {
    await expectRefused(env(), postJson(json), ['request.forbidden_key']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
