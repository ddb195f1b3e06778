import { describe, expect, it } from 'vitest';
import { parseXmlTree, childElements, textContent, type XmlElement } from '../xform/index.js';
import { formListXml, manifestXml, openRosaHeaders, openRosaResponseXml } from './documents.js';

/** Collect's own acceptance rules for a form list (INTEROP.md A3), as a checker. */
function collectReadsFormList(xml: string) {
  const root = parseXmlTree(xml);
  if (root.local !== 'xforms' || root.uri.toLowerCase() !== 'http://openrosa.org/xforms/xformslist') throw new Error('not a form list');
  return childElements(root)
    .filter((c) => c.local.toLowerCase() === 'xform' && c.uri === root.uri)
    .map((item) => {
      const read = (name: string) => {
        const child = childElements(item).find((c: XmlElement) => c.local === name);
        const text = child ? textContent(child).trim() : '';
        return text === '' ? null : text;
      };
      const entry = { formID: read('formID'), name: read('name'), version: read('version'), hash: read('hash'), downloadUrl: read('downloadUrl'), manifestUrl: read('manifestUrl') };
      if (!entry.formID || !entry.name || !entry.downloadUrl) throw new Error('Collect rejects the whole list');
      if (!entry.hash?.startsWith('md5:')) throw new Error('FormWithNoHash: the download would fail');
      return entry;
    });
}

describe('OpenRosa documents', () => {
  it('writes a form list Collect accepts, escaping names and URLs', () => {
    const xml = formListXml([
      { formId: 'household', name: 'Household <survey> & more', version: '2024010101', md5: 'ABCDEF0123456789ABCDEF0123456789', downloadUrl: 'https://x/f.xml?a=1&b=2', manifestUrl: 'https://x/m' },
      { formId: 'noversion', name: '', version: '', md5: '0'.repeat(32), downloadUrl: 'https://x/g.xml' },
    ]);
    expect(collectReadsFormList(xml)).toEqual([
      { formID: 'household', name: 'Household <survey> & more', version: '2024010101', hash: 'md5:abcdef0123456789abcdef0123456789', downloadUrl: 'https://x/f.xml?a=1&b=2', manifestUrl: 'https://x/m' },
      { formID: 'noversion', name: 'noversion', version: null, hash: `md5:${'0'.repeat(32)}`, downloadUrl: 'https://x/g.xml', manifestUrl: null },
    ]);
  });

  it('adds a description only in verbose lists', () => {
    const entry = { formId: 'f', name: 'F', version: '1', md5: '1'.repeat(32), downloadUrl: 'u', descriptionText: 'About F' };
    expect(formListXml([entry])).not.toContain('descriptionText');
    expect(formListXml([entry], true)).toContain('<descriptionText>About F</descriptionText>');
  });

  it('refuses to write a hash that is not an MD5 digest', () => {
    expect(() => formListXml([{ formId: 'f', name: 'F', version: '', md5: 'nope', downloadUrl: 'u' }])).toThrow(/MD5/);
  });

  it('writes a manifest with every mediaFile complete', () => {
    const root = parseXmlTree(manifestXml([{ filename: 'villages.csv', md5: 'a'.repeat(32), downloadUrl: 'https://x/a/villages.csv' }]));
    expect(root.uri).toBe('http://openrosa.org/xforms/xformsManifest');
    const [file] = childElements(root, 'mediaFile');
    expect(childElements(file!).map((c) => [c.local, textContent(c)])).toEqual([
      ['filename', 'villages.csv'],
      ['hash', `md5:${'a'.repeat(32)}`],
      ['downloadUrl', 'https://x/a/villages.csv'],
    ]);
  });

  it('writes the response envelope whose first message Collect shows', () => {
    const root = parseXmlTree(openRosaResponseXml('Form "x" is closed & takes no more data', 'error'));
    expect(root.local).toBe('OpenRosaResponse');
    expect(root.uri).toBe('http://openrosa.org/http/response');
    const [message] = childElements(root, 'message');
    expect(textContent(message!)).toBe('Form "x" is closed & takes no more data');
  });

  it('sends the OpenRosa headers with an HTTP date', () => {
    expect(openRosaHeaders(new Date(Date.UTC(2011, 1, 14, 16, 48, 15)), 10_000_000)).toEqual({
      'x-openrosa-version': '1.0',
      date: 'Mon, 14 Feb 2011 16:48:15 GMT',
      'content-language': 'en',
      'x-openrosa-accept-content-length': '10000000',
    });
  });
});
