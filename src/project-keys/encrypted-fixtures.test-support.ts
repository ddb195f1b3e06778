/**
 * Encrypted submissions for tests and benchmarks: the BouncyCastle-made known-answer envelope,
 * envelopes made by our own encryptor, and posting either over OpenRosa as ODK Collect does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { TestServer } from '../../test/support/server.js';
import type { TestUser } from '../../test/support/test-users.js';
import { encryptSubmission, loadPublicKey, serializeEncryptedManifest, type PlainFile } from '../crypto/index.js';
import { collectHeaders, multipartBody, send, type Part } from '../openrosa/submission-client.test-support.js';
import { surveyXml, type Answers } from '../submissions/data-fixtures.test-support.js';

export const VECTORS = path.resolve(import.meta.dirname, '../../../shared/testdata/odk-encryption');
export const readVector = (name: string): Buffer => readFileSync(path.join(VECTORS, name));
export const KAT_PUBLIC_KEY = readVector('pub.der').toString('base64');
export const KAT_INSTANCE_ID = 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60';
export const KAT_FILES = ['photo.jpg.enc', 'audit.csv.enc', 'submission.xml.enc'];

/** The form the known-answer vectors were made for: id kat_form, version 2024010101, its own (self-managed) key. */
export const katXForm = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>KAT form</h:title><model>
  <submission base64RsaPublicKey="${KAT_PUBLIC_KEY}"/>
  <instance><data id="kat_form" version="2024010101"><name/><photo/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/><bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload></h:body>
</h:html>`;

/** Posts an envelope as Collect does: the manifest as xml_submission_file, then each `.enc` file. */
export async function postEnvelope(server: TestServer, projectId: number, user: TestUser, manifestXml: string | Buffer, files: ReadonlyArray<PlainFile>): Promise<void> {
  const parts: Part[] = [
    { name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: Buffer.from(manifestXml) },
    ...files.map((file) => ({ name: file.name, filename: file.name, contentType: 'application/octet-stream', body: Buffer.from(file.data) })),
  ];
  const body = multipartBody(parts, { partLengths: true });
  const response = await send(`${server.url}/projects/${projectId}/submission`, 'POST', collectHeaders({ ...user.headers, 'content-type': body.contentType }), body.body);
  expect(response.status, response.body).toBe(201);
}

export function postKatEnvelope(server: TestServer, projectId: number, user: TestUser): Promise<void> {
  return postEnvelope(server, projectId, user, readVector('enc/submission.xml'), KAT_FILES.map((name) => ({ name, data: readVector(`enc/${name}`) })));
}

/** `enc2/`: the plaintexts of `plain/` (but not audit.csv) encrypted by another implementation, under this instanceID in its manifest. */
export const KAT2_INSTANCE_ID = readVector('enc2/manifest.txt').toString('utf8').split('\n')[0]!.trim();

/** Posts `enc2/`, its manifest written out from `manifest.txt` (instanceID, key, signature, one per line). */
export function postKat2Envelope(server: TestServer, projectId: number, user: TestUser): Promise<void> {
  const [instanceId, base64EncryptedKey, signature] = readVector('enc2/manifest.txt').toString('utf8').trim().split('\n');
  const manifest = serializeEncryptedManifest({
    formId: 'kat_form',
    version: '2024010101',
    instanceId: instanceId!,
    base64EncryptedKey: base64EncryptedKey!,
    mediaFiles: ['photo.jpg.enc'],
    encryptedXmlFile: 'submission.xml.enc',
    base64EncryptedElementSignature: signature!,
  });
  return postEnvelope(server, projectId, user, manifest, ['photo.jpg.enc', 'submission.xml.enc'].map((name) => ({ name, data: readVector(`enc2/${name}`) })));
}

/** A survey submission encrypted by our encryptor to `publicKey` for form version `version`, as Collect would send it. */
export async function encryptedSurvey(publicKey: string, version: string, instanceId: string, district: string, photo: Buffer, answers: Answers = {}) {
  const submissionXml = Buffer.from(surveyXml('survey', instanceId, { ...answers, district, photo: 'photo.jpg' }, undefined, version));
  const encrypted = await encryptSubmission({ formId: 'survey', version, instanceId, publicKey: await loadPublicKey(publicKey), submissionXml, media: [{ name: 'photo.jpg', data: photo }] });
  return { ...encrypted, submissionXml };
}
