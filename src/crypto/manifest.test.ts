import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { XmlError } from '../xform/index.js';
import { CryptoError, parseEncryptedManifest, serializeEncryptedManifest } from './index.js';

const COLLECT_MANIFEST = readFileSync('/work/shared/testdata/odk-encryption/enc/submission.xml', 'utf8');
const KEY = 'AAAA';

/** ODK Web Forms' order: key, encryptedXmlFile, media, meta (unprefixed, OpenRosa namespace), no signature. */
const WEB_FORMS_MANIFEST =
  '<data xmlns="http://opendatakit.org/submissions" encrypted="yes" id="f">' +
  `<base64EncryptedKey>${KEY}</base64EncryptedKey><encryptedXmlFile>submission.xml.enc</encryptedXmlFile>` +
  '<media><file>a.jpg.enc</file></media><media><file>b.m4a.enc</file></media>' +
  '<meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:wf</instanceID></meta></data>';

function manifestWith(body: string, rootAttributes = 'id="f" encrypted="yes"'): string {
  return `<data xmlns="http://www.opendatakit.org/xforms/encrypted" ${rootAttributes}>${body}</data>`;
}

const VALID_BODY =
  `<base64EncryptedKey>${KEY}</base64EncryptedKey>` +
  '<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:1</orx:instanceID></orx:meta>' +
  '<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>';

function expectBadManifest(xml: string): void {
  try {
    parseEncryptedManifest(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('crypto.bad_manifest');
    return;
  }
  throw new Error(`accepted: ${xml}`);
}

describe('parseEncryptedManifest', () => {
  it("reads Collect's manifest and serialises it back to the same bytes", () => {
    const manifest = parseEncryptedManifest(COLLECT_MANIFEST);
    expect(manifest).toMatchObject({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60',
      mediaFiles: ['photo.jpg.enc', 'audit.csv.enc'],
      encryptedXmlFile: 'submission.xml.enc',
    });
    expect(manifest.base64EncryptedElementSignature).toMatch(/^JZQxQ/);
    expect(serializeEncryptedManifest(manifest)).toBe(COLLECT_MANIFEST);
  });

  it("reads Web Forms' order and the spec's namespace, without version or signature", () => {
    expect(parseEncryptedManifest(WEB_FORMS_MANIFEST)).toEqual({
      formId: 'f',
      version: null,
      instanceId: 'uuid:wf',
      base64EncryptedKey: KEY,
      mediaFiles: ['a.jpg.enc', 'b.m4a.enc'],
      encryptedXmlFile: 'submission.xml.enc',
      base64EncryptedElementSignature: null,
    });
  });

  it('escapes names when serialising', () => {
    const manifest = parseEncryptedManifest(manifestWith(VALID_BODY, 'id="a&amp;b" version="1&quot;" encrypted="yes"'));
    expect(serializeEncryptedManifest(manifest)).toContain('id="a&amp;b" version="1&quot;"');
    expect(parseEncryptedManifest(serializeEncryptedManifest(manifest))).toEqual(manifest);
  });

  it('refuses manifests that are incomplete, ambiguous or carry surprises', () => {
    expectBadManifest(manifestWith(VALID_BODY, 'id="f"'));
    expectBadManifest(manifestWith(VALID_BODY, 'encrypted="yes"'));
    expectBadManifest(manifestWith(VALID_BODY.replace(`<base64EncryptedKey>${KEY}</base64EncryptedKey>`, '')));
    expectBadManifest(manifestWith(VALID_BODY.replace('uuid:1', '')));
    expectBadManifest(manifestWith(VALID_BODY.replace('<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>', '')));
    expectBadManifest(manifestWith(VALID_BODY + `<base64EncryptedKey>${KEY}</base64EncryptedKey>`));
    expectBadManifest(manifestWith(`${VALID_BODY}<extra/>`));
    expectBadManifest(manifestWith(`${VALID_BODY}stray text`));
    expectBadManifest(manifestWith(VALID_BODY.replace(KEY, 'not base64!')));
    expectBadManifest(manifestWith(`${VALID_BODY}<media><file>a.enc</file><file>b.enc</file></media>`));
    expectBadManifest(manifestWith(`${VALID_BODY}<media><file><b>x</b></file></media>`));
  });

  it('refuses file names that are paths, not .enc, or listed twice', () => {
    for (const name of ['../../etc/passwd.enc', 'dir/a.enc', 'a\\b.enc', 'photo.jpg', '.enc', '..']) {
      expectBadManifest(manifestWith(`${VALID_BODY}<media><file>${name}</file></media>`));
    }
    expectBadManifest(manifestWith(`${VALID_BODY}<media><file>a.enc</file></media><media><file>a.enc</file></media>`));
    expectBadManifest(manifestWith(`${VALID_BODY}<media><file>submission.xml.enc</file></media>`));
  });

  it('lets XML-level attacks fail in the XML layer', () => {
    const doctype = `<!DOCTYPE data [<!ENTITY x "y">]>${manifestWith(VALID_BODY)}`;
    expect(() => parseEncryptedManifest(doctype)).toThrow(XmlError);
    expect(() => parseEncryptedManifest(manifestWith(VALID_BODY.replace('uuid:1', '&x;')))).toThrow(/malformed/);
  });
});
