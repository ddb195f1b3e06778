import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import {
  generatePrivateKey,
  loadPrivateKey,
  openSealedPrivateKey,
  publicKeyToBase64Spki,
  publicKeyToPem,
  sealPrivateKey,
  unwrapPrivateKey,
  wrapPrivateKey,
  type OdkPrivateKey,
  type WrappedPrivateKey,
} from '../crypto/index.js';
import { collectHeaders, collectVerdict, multipartBody, send } from '../openrosa/submission-client.test-support.js';
import { addMemberTo, newInstanceId, publishSurvey, surveyForm, surveyXml } from '../submissions/data-fixtures.test-support.js';
import { KAT_INSTANCE_ID, KAT_PUBLIC_KEY, encryptedSurvey, katXForm, postEnvelope, postKatEnvelope, readVector } from './encrypted-fixtures.test-support.js';
import { suffixedVersion, versionSuffix } from './form-key.js';
import { parseCsv } from '../exports/export-fixtures.test-support.js';

const PASSPHRASE = 'umbrella quartz lantern 42 fjord';
const MEMBER_PASSPHRASE = 'glacier pepper violin 17 harbour';
/** Tests that wrap or unwrap keys several times: each scrypt run takes seconds on a busy machine. */
const SCRYPT_BOUND = { timeout: 120_000 };

