import { describe, expect, it } from 'vitest';
import { XmlError, XmlStreamParser, attributeValue, childElements, parseXml, parseXmlTree, textContent } from './index.js';
import type { XmlLimits } from './index.js';

function xmlErrorOf(run: () => unknown): XmlError {
  try {
    run();
  } catch (error) {
    if (error instanceof XmlError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

const codeOf = (input: string | Uint8Array, limits: Partial<XmlLimits> = {}): string =>
  xmlErrorOf(() => parseXmlTree(input, limits)).code;

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>`;

describe('parseXmlTree', () => {
  it('builds elements with namespaces, attributes and merged text', () => {
    const root = parseXmlTree(
      '<?xml version="1.0" encoding="UTF-8"?><data xmlns:orx="http://openrosa.org/xforms" id="f" orx:version="3">' +
        '<q>a &amp; b <![CDATA[<raw>]]> &#233;</q><orx:meta><orx:instanceID>uuid:1</orx:instanceID></orx:meta></data>',
    );
    expect(root.local).toBe('data');
    expect(root.attributes.map((a) => a.name)).toEqual(['id', 'orx:version']);
    expect(attributeValue(root, 'version')).toBe('3');
    expect(attributeValue(root, 'version', '')).toBeUndefined();
    const [q, meta] = childElements(root);
    expect(q?.children).toEqual(['a & b <raw> é']);
    expect(meta).toMatchObject({ name: 'orx:meta', local: 'meta', prefix: 'orx', uri: 'http://openrosa.org/xforms' });
    expect(textContent(root)).toBe('a & b <raw> éuuid:1');
  });

  it('decodes UTF-8 split across chunks and drops a byte-order mark', () => {
    const bytes = Buffer.from('\ufeff<a>héllo wörld ✓ 😀</a>', 'utf8');
    let text = '';
    const parser = new XmlStreamParser({ text: (chunk) => (text += chunk) });
    for (const byte of bytes) parser.write(Uint8Array.of(byte));
    parser.end();
    expect(text).toBe('héllo wörld ✓ 😀');
    expect(parseXmlTree('\ufeff<a/>').local).toBe('a');
  });

  it('streams start, text and end events with depths', () => {
    const events: string[] = [];
    parseXml('<a x="1"><b>t</b><c/></a>', {
      startElement: (tag) => events.push(`start ${tag.name} ${tag.depth} ${tag.attributes.length}`),
      text: (text, depth) => events.push(`text ${text} ${depth}`),
      endElement: (tag, depth) => events.push(`end ${tag.name} ${depth}`),
    });
    expect(events).toEqual(['start a 1 1', 'start b 2 0', 'text t 2', 'end b 2', 'start c 2 0', 'end c 2', 'end a 1']);
  });
});

describe('hostile XML', () => {
  it('refuses any DOCTYPE: entity bombs, external entities, plain DTDs', () => {
    expect(codeOf(BILLION_LAUGHS)).toBe('xml.doctype_forbidden');
    expect(codeOf('<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>')).toBe('xml.doctype_forbidden');
    expect(codeOf('<!DOCTYPE html><a/>')).toBe('xml.doctype_forbidden');
    const error = xmlErrorOf(() => parseXmlTree(BILLION_LAUGHS));
    expect(error.line).toBe(7);
    expect(error.message).toMatch(/DOCTYPE/);
  });

  it('never expands entities it does not know', () => {
    expect(codeOf('<a>&lol;</a>')).toBe('xml.malformed');
  });

  it('stops 10,000-deep nesting at the depth cap, quickly', () => {
    const deep = `${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`;
    const started = performance.now();
    expect(codeOf(deep)).toBe('xml.too_deep');
    expect(performance.now() - started).toBeLessThan(200);
    expect(codeOf('<a><b><c/></b></a>', { maxDepth: 2 })).toBe('xml.too_deep');
    expect(parseXmlTree('<a><b/></a>', { maxDepth: 2 }).local).toBe('a');
  });

  it('caps total size before parsing, counting every chunk', () => {
    expect(codeOf(`<a>${'x'.repeat(2000)}</a>`, { maxBytes: 1000 })).toBe('xml.too_large');
    expect(codeOf(`<a>${'é'.repeat(600)}</a>`, { maxBytes: 1000 })).toBe('xml.too_large');
    const parser = new XmlStreamParser({}, { maxBytes: 100 });
    parser.write('<a>');
    expect(xmlErrorOf(() => {
      for (let i = 0; i < 20; i += 1) parser.write('<b>xx</b>');
    }).code).toBe('xml.too_large');
  });

  it('caps element count, attributes per element and text length', () => {
    expect(codeOf(`<a>${'<b/>'.repeat(101)}</a>`, { maxElements: 100 })).toBe('xml.too_many_elements');
    const attributes = Array.from({ length: 65 }, (_, i) => `a${i}="v"`).join(' ');
    expect(codeOf(`<a ${attributes}/>`)).toBe('xml.too_many_attributes');
    expect(codeOf(`<a>${'x'.repeat(101)}</a>`, { maxTextLength: 100 })).toBe('xml.text_too_long');
    expect(codeOf(`<a v="${'x'.repeat(101)}"/>`, { maxTextLength: 100 })).toBe('xml.text_too_long');
  });

  it('reports malformed XML with line and column', () => {
    const error = xmlErrorOf(() => parseXmlTree('<a>\n  <b></c>\n</a>'));
    expect(error.code).toBe('xml.malformed');
    expect(error.line).toBe(2);
    expect(error.column).toBeGreaterThan(1);
    expect(error.message).toMatch(/line 2, column \d+/);
    for (const bad of ['', 'text only', '<a>', '<a/><b/>', '<a b="1" b="2"/>', '<p:a/>', '<a>]]></a>']) {
      expect(codeOf(bad)).toBe('xml.malformed');
    }
  });

  it('refuses invalid UTF-8 and other declared encodings', () => {
    expect(codeOf(Uint8Array.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]))).toBe('xml.malformed');
    expect(codeOf('<?xml version="1.0" encoding="ISO-8859-1"?><a/>')).toBe('xml.unsupported_encoding');
    expect(parseXmlTree('<?xml version="1.0" encoding="utf-8"?><a/>').local).toBe('a');
  });

  it('refuses __proto__ and constructor as an element or attribute name', () => {
    expect(codeOf('<a><__proto__>x</__proto__></a>')).toBe('xml.forbidden_name');
    expect(codeOf('<a __proto__="x"/>')).toBe('xml.forbidden_name');
    expect(codeOf('<a><constructor><prototype>x</prototype></constructor></a>')).toBe('xml.forbidden_name');
    expect(codeOf('<a constructor="x"/>')).toBe('xml.forbidden_name');
  });

  it('keeps failing after the first error', () => {
    const parser = new XmlStreamParser({});
    const first = xmlErrorOf(() => parser.write('<!DOCTYPE a><a>'));
    expect(xmlErrorOf(() => parser.write('</a>'))).toBe(first);
    expect(xmlErrorOf(() => parser.end())).toBe(first);
  });
});