describeEachDatabase('end-to-end encrypted projects', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const api = (path: string) => `${env().url}/api/v1${path}`;
  let owner: TestUser;
  let viewer: TestUser;
  let projectId: number;
  let projectKey: OdkPrivateKey;
  let wrapped: WrappedPrivateKey;
  let servedKey: string;
  let servedVersion: string;
  const photo = randomBytes(50_000);
  const surveyIds: string[] = [];

  const form = async (formId: string) => (await call(api(`/projects/${projectId}/forms/${formId}`), 'GET', owner.headers)).body as { published?: { version: string; encrypted: boolean } };
  const formXml = async (formId: string) => (await fetch(`${env().url}/projects/${projectId}/forms/${formId}/form.xml`, { headers: collectHeaders(owner.headers) })).text();

  /** An export decrypted on the server: the passphrase in the POST body (one field, so one CSV rather than a ZIP with the repeat's). */
  const decryptedCsv = (project: number, passphrase: string, user: TestUser = owner) =>
    call(api(`/projects/${project}/forms/survey/export.csv`), 'POST', user.headers, { passphrase, options: { fields: 'district' } });

  beforeAll(async () => {
    owner = await createTestUser(env(), 'e2e_owner');
    viewer = await createTestUser(env(), 'e2e_viewer');
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Encrypted' })).body.id;
    await addMemberTo(env(), projectId, owner, 'e2e_viewer', 'viewer');
    await publishSurvey(env(), projectId, owner);
    const kat = await fetch(api(`/projects/${projectId}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: katXForm });
    expect(kat.status).toBe(201);
    projectKey = await generatePrivateKey();
    wrapped = await wrapPrivateKey(projectKey, PASSPHRASE);
  });

  it('refuses keys it cannot use, and lets only the owner turn encryption on', SCRYPT_BOUND, async () => {
    const publicKey = publicKeyToBase64Spki(projectKey);
    const other = await wrapPrivateKey(await loadPrivateKey(readVector('priv.pem').toString('utf8')), PASSPHRASE);
    const bad = [
      [{ publicKey: 'not a key' }, 'key.bad_public_key'],
      [{ publicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) }, 'key.weak_public_key'],
      [{ publicKey, wrappedPrivateKey: other }, 'key.bad_wrapped_key'],
      [{ publicKey, wrappedPrivateKey: { ...wrapped, kdf: { ...wrapped.kdf, N: 1024 } } }, 'key.bad_wrapped_key'],
    ] as const;
    for (const [body, code] of bad) {
      const answer = await call(api(`/projects/${projectId}/encryption`), 'POST', owner.headers, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.code).toBe(code);
    }
    expect((await call(api(`/projects/${projectId}/encryption`), 'POST', viewer.headers, { publicKey, wrappedPrivateKey: wrapped })).status).toBe(403);
    expect((await call(api(`/projects/${projectId}/encryption`), 'GET', viewer.headers)).body).toMatchObject({ enabled: false, keys: [] });
  });

  it('turns encryption on: every form gets the key in a new version, except one that brings its own', async () => {
    const before = (await form('survey')).published!.version;
    const enabled = await call(api(`/projects/${projectId}/encryption`), 'POST', owner.headers, { publicKey: publicKeyToPem(projectKey.publicKey), wrappedPrivateKey: wrapped, hint: 'the fjord one' });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(201);
    expect(enabled.body.rekeyedForms).toEqual(['survey']);
    expect((await call(api(`/projects/${projectId}/encryption`), 'POST', owner.headers, { publicKey: publicKeyToBase64Spki(projectKey), wrappedPrivateKey: wrapped })).body.code).toBe('key.already_enabled');

    servedKey = publicKeyToBase64Spki(projectKey);
    const survey = await form('survey');
    servedVersion = survey.published!.version;
    expect(servedVersion).toMatch(new RegExp(`^${before}\\[encrypted:[A-Za-z0-9+/]{8}\\]$`));
    expect(survey.published!.encrypted).toBe(true);
    const xml = await formXml('survey');
    expect(xml).toContain(`<submission base64RsaPublicKey="${servedKey}"/>`);
    expect(xml).toContain(`version="${servedVersion}"`);
    expect(await formXml('kat_form')).toContain(KAT_PUBLIC_KEY);
    expect((await form('kat_form')).published!.version).toBe('2024010101');

    const status = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body;
    expect(status).toMatchObject({ enabled: true, allowServerDecryption: true, keys: [{ state: 'active', publicKey: servedKey, managed: true, hint: 'the fjord one', wrappedPrivateKey: wrapped }] });
    const asViewer = (await call(api(`/projects/${projectId}/encryption`), 'GET', viewer.headers)).body;
    expect(asViewer.keys[0].wrappedPrivateKey).toBeNull();
    const audit = (await call(api(`/projects/${projectId}/audit`), 'GET', owner.headers)).body;
    expect(JSON.stringify(audit)).toContain('key.enable');
  });

  it('gives forms uploaded later the key too', async () => {
    const later = surveyForm('later', '7');
    const created = await fetch(api(`/projects/${projectId}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: later });
    expect(created.status).toBe(201);
    expect((await form('later')).published).toMatchObject({ encrypted: true });
    expect((await form('later')).published!.version).toMatch(/^7\[encrypted:/);
    expect(await formXml('later')).toContain(servedKey);
  });

  it('stores envelopes from our encryptor and from BouncyCastle, and shows only their metadata', async () => {
    for (const district of ['north', 'south']) {
      const instanceId = newInstanceId();
      const envelope = await encryptedSurvey(servedKey, servedVersion, instanceId, district, photo);
      await postEnvelope(env(), projectId, owner, envelope.manifestXml, envelope.files);
      surveyIds.push(instanceId);
    }
    await postKatEnvelope(env(), projectId, owner);
    const list = (await call(api(`/projects/${projectId}/forms/survey/submissions`), 'GET', owner.headers)).body;
    expect(list.results).toHaveLength(2);
    for (const row of list.results) {
      expect(row._encrypted).toBe(true);
      expect(row).not.toHaveProperty('district');
      expect(row._attachments.map((a: { name: string }) => a.name).sort()).toEqual(['photo.jpg.enc', 'submission.xml.enc']);
    }
    const kat = (await call(api(`/projects/${projectId}/forms/kat_form/submissions`), 'GET', owner.headers)).body;
    expect(kat.results[0]['meta/rootUuid']).toBe(KAT_INSTANCE_ID);

    const plain = multipartBody([{ name: 'xml_submission_file', filename: 'x.xml', contentType: 'text/xml', body: surveyXml('survey', newInstanceId(), { district: 'east' }, undefined, servedVersion) }]);
    const refused = await send(`${env().url}/projects/${projectId}/submission`, 'POST', collectHeaders({ ...owner.headers, 'content-type': plain.contentType }), plain.body);
    expect(collectVerdict(refused).success).toBe(false);
  });

  it('refuses filters on answers and edits of encrypted submissions, with codes saying why', async () => {
    const base = `/projects/${projectId}/forms/survey/submissions`;
    for (const path of [`${base}?filter=${encodeURIComponent('{"district":"north"}')}`, `${base}.count?filter=${encodeURIComponent('{"district":"north"}')}`]) {
      const answer = await call(api(path), 'GET', owner.headers);
      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe('submission.encrypted_not_filterable');
    }
    expect((await call(api(`${base}?filter=${encodeURIComponent('{"_submission_time":{"$gte":"2000-01-01"}}')}`), 'GET', owner.headers)).body.results).toHaveLength(2);
    const bulk = await call(api(`/projects/${projectId}/forms/survey/submissions/review`), 'POST', owner.headers, { status: 'approved', where: { district: 'north' }, confirm: true });
    expect(bulk.body.code).toBe('submission.encrypted_not_filterable');
    const edit = await call(api(`${base}/${encodeURIComponent(surveyIds[0]!)}`), 'PATCH', owner.headers, { fields: { district: 'east' } });
    expect(edit.status).toBe(409);
    expect(edit.body.code).toBe('submission.encrypted_not_editable');
  });

  it('decrypts on the server unless the project forbids it, audited, with the passphrase nowhere', SCRYPT_BOUND, async () => {
    expect((await call(api(`/projects/${projectId}/encryption`), 'PATCH', owner.headers, { allowServerDecryption: false })).status).toBe(200);
    expect((await decryptedCsv(projectId, PASSPHRASE)).body.code).toBe('key.server_decryption_forbidden');
    expect((await call(api(`/projects/${projectId}/encryption`), 'PATCH', owner.headers, { allowServerDecryption: true })).status).toBe(200);
    expect((await decryptedCsv(projectId, 'wrong horse battery staple')).body.code).toBe('key.wrong_passphrase');
    const decrypted = await decryptedCsv(projectId, PASSPHRASE);
    expect(decrypted.status, JSON.stringify(decrypted.body)).toBe(200);
    const rows = parseCsv(decrypted.body);
    const column = (name: string) => rows.slice(1).map((row) => row[rows[0]!.indexOf(name)]);
    expect(surveyIds).toHaveLength(2);
    expect(column('_uuid')).toEqual(surveyIds.map((id) => id.slice('uuid:'.length)));
    expect(column('district')).toEqual(['north', 'south']);
    expect(column('_signature')).toEqual(['valid', 'valid']);
    const audit = JSON.stringify((await call(api(`/projects/${projectId}/audit`), 'GET', owner.headers)).body);
    expect(audit).toContain('key.unlock_on_server');
    expect(audit).not.toContain(PASSPHRASE);
    expect(env().rawLogs.join('\n')).not.toContain(PASSPHRASE);
  });

  it("shares the key with a member through the member's own key, and revokes it", SCRYPT_BOUND, async () => {
    const memberKey = await generatePrivateKey();
    const memberWrapped = await wrapPrivateKey(memberKey, MEMBER_PASSPHRASE);
    expect((await call(api('/users/me/encryption-key'), 'PUT', viewer.headers, { publicKey: publicKeyToBase64Spki(memberKey), wrappedPrivateKey: memberWrapped })).status).toBe(200);
    const people = (await call(api(`/projects/${projectId}/encryption/members`), 'GET', owner.headers)).body as Array<{ userId: number; publicKey: string | null }>;
    expect(people.find((p) => p.userId === viewer.id)?.publicKey).toBe(publicKeyToBase64Spki(memberKey));
    expect(people.find((p) => p.userId === owner.id)?.publicKey).toBeNull();
    const keyId = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body.keys[0].id;

    const unlocked = await unwrapPrivateKey(wrapped, PASSPHRASE);
    const toOutsider = await sealPrivateKey(unlocked, (await generatePrivateKey()).publicKey);
    const share = (sealed: unknown, who: TestUser = owner) => call(api(`/projects/${projectId}/encryption/members/${viewer.id}/keys/${keyId}`), 'PUT', who.headers, { sealedPrivateKey: sealed });
    expect((await share(toOutsider)).body.code).toBe('key.bad_sealed_key');
    expect((await share(await sealPrivateKey(memberKey, memberKey.publicKey))).body.code).toBe('key.bad_sealed_key');
    expect((await share(await sealPrivateKey(unlocked, memberKey.publicKey), viewer)).status).toBe(403);
    expect((await share(await sealPrivateKey(unlocked, memberKey.publicKey))).status).toBe(204);

    const mine = (await call(api(`/projects/${projectId}/encryption`), 'GET', viewer.headers)).body;
    const own = (await call(api('/users/me/encryption-key'), 'GET', viewer.headers)).body.key;
    const opened = await openSealedPrivateKey(mine.yourCopies[0].sealedPrivateKey, await unwrapPrivateKey(own.wrappedPrivateKey, MEMBER_PASSPHRASE));
    expect(publicKeyToBase64Spki(opened)).toBe(servedKey);
    // On the server too, the member's own passphrase opens their copy; the project's passphrase is the owner's alone.
    const byMember = parseCsv((await decryptedCsv(projectId, MEMBER_PASSPHRASE, viewer)).body);
    expect(byMember.slice(1).map((row) => row[byMember[0]!.indexOf('_signature')])).toEqual(['valid', 'valid']);
    expect((await decryptedCsv(projectId, PASSPHRASE, viewer)).body.code).toBe('key.wrong_passphrase');

    expect((await call(api(`/projects/${projectId}/encryption/members/${viewer.id}`), 'DELETE', owner.headers)).body).toEqual({ removed: 1 });
    expect((await call(api(`/projects/${projectId}/encryption`), 'GET', viewer.headers)).body.yourCopies).toEqual([]);
    expect((await decryptedCsv(projectId, MEMBER_PASSPHRASE, viewer)).body.code).toBe('key.no_key_copy');
  });

  it('rotates: new forms versions carry the new key, the old key is kept for old data', SCRYPT_BOUND, async () => {
    const next = await generatePrivateKey();
    const rotated = await call(api(`/projects/${projectId}/encryption/rotate`), 'POST', owner.headers, { publicKey: publicKeyToBase64Spki(next), wrappedPrivateKey: await wrapPrivateKey(next, PASSPHRASE) });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    expect(rotated.body.rekeyedForms.sort()).toEqual(['later', 'survey']);
    expect(await formXml('survey')).toContain(publicKeyToBase64Spki(next));
    const version = (await form('survey')).published!.version;
    expect(version).not.toBe(servedVersion);
    expect(version.match(/\[encrypted:/g)).toHaveLength(1);
    const keys = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body.keys;
    expect(keys.map((k: { state: string }) => k.state)).toEqual(['active', 'retired']);
  });

  it('accepts a self-managed public key, and then cannot decrypt on the server', async () => {
    const other = (await call(api('/projects'), 'POST', owner.headers, { name: 'Self-managed' })).body.id as number;
    const enabled = await call(api(`/projects/${other}/encryption`), 'POST', owner.headers, { publicKey: readVector('pub.pem').toString(), allowServerDecryption: true });
    expect(enabled.status).toBe(201);
    expect((await call(api(`/projects/${other}/encryption`), 'GET', owner.headers)).body.keys[0]).toMatchObject({ managed: false, publicKey: KAT_PUBLIC_KEY });
    await publishSurvey(env(), other, owner);
    expect((await decryptedCsv(other, PASSPHRASE)).body.code).toBe('key.self_managed');
  });
});

describe('version suffixes', () => {
  it("matches ODK Central's: base64 of the 6-byte big-endian epoch milliseconds", () => {
    expect(versionSuffix(new Date(1700000000000))).toBe('[encrypted:AYvP5WgA]');
    expect(suffixedVersion('3[encrypted:AYvP5WgA]', '[encrypted:AYvP5WgB]')).toBe('3[encrypted:AYvP5WgB]');
    expect(suffixedVersion(null, '[encrypted:AYvP5WgA]')).toBe('[encrypted:AYvP5WgA]');
  });
});
